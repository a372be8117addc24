"""The post editor: text with per-account counters, media, preview, schedule and repeat."""
