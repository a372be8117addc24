"""Outpost: plan, schedule and publish social-media posts from your own computer."""

from importlib import metadata

try:
    __version__ = metadata.version("outpost")
except metadata.PackageNotFoundError:  # running from a source tree or a frozen bundle without metadata
    __version__ = "0.1.0"

APP_NAME = "Outpost"
APP_ID = "app.outpost.Outpost"
