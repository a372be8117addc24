"""What a finished connection flow hands to the store: the account row's values plus its secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.errors import OutpostError
from app.core.models import Platform


class ConnectionFailed(OutpostError):
    """The platform refused, or could not be reached, while connecting an account."""


@dataclass(frozen=True)
class ConnectedAccount:
    """Values for a new (or reconnected) account, and the secrets to put in the keyring for it."""

    platform: Platform
    handle: str
    display_name: str = ""
    server: str = ""  # Bluesky PDS or Mastodon instance; empty for Threads
    settings: dict[str, object] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{self.display_name or self.handle} ({self.platform.label})"
