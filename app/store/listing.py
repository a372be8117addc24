"""Posts by filter, a page at a time with the full count, and the summaries `outpost status` shows.

A listing never stops at a hidden limit: the caller asks for a page and is told the total, so it
can say how many posts it left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, selectinload

from app.core.models import AccountStatus, Platform, PostStatus, TargetStatus
from app.core.timeutil import as_utc
from app.store.schema import Account, Attempt, Post, Target


@dataclass(frozen=True)
class PostFilter:
    """Which posts to list; an empty field does not filter."""

    statuses: tuple[PostStatus, ...] = ()
    account_ids: tuple[int, ...] = ()
    platforms: tuple[Platform, ...] = ()
    start: datetime | None = None  # due at or after (undated posts are left out when set)
    end: datetime | None = None  # due before
    text: str = ""
    labels: tuple[str, ...] = ()  # posts with any of these labels, once posts carry labels

    def conditions(self) -> list[Any]:
        if self.labels:
            raise ValueError("Posts have no labels yet; leave out the label filter.")
        out: list[Any] = []
        if self.statuses:
            out.append(Post.status.in_([s.value for s in self.statuses]))
        if self.start is not None:
            out.append(Post.scheduled_at >= self.start)
        if self.end is not None:
            out.append(Post.scheduled_at < self.end)
        if self.account_ids or self.platforms:
            sub = select(Target.post_id).join(Account)
            if self.account_ids:
                sub = sub.where(Target.account_id.in_(list(self.account_ids)))
            if self.platforms:
                sub = sub.where(Account.platform.in_([p.value for p in self.platforms]))
            out.append(Post.id.in_(sub))
        if self.text:
            out.append(Post.text.ilike(f"%{self.text}%"))
        return out


def find_posts(session: Session, wanted: PostFilter, *, limit: int | None = None,
               offset: int = 0) -> tuple[Sequence[Post], int]:
    """One page of the posts `wanted` selects, soonest first and undated ones last, and how many
    there are in all."""
    conditions = wanted.conditions()
    total = int(session.scalar(select(func.count()).select_from(Post).where(*conditions)) or 0)
    q = (select(Post).options(selectinload(Post.targets).selectinload(Target.account)).where(*conditions)
         .order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id).offset(offset))
    if limit is not None:
        q = q.limit(limit)
    return session.scalars(q).all(), total


@dataclass(frozen=True)
class HeldAccount:
    """Scheduled posts that cannot go out until the person fixes this account."""

    account_id: int
    platform: Platform
    label: str
    status: AccountStatus
    reason: str  # what the platform said, e.g. the sign-in was revoked
    posts: int


def held_accounts(session: Session) -> list[HeldAccount]:
    """Accounts that are not active but have scheduled posts waiting on them."""
    rows = session.execute(
        select(Account, func.count(distinct(Target.post_id)))
        .join(Target, Target.account_id == Account.id)
        .where(Target.status == TargetStatus.SCHEDULED.value, Account.status != AccountStatus.ACTIVE.value,
               Account.removed_at.is_(None))
        .group_by(Account.id).order_by(Account.id)
    ).all()
    return [HeldAccount(a.id, Platform(a.platform), _handle(a), AccountStatus(a.status), a.status_reason or "",
                        int(n)) for a, n in rows]


def _handle(a: Account) -> str:
    handle = a.handle if a.handle.startswith("@") or "." in a.handle else f"@{a.handle}"
    return f"{Platform(a.platform).label} {handle}"


def posts_per_target_status(session: Session) -> dict[TargetStatus, int]:
    """How many posts have at least one account in each status (a partly failed post counts as failed)."""
    rows = session.execute(select(Target.status, func.count(distinct(Target.post_id))).group_by(Target.status)).all()
    counts = {s: 0 for s in TargetStatus}
    for status, n in rows:
        counts[TargetStatus(status)] = int(n)
    return counts


@dataclass(frozen=True)
class Checking:
    """Posts whose answer was lost and whose platform could not be asked yet: Outpost checks again."""

    posts: int
    next_check: datetime | None


def checking(session: Session) -> Checking:
    """How many posts wait for another check of a lost answer, and when the next check is."""
    posts, first = session.execute(
        select(func.count(distinct(Target.post_id)), func.min(Attempt.recheck_at))
        .join(Attempt, Attempt.target_id == Target.id)
        .where(Attempt.recheck_at.is_not(None), Target.status == TargetStatus.PUBLISHING.value)).one()
    return Checking(int(posts or 0), as_utc(first) if first is not None else None)
