"""Start the window (placeholder until the desktop app lands)."""

from __future__ import annotations

from pathlib import Path


def run(data_dir: Path, argv: list[str]) -> int:
    import sys

    print("The window is not built yet; use `outpost run` to publish headless.", file=sys.stderr)
    return 1
