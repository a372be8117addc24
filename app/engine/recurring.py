"""The next occurrence of a recurring post, created when the current one leaves "scheduled".

Each occurrence is its own Post (so one can be moved or edited alone); a unique
(series_id, occurrence_key) makes creating the same occurrence twice impossible.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.models import TargetStatus
from app.core.recurrence import Recurrence, next_occurrence
from app.core.timeutil import as_utc, zone
from app.store import repo
from app.store.schema import Post, Target

log = logging.getLogger("outpost.recurring")


def occurrence_key(instant: datetime, tz_name: str) -> str:
    return as_utc(instant).astimezone(zone(tz_name)).date().isoformat()


def next_free_occurrence(rule: Recurrence, anchor: datetime, tz_name: str, after: datetime,
                         taken: set[str]) -> datetime | None:
    """The first occurrence after `after` whose date no post of the series holds yet.

    A date is held by an occurrence moved or cancelled on its own: the rule skips it, and the
    series goes on with the next one (it used to stop there)."""
    tz = zone(tz_name)
    for _ in range(400):
        following = next_occurrence(rule, anchor, tz, after)
        if following is None:
            return None
        if occurrence_key(following, tz_name) not in taken:
            return following
        after = following
    return None


def copy_occurrence(post: Post, at: datetime, *, key: str, recurrence: dict[str, object] | None,
                    series_id: str | None = None, anchor_local: str | None = None,
                    status: TargetStatus = TargetStatus.SCHEDULED) -> Post | None:
    """A new Post with `post`'s content and accounts at `at` (None when no account is left)."""
    nxt = Post(
        text=post.text, title=post.title, media=list(post.media or []), first_comment=post.first_comment,
        thread=list(post.thread or []), overrides=dict(post.overrides or {}), extra=dict(post.extra or {}),
        scheduled_at=at, timezone=post.timezone, recurrence=dict(recurrence) if recurrence else None,
        series_id=series_id or post.series_id, anchor_local=anchor_local or post.anchor_local,
        occurrence_key=key, status=status.value,
    )
    for target in post.targets:
        if target.status == TargetStatus.CANCELLED.value:
            continue
        due = at if status is TargetStatus.SCHEDULED else None
        nxt.targets.append(Target(account_id=target.account_id, status=status.value, scheduled_at=at, due_at=due))
    return nxt if nxt.targets else None


def series_keys(session: Session, series_id: str) -> set[str]:
    """The occurrence dates the series' stored posts hold."""
    rows = session.scalars(select(Post.occurrence_key).where(Post.series_id == series_id))
    return {k for k in rows if k}


def continued_after(session: Session, post: Post) -> bool:
    """True when the series already has a repeating occurrence after `post` (spawned before)."""
    rows = session.execute(select(Post.id, Post.scheduled_at, Post.recurrence).where(
        Post.series_id == post.series_id, Post.id != post.id)).all()
    mine = as_utc(post.scheduled_at) if post.scheduled_at else None
    return any(rec and at is not None and mine is not None and as_utc(at) > mine for _id, at, rec in rows)


def spawn_next_occurrence(session: Session, post: Post, now: datetime, window: timedelta) -> Post | None:
    """Create the series' next occurrence after `post`, unless the series ended.

    Occurrences older than the catch-up window are not created one by one after a long
    absence: the series resumes at the first occurrence that can still publish. A date already
    held by a post of the series (an occurrence moved or cancelled on its own) is passed over.
    """
    if not post.recurrence or not post.series_id or post.scheduled_at is None or not post.anchor_local:
        return None
    rule = Recurrence.from_dict(post.recurrence)
    if not rule.repeats:
        return None
    if continued_after(session, post):
        return None  # spawned already: one next occurrence per occurrence
    anchor = datetime.fromisoformat(post.anchor_local)
    after = max(as_utc(post.scheduled_at), now - window)
    taken = series_keys(session, post.series_id)
    following = next_free_occurrence(rule, anchor, post.timezone, after, taken)
    if following is None:
        return None
    nxt = copy_occurrence(post, following, key=occurrence_key(following, post.timezone), recurrence=post.recurrence)
    if nxt is None:
        return None
    session.add(nxt)
    session.flush()
    repo.refresh_post_status(nxt)
    log.info("next occurrence of series %s at %s", post.series_id, following.isoformat())
    return nxt
