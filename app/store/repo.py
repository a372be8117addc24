"""Queries by name. Every function takes an open Session; the caller owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from app.core.models import (
    AccountInfo,
    AccountStatus,
    AttemptOutcome,
    MediaItem,
    Platform,
    PostStatus,
    TargetStatus,
)
from app.core.status import rollup
from app.core.timeutil import as_utc
from app.store.schema import Account, Attempt, Event, Post, Setting, Target
from app.store.views import AccountView, AttemptView, EventView, PostView, TargetView, account_name

# --- accounts -------------------------------------------------------------------------------


def live_accounts(session: Session) -> Sequence[Account]:
    return session.scalars(select(Account).where(Account.removed_at.is_(None)).order_by(Account.id)).all()


def account_view(a: Account) -> AccountView:
    return AccountView(
        id=a.id,
        platform=Platform(a.platform),
        handle=a.handle,
        display_name=a.display_name,
        status=AccountStatus(a.status),
        timezone=a.timezone,
        server=a.server,
        is_default=a.is_default,
        settings=dict(a.settings or {}),
    )


def account_info(a: Account) -> AccountInfo:
    return AccountInfo(
        id=a.id,
        platform=Platform(a.platform),
        handle=a.handle,
        display_name=a.display_name,
        timezone=a.timezone,
        server=a.server,
        settings=dict(a.settings or {}),
    )


def account_label(a: Account) -> str:
    return account_name(a.display_name, a.handle, Platform(a.platform))


# --- posts ----------------------------------------------------------------------------------


def _post_query() -> Any:
    return select(Post).options(selectinload(Post.targets).selectinload(Target.account))


def get_post(session: Session, post_id: int) -> Post | None:
    return session.scalars(_post_query().where(Post.id == post_id)).first()


def posts_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    statuses: Iterable[PostStatus] | None = None,
    account_ids: Iterable[int] | None = None,
    platforms: Iterable[Platform] | None = None,
    text: str | None = None,
) -> Sequence[Post]:
    q = _post_query().where(Post.scheduled_at >= start, Post.scheduled_at < end)
    if statuses:
        q = q.where(Post.status.in_([s.value for s in statuses]))
    if account_ids or platforms:
        sub = select(Target.post_id).join(Account)
        if account_ids:
            sub = sub.where(Target.account_id.in_(list(account_ids)))
        if platforms:
            sub = sub.where(Account.platform.in_([p.value for p in platforms]))
        q = q.where(Post.id.in_(sub))
    if text:
        q = q.where(Post.text.ilike(f"%{text}%"))
    return session.scalars(q.order_by(Post.scheduled_at, Post.id)).all()


def undated_drafts(session: Session) -> Sequence[Post]:
    q = _post_query().where(Post.scheduled_at.is_(None), Post.status == PostStatus.DRAFT.value)
    return session.scalars(q.order_by(Post.updated_at.desc())).all()


def posts_with_status(session: Session, status: PostStatus, limit: int = 500) -> Sequence[Post]:
    q = _post_query().where(Post.status == status.value).order_by(Post.scheduled_at).limit(limit)
    return session.scalars(q).all()


def status_counts(session: Session) -> dict[PostStatus, int]:
    rows = session.execute(select(Post.status, func.count()).group_by(Post.status)).all()
    counts = {s: 0 for s in PostStatus}
    for status, n in rows:
        counts[PostStatus(status)] = int(n)
    return counts


def refresh_post_status(post: Post) -> PostStatus:
    """Recompute a post's stored status from its targets; call after changing any target."""
    status = rollup(TargetStatus(t.status) for t in post.targets)
    post.status = status.value
    return status


def post_view(post: Post) -> PostView:
    return PostView(
        id=post.id,
        status=PostStatus(post.status),
        text=post.text,
        scheduled_at=post.scheduled_at,
        timezone=post.timezone,
        media=tuple(MediaItem.from_dict(m) for m in (post.media or [])),
        first_comment=post.first_comment,
        thread=tuple(post.thread or []),
        recurrence=post.recurrence,
        overrides={int(k): v for k, v in (post.overrides or {}).items()},
        targets=tuple(target_view(t) for t in post.targets),
        series_id=post.series_id,
        title=post.title,
        extra=dict(post.extra or {}),
        import_batch_id=post.import_batch_id,
    )


def target_view(t: Target) -> TargetView:
    return TargetView(
        id=t.id,
        post_id=t.post_id,
        account_id=t.account_id,
        platform=Platform(t.account.platform),
        account_label=account_label(t.account),
        status=TargetStatus(t.status),
        scheduled_at=t.scheduled_at,
        due_at=t.due_at,
        external_id=t.external_id,
        external_url=t.external_url,
        attempts=t.attempts,
        last_error=t.last_error,
        natively_scheduled=t.natively_scheduled,
    )


# --- the publisher's queries ------------------------------------------------------------------


def _active_due_query() -> Any:
    return (
        select(Target)
        .join(Account)
        .where(
            Target.status == TargetStatus.SCHEDULED.value,
            Target.due_at.is_not(None),
            Account.status == AccountStatus.ACTIVE.value,
            Account.removed_at.is_(None),
        )
    )


def next_due_instant(session: Session, exclude_platforms: Iterable[str] = ()) -> datetime | None:
    q = (
        select(func.min(Target.due_at))
        .join(Account)
        .where(
            Target.status == TargetStatus.SCHEDULED.value,
            Account.status == AccountStatus.ACTIVE.value,
            Account.removed_at.is_(None),
        )
    )
    excluded = list(exclude_platforms)
    if excluded:
        q = q.where(Account.platform.not_in(excluded))
    value = session.scalar(q)
    if value is None:
        return None
    return as_utc(value)


def next_recheck_instant(session: Session) -> datetime | None:
    """The next check of an unknown outcome the platform could not be asked about (app/engine/retry_policy.py)."""
    value = session.scalar(select(func.min(Attempt.recheck_at)).where(Attempt.recheck_at.is_not(None)))
    return None if value is None else as_utc(value)


def due_targets(session: Session, until: datetime, exclude_platforms: Iterable[str] = (),
                limit: int | None = None) -> Sequence[Target]:
    """Scheduled targets due by `until`, soonest first; at most `limit` of them."""
    q = _active_due_query().where(Target.due_at <= until)
    excluded = list(exclude_platforms)
    if excluded:
        q = q.where(Account.platform.not_in(excluded))
    q = q.options(selectinload(Target.post), selectinload(Target.account)).order_by(Target.due_at, Target.id)
    if limit is not None:
        q = q.limit(limit)
    return session.scalars(q).all()


def claim_targets(session: Session, target_ids: Sequence[int]) -> list[int]:
    """Compare-and-set SCHEDULED -> PUBLISHING; returns the ids this caller won (P2)."""
    if not target_ids:
        return []
    result = session.execute(
        update(Target)
        .where(Target.id.in_(list(target_ids)), Target.status == TargetStatus.SCHEDULED.value)
        .values(status=TargetStatus.PUBLISHING.value)
        .returning(Target.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


def publishing_targets(session: Session) -> Sequence[Target]:
    q = (
        select(Target)
        .where(Target.status == TargetStatus.PUBLISHING.value)
        .options(selectinload(Target.post), selectinload(Target.account), selectinload(Target.attempt_rows))
    )
    return session.scalars(q).all()


def open_attempt(target: Target) -> Attempt | None:
    for attempt in reversed(target.attempt_rows):
        if attempt.outcome in (AttemptOutcome.IN_FLIGHT.value, AttemptOutcome.UNKNOWN.value):
            return attempt
    return None


def attempts_for_post(session: Session, post_id: int) -> list[AttemptView]:
    q = (
        select(Attempt)
        .join(Target)
        .where(Target.post_id == post_id)
        .options(selectinload(Attempt.target).selectinload(Target.account))
        .order_by(Attempt.id)
    )
    return [
        AttemptView(
            id=a.id,
            target_id=a.target_id,
            account_label=account_label(a.target.account),
            started_at=a.started_at,
            finished_at=a.finished_at,
            outcome=AttemptOutcome(a.outcome),
            http_status=a.http_status,
            error=a.error,
            duration_ms=a.duration_ms,
            error_kind=a.error_kind,
            recheck_at=as_utc(a.recheck_at) if a.recheck_at is not None else None,
        )
        for a in session.scalars(q).all()
    ]


# --- events and settings ------------------------------------------------------------------------


def add_event(
    session: Session,
    message: str,
    *,
    level: str = "info",
    kind: str = "",
    post_id: int | None = None,
    target_id: int | None = None,
    platform: str = "",
    at: datetime | None = None,
) -> None:
    event = Event(level=level, kind=kind, message=message, post_id=post_id, target_id=target_id,
                  platform=platform)
    if at is not None:
        event.at = at
    session.add(event)


def recent_events(session: Session, limit: int = 200) -> list[EventView]:
    rows = session.scalars(select(Event).order_by(Event.id.desc()).limit(limit)).all()
    return [
        EventView(id=e.id, at=e.at, level=e.level, message=e.message, post_id=e.post_id,
                  target_id=e.target_id, platform=e.platform)
        for e in rows
    ]


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.get()


def set_setting(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)


def search_filter(text: str) -> Any:
    like = f"%{text}%"
    return or_(Post.text.ilike(like), Post.first_comment.ilike(like))
