"""Posts published since the last look, for the "also when a post is published" notification.

Failures reach the tray through the publisher's notices; successes are read from the event
journal (kind "published"), so a post published by `outpost run` or while the window was
closed is told the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.models import Platform
from app.store.db import Database
from app.store.schema import Event, Post

PUBLISHED_KINDS = ("published",)


@dataclass(frozen=True)
class Published:
    post_id: int
    platform: Platform | None
    text: str


def latest_event_id(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.max(Event.id))) or 0)


def published_since(db: Database, after_id: int, limit: int = 20) -> tuple[int, list[Published]]:
    """The newest event id, and the posts published after event `after_id` (oldest first, at most `limit`)."""
    with db.read() as s:
        newest = int(s.scalar(select(func.max(Event.id))) or 0)
        if newest <= after_id:
            return after_id, []
        rows = s.execute(
            select(Event.post_id, Event.platform, Post.text)
            .join(Post, Post.id == Event.post_id, isouter=True)
            .where(Event.id > after_id, Event.kind.in_(PUBLISHED_KINDS))
            .order_by(Event.id).limit(limit)
        ).all()
    out = []
    for post_id, platform, text in rows:
        try:
            known: Platform | None = Platform(platform)
        except ValueError:
            known = None
        out.append(Published(int(post_id or 0), known, text or ""))
    return newest, out
