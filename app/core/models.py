"""Domain values shared by every layer: platforms, statuses, post content, problems.

Pure data: no Qt, no SQLAlchemy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Platform(StrEnum):
    SANDBOX = "sandbox"
    THREADS = "threads"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    PINTEREST = "pinterest"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"

    @property
    def label(self) -> str:
        return _PLATFORM_LABELS[self]


_PLATFORM_LABELS = {
    Platform.SANDBOX: "Sandbox",
    Platform.THREADS: "Threads",
    Platform.BLUESKY: "Bluesky",
    Platform.MASTODON: "Mastodon",
    Platform.X: "X",
    Platform.LINKEDIN: "LinkedIn",
    Platform.FACEBOOK: "Facebook Page",
    Platform.INSTAGRAM: "Instagram",
    Platform.PINTEREST: "Pinterest",
    Platform.TIKTOK: "TikTok",
    Platform.YOUTUBE: "YouTube",
}


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    DISABLED = "disabled"


class TargetStatus(StrEnum):
    """The life of one post on one account."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"  # outcome unknown: the user must check the platform
    MISSED = "missed"  # overdue beyond the catch-up window: waits for the user
    CANCELLED = "cancelled"


class PostStatus(StrEnum):
    """A post's status is the roll-up of its targets (see status.rollup)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIAL = "partial"  # some targets published, some not: never shown as a plain failure
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AttemptOutcome(StrEnum):
    IN_FLIGHT = "in_flight"  # journaled before the platform call; still open
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the request may have reached the platform


class ErrorKind(StrEnum):
    """How the publisher treats a failure (reliability.md P6)."""

    AUTH = "auth"  # refresh failed or was refused: reconnect the account
    RATE_LIMIT = "rate_limit"  # wait for the platform's reset, then try again
    TRANSIENT = "transient"  # nothing was created: safe to retry with backoff
    PERMANENT = "permanent"  # validation or policy: show the message, no retry
    UNKNOWN = "unknown"  # the request may have arrived: reconcile, never blind-retry


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    GIF = "gif"


@dataclass(frozen=True)
class MediaItem:
    """One attachment: a local file path or an http(s) URL."""

    source: str
    kind: MediaKind = MediaKind.IMAGE
    alt_text: str = ""
    mime_type: str = ""
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "kind": self.kind.value,
            "alt_text": self.alt_text,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MediaItem:
        def _int(key: str) -> int | None:
            value = data.get(key)
            return int(value) if isinstance(value, int | float | str) and str(value) != "" else None

        return cls(
            source=str(data["source"]),
            kind=MediaKind(str(data.get("kind") or "image")),
            alt_text=str(data.get("alt_text") or ""),
            mime_type=str(data.get("mime_type") or ""),
            size_bytes=_int("size_bytes"),
            width=_int("width"),
            height=_int("height"),
        )


@dataclass(frozen=True)
class PostContent:
    """What is published on one account: the text after any per-account override."""

    text: str
    media: tuple[MediaItem, ...] = ()
    first_comment: str = ""
    thread: tuple[str, ...] = ()  # further parts of a self-thread, after the first
    title: str = ""  # YouTube and Pinterest


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """A compose-time finding, shown next to the field it concerns."""

    field: str  # "text", "media", "first_comment", "scheduled_at", "account"
    message: str
    severity: Severity = Severity.ERROR
    account_id: int | None = None
    platform: Platform | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class AccountInfo:
    """What adapters and rules know about an account. Never carries a secret."""

    id: int
    platform: Platform
    handle: str
    display_name: str = ""
    timezone: str = "UTC"
    server: str = ""  # PDS or instance URL for Bluesky and Mastodon
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.display_name or self.handle} ({self.platform.label})"


@dataclass(frozen=True)
class PostSpec:
    """A request to create a post: what the editor, the importer and the CLI hand to the planner.

    `scheduled_at` is an aware instant (None for a draft without a date); `timezone` is the zone
    its wall-clock time was chosen in, which recurrence uses.
    """

    text: str
    account_ids: tuple[int, ...]
    scheduled_at: datetime | None = None
    timezone: str = "UTC"
    media: tuple[MediaItem, ...] = ()
    first_comment: str = ""
    thread: tuple[str, ...] = ()
    overrides: dict[int, str] = field(default_factory=dict)  # account id -> text for that account
    recurrence: dict[str, object] | None = None  # Recurrence.to_dict(); None = once
    draft: bool = False
    title: str = ""  # YouTube and Pinterest
    extra: dict[str, object] = field(default_factory=dict)  # platform options (board, privacy, ...)
