"""Outpost: plan, schedule and publish social-media posts from your own computer."""

from __future__ import annotations

APP_NAME = "Outpost"
APP_ID = "app.outpost.Outpost"
_FALLBACK_VERSION = "0.1.0"  # a source tree or a frozen bundle without metadata; keep equal to pyproject


def __getattr__(name: str) -> str:
    # Resolved on first use: importlib.metadata costs ~25 ms that start-up does not need.
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("outpost")
        except metadata.PackageNotFoundError:
            return _FALLBACK_VERSION
    raise AttributeError(name)
