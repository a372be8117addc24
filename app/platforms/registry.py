"""Which module implements which platform. Modules are imported on first use."""

from __future__ import annotations

import importlib
import os

from app.core.models import Platform
from app.platforms.base import Adapter, AdapterContext

# One line per platform: "module:Class". A platform missing here cannot be connected yet.
ADAPTERS: dict[Platform, str] = {
    Platform.SANDBOX: "app.platforms.sandbox:SandboxAdapter",
    Platform.BLUESKY: "app.platforms.bluesky:BlueskyAdapter",
    Platform.MASTODON: "app.platforms.mastodon:MastodonAdapter",
    Platform.THREADS: "app.platforms.threads:ThreadsAdapter",
    Platform.X: "app.platforms.x:XAdapter",
    Platform.TIKTOK: "app.platforms.tiktok:TikTokAdapter",
    Platform.LINKEDIN: "app.platforms.linkedin:LinkedInAdapter",
    Platform.PINTEREST: "app.platforms.pinterest:PinterestAdapter",
    Platform.FACEBOOK: "app.platforms.facebook:FacebookAdapter",
    Platform.INSTAGRAM: "app.platforms.instagram:InstagramAdapter",
    Platform.YOUTUBE: "app.platforms.youtube:YouTubeAdapter",
}


def available_platforms() -> list[Platform]:
    return [p for p in Platform if p in ADAPTERS]


def create_adapter(platform: Platform, context: AdapterContext) -> Adapter:
    try:
        spec = ADAPTERS[platform]
    except KeyError:
        raise ValueError(f"{platform.label} is not supported yet.") from None
    module_name, _, class_name = spec.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter: Adapter = cls(context)
    return adapter


def api_base_overrides(environ: dict[str, str] | None = None) -> dict[str, str]:
    """OUTPOST_API_BASE_<PLATFORM> values, keyed by platform value ("threads" -> URL)."""
    env = os.environ if environ is None else environ
    out = {}
    for platform in Platform:
        value = env.get(f"OUTPOST_API_BASE_{platform.value.upper()}")
        if value:
            out[platform.value] = value.rstrip("/")
    return out
