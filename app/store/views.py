"""Read models handed to the UI and the CLI: plain frozen values, never live ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.core.models import (
    AccountStatus,
    AttemptOutcome,
    MediaItem,
    Platform,
    PostStatus,
    TargetStatus,
)
from app.core.timeutil import iso_utc


@dataclass(frozen=True)
class AccountView:
    id: int
    platform: Platform
    handle: str
    display_name: str
    status: AccountStatus
    timezone: str
    server: str = ""
    is_default: bool = False
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.display_name or self.handle} · {self.platform.label}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "platform": self.platform.value,
            "handle": self.handle,
            "name": self.display_name,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class TargetView:
    id: int
    post_id: int
    account_id: int
    platform: Platform
    account_label: str
    status: TargetStatus
    scheduled_at: datetime | None
    due_at: datetime | None
    external_id: str
    external_url: str
    attempts: int
    last_error: str
    natively_scheduled: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "platform": self.platform.value,
            "status": self.status.value,
            "external_id": self.external_id or None,
            "url": self.external_url or None,
            "attempts": self.attempts,
            "error": self.last_error or None,
            "natively_scheduled": self.natively_scheduled,
        }


@dataclass(frozen=True)
class PostView:
    id: int
    status: PostStatus
    text: str
    scheduled_at: datetime | None  # aware UTC; None for an undated draft
    timezone: str
    media: tuple[MediaItem, ...]
    first_comment: str
    thread: tuple[str, ...]
    recurrence: dict[str, object] | None
    overrides: dict[int, str]
    targets: tuple[TargetView, ...]
    series_id: str | None = None
    title: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    import_batch_id: int | None = None

    @property
    def platforms(self) -> tuple[Platform, ...]:
        return tuple(dict.fromkeys(t.platform for t in self.targets))

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"{t.account_label}: {t.last_error}" for t in self.targets if t.last_error)

    @property
    def natively_scheduled(self) -> bool:
        return any(t.natively_scheduled for t in self.targets)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status.value,
            "text": self.text,
            "scheduled_at": iso_utc(self.scheduled_at),
            "timezone": self.timezone,
            "first_comment": self.first_comment or None,
            "media": [m.to_dict() for m in self.media],
            "recurrence": self.recurrence,
            "targets": [t.to_json() for t in self.targets],
        }


@dataclass(frozen=True)
class AttemptView:
    id: int
    target_id: int
    account_label: str
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome
    http_status: int | None
    error: str
    duration_ms: int | None
    error_kind: str = ""


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    level: str  # "info", "warning", "error"
    message: str
    post_id: int | None = None
    target_id: int | None = None
    platform: str = ""
