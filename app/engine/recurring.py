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


def spawn_next_occurrence(session: Session, post: Post, now: datetime, window: timedelta) -> Post | None:
    """Create the series' next occurrence after `post`, unless it exists or the series ended.

    Occurrences older than the catch-up window are not created one by one after a long
    absence: the series resumes at the first occurrence that can still publish.
    """
    if not post.recurrence or not post.series_id or post.scheduled_at is None or not post.anchor_local:
        return None
    rule = Recurrence.from_dict(post.recurrence)
    if not rule.repeats:
        return None
    tz = zone(post.timezone)
    anchor = datetime.fromisoformat(post.anchor_local)
    after = max(as_utc(post.scheduled_at), now - window)
    following = next_occurrence(rule, anchor, tz, after)
    if following is None:
        return None
    key = occurrence_key(following, post.timezone)
    exists = session.scalar(select(Post.id).where(Post.series_id == post.series_id, Post.occurrence_key == key))
    if exists is not None:
        return None
    nxt = Post(
        text=post.text, title=post.title, media=list(post.media or []), first_comment=post.first_comment,
        thread=list(post.thread or []), overrides=dict(post.overrides or {}), extra=dict(post.extra or {}),
        scheduled_at=following, timezone=post.timezone, recurrence=dict(post.recurrence),
        series_id=post.series_id, anchor_local=post.anchor_local, occurrence_key=key,
        status="scheduled",
    )
    for target in post.targets:
        if target.status == TargetStatus.CANCELLED.value:
            continue
        nxt.targets.append(Target(account_id=target.account_id, status=TargetStatus.SCHEDULED.value,
                                  scheduled_at=following, due_at=following))
    if not nxt.targets:
        return None
    session.add(nxt)
    session.flush()
    repo.refresh_post_status(nxt)
    log.info("next occurrence of series %s at %s", post.series_id, following.isoformat())
    return nxt
