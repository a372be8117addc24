"""Read models handed to the UI and the CLI: plain frozen values, never live ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.core.models import (
    AccountStatus,
    AttemptOutcome,
    MediaItem,
    Platform,
    PostStatus,
    TargetStatus,
)
from app.core.timeutil import iso_utc

PROBLEM_TARGETS = frozenset({TargetStatus.FAILED, TargetStatus.MISSED, TargetStatus.NEEDS_REVIEW})
TARGET_PROBLEMS = {PostStatus.FAILED: TargetStatus.FAILED, PostStatus.MISSED: TargetStatus.MISSED,
                   PostStatus.NEEDS_REVIEW: TargetStatus.NEEDS_REVIEW}
# The post statuses a post with a problem target can have (the roll-up puts some above the problem).
SHOWN_WITH_PROBLEMS = (PostStatus.FAILED, PostStatus.MISSED, PostStatus.NEEDS_REVIEW, PostStatus.PARTIAL,
                       PostStatus.PUBLISHING)
_PROBLEM_WORDS = {TargetStatus.FAILED: "Failed", TargetStatus.MISSED: "Missed",
                  TargetStatus.NEEDS_REVIEW: "Unclear"}


def account_name(display_name: str, handle: str, platform: Platform) -> str:
    """"Ana · Bluesky"; a name that only repeats the platform ("Sandbox · Sandbox") is said once."""
    name = display_name or handle
    if not name or name.casefold() == platform.label.casefold():
        return platform.label
    return f"{name} · {platform.label}"


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
        return account_name(self.display_name, self.handle, self.platform)

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

    @property
    def problem_targets(self) -> tuple[TargetView, ...]:
        """The targets that failed, were missed or wait for a person's check."""
        return tuple(t for t in self.targets if t.status in PROBLEM_TARGETS)

    @property
    def partly_published(self) -> bool:
        """Out on some accounts, and failed, missed or unclear on another: it needs attention."""
        return self.status is PostStatus.PARTIAL and bool(self.problem_targets)

    @property
    def attention_note(self) -> str:
        """What went wrong where, in one line: "Failed on Mastodon (@me): server error"."""
        parts = []
        for t in self.problem_targets:
            what = _PROBLEM_WORDS[t.status]
            parts.append(f"{what} on {t.account_label}" + (f": {t.last_error}" if t.last_error else ""))
        return "; ".join(parts)

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


def attention_counts(counts: dict[PostStatus, int], per_target: dict[TargetStatus, int]) -> dict[PostStatus, int]:
    """The counts people see, in the window as in `outpost status`: a post counts as failed (missed,
    needs review) when any of its accounts is, so a partly failed post is under Failed and under
    Partly published; `per_target` is posts per target status (Planner.posts_per_target_status)."""
    shown = dict(counts)
    for post_status, target_status in TARGET_PROBLEMS.items():
        shown[post_status] = max(counts.get(post_status, 0), per_target.get(target_status, 0))
    return shown


def has_target_in(post: PostView, status: PostStatus) -> bool:
    """The post itself is in `status`, or one of its accounts is (a partly failed post is failed)."""
    target = TARGET_PROBLEMS.get(status)
    return post.status is status or (target is not None and any(t.status is target for t in post.targets))


def account_problems(posts: list[PostView]) -> dict[int, str]:
    """Each account's latest error among posts that need attention (the newest scheduled wins)."""
    problems: dict[int, tuple[datetime, str]] = {}
    for post in posts:
        when = post.scheduled_at or datetime.min.replace(tzinfo=UTC)
        for t in post.problem_targets:
            text = t.last_error or ("Missed: it was not published in time" if t.status is TargetStatus.MISSED
                                    else "Outpost could not tell whether it went out")
            if t.account_id not in problems or when >= problems[t.account_id][0]:
                problems[t.account_id] = (when, text)
    return {account: text for account, (_when, text) in problems.items()}


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
    recheck_at: datetime | None = None  # a lost answer Outpost checks again then (app/engine/retry_policy.py)


def shown_minute(a: AttemptView, due: datetime | None = None) -> datetime:
    """The minute a try belongs to, as people scheduled it.

    Timers fire and the publisher journals a try a moment before the due instant, so the try of
    the 21:24 post starts (and may even finish) at 21:23:59.9: within a minute before `due`, it is
    shown at `due`. Later tries (retries) show the minute the platform answered.
    """
    at = a.finished_at or a.started_at
    if due is not None and timedelta(0) <= due - a.started_at < timedelta(minutes=1):
        return due.replace(second=0, microsecond=0)
    return at.replace(second=0, microsecond=0)


def numbered_attempts(attempts: list[AttemptView]) -> list[tuple[int, AttemptView]]:
    """Each attempt with its try number on its own account (oldest first: the first try is try 1)."""
    tries: dict[int, int] = {}
    out = []
    for a in attempts:
        tries[a.target_id] = tries.get(a.target_id, 0) + 1
        out.append((tries[a.target_id], a))
    return out


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    level: str  # "info", "warning", "error"
    message: str
    post_id: int | None = None
    target_id: int | None = None
    platform: str = ""
