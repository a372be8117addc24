"""A read-only look at the posts of one date range, before the ORM and the engine are loaded.

At start-up the window paints at once, then spends about 300 ms importing SQLAlchemy and the
engine before it can show a single post. This reads the visible range with the standard
library's sqlite3 instead, so the calendar fills in right after the first paint; the engine's
own read replaces it a moment later. It never writes: the file is opened read-only, and any
doubt (no file, a schema that is not the current one, a lock, damage) returns None, leaving the
normal path to report it. tests/store/test_quickread.py keeps it equal to `Planner.posts_between`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.models import MediaItem, Platform, PostStatus, TargetStatus
from app.store.migrations import HEAD
from app.store.views import PostView, TargetView, account_name

_POSTS = """
SELECT id, status, text, scheduled_at, timezone, media, first_comment, thread, recurrence, overrides,
       series_id, title, extra, import_batch_id
FROM post WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
"""
_TARGETS = """
SELECT t.id, t.post_id, t.account_id, a.platform, a.display_name, a.handle, t.status, t.scheduled_at, t.due_at,
       t.external_id, t.external_url, t.attempts, t.last_error, t.natively_scheduled
FROM target t JOIN account a ON a.id = t.account_id
WHERE t.post_id IN (SELECT id FROM post WHERE scheduled_at >= ? AND scheduled_at < ?)
ORDER BY t.post_id, t.id
"""


def posts_between(db_file: Path, start: datetime, end: datetime) -> list[PostView] | None:
    """The posts scheduled in [start, end), as the planner would return them; None when unsure."""
    if not db_file.is_file():
        return None
    try:
        con = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        con.execute("PRAGMA query_only = ON")
        version = con.execute("SELECT version_num FROM alembic_version").fetchone()
        if version is None or version[0] != HEAD:
            return None  # an upgrade is due: the engine migrates (with a backup) and reads after
        bounds = (_stored(start), _stored(end))
        targets: dict[int, list[TargetView]] = {}
        for row in con.execute(_TARGETS, bounds):
            targets.setdefault(row[1], []).append(_target(row))
        return [_post(row, tuple(targets.get(row[0], ()))) for row in con.execute(_POSTS, bounds)]
    except (sqlite3.Error, ValueError, TypeError, KeyError):
        return None
    finally:
        con.close()


def _stored(instant: datetime) -> str:
    """SQLAlchemy's SQLite text form of a UTC instant (app.store.schema.UTCDateTime)."""
    return instant.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _json(value: str | None, default: Any) -> Any:
    return default if value is None else json.loads(value)


def _target(row: Any) -> TargetView:
    (tid, post_id, account_id, platform, display_name, handle, status, scheduled_at, due_at,
     external_id, external_url, attempts, last_error, native) = row
    kind = Platform(platform)
    return TargetView(
        id=int(tid), post_id=int(post_id), account_id=int(account_id), platform=kind,
        account_label=account_name(display_name, handle, kind), status=TargetStatus(status),
        scheduled_at=_instant(scheduled_at), due_at=_instant(due_at),
        external_id=str(external_id), external_url=str(external_url), attempts=int(attempts),
        last_error=str(last_error), natively_scheduled=bool(native),
    )


def _post(row: Any, targets: tuple[TargetView, ...]) -> PostView:
    (pid, status, text, scheduled_at, timezone, media, first_comment, thread, recurrence, overrides,
     series_id, title, extra, import_batch_id) = row
    return PostView(
        id=int(pid), status=PostStatus(status), text=str(text), scheduled_at=_instant(scheduled_at),
        timezone=str(timezone),
        media=tuple(MediaItem.from_dict(m) for m in _json(media, []) or []),
        first_comment=str(first_comment), thread=tuple(_json(thread, []) or []),
        recurrence=_json(recurrence, None),
        overrides={int(k): v for k, v in (_json(overrides, {}) or {}).items()},
        targets=targets, series_id=series_id, title=str(title),
        extra=dict(_json(extra, {}) or {}),
        import_batch_id=import_batch_id,
    )
