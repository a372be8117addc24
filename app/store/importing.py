"""Queries for spreadsheet import and export: existing posts for the duplicate guard, import
batches (create, finish, undo), and posts as export rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.core.models import MediaItem, PostSpec, PostStatus, TargetStatus
from app.core.recurrence import Recurrence
from app.core.status import rollup
from app.core.timeutil import as_utc, zone
from app.importer.accounts import AccountResolver
from app.importer.duplicates import WINDOW, ExistingPost
from app.importer.export import ExportRow
from app.store import repo
from app.store.schema import Account, ImportBatch, Post, Target

# Targets in these states were never handed to a platform: undoing an import may delete them.
_UNDOABLE = {TargetStatus.DRAFT.value, TargetStatus.SCHEDULED.value, TargetStatus.CANCELLED.value,
             TargetStatus.MISSED.value}


def existing_posts(
    session: Session, account_ids: Iterable[int], start: datetime | None, end: datetime | None, *, undated: bool
) -> list[ExistingPost]:
    """Live posts on these accounts scheduled within 24 hours of [start, end], plus undated ones
    when `undated`; each with the text that account would publish (its override, if any)."""
    ids = list(set(account_ids))
    if not ids:
        return []
    conditions = []
    if start is not None and end is not None:
        conditions.append(and_(Post.scheduled_at >= start - WINDOW, Post.scheduled_at <= end + WINDOW))
    if undated:
        conditions.append(Post.scheduled_at.is_(None))
    if not conditions:
        return []
    q = (
        select(Target.account_id, Post.id, Post.text, Post.overrides, Post.scheduled_at)
        .join(Post, Target.post_id == Post.id)
        .where(Target.account_id.in_(ids), Target.status != TargetStatus.CANCELLED.value, or_(*conditions))
    )
    out = []
    for account_id, post_id, text, overrides, scheduled_at in session.execute(q):
        own = (overrides or {}).get(str(account_id))
        out.append(ExistingPost(account_id, own if isinstance(own, str) else text, scheduled_at, post_id=post_id))
    return out


def create_batch(session: Session, source_name: str, row_count: int) -> int:
    batch = ImportBatch(source_name=source_name[:500], row_count=row_count)
    session.add(batch)
    session.flush()
    return batch.id


def insert_posts(session: Session, batch_id: int, specs: Sequence[PostSpec]) -> list[int]:
    """Create checked posts and their targets with two executemany statements; the same rows
    the planner writes for each spec (status roll-up, series fields of repeating posts).

    Run inside the import's write transaction (BEGIN IMMEDIATE: no other writer), so the new
    ids are the ones SQLite would give: one past the largest. Values go through each column's
    own SQLAlchemy bind processor, so they are stored exactly as the ORM stores them."""
    if not specs:
        return []
    first_id = (session.scalar(select(func.max(Post.id))) or 0) + 1
    ids = list(range(first_id, first_id + len(specs)))
    post_rows: list[dict[str, object]] = []
    target_rows: list[dict[str, object]] = []
    rolled = {(s, n): rollup([s] * n).value for s in (TargetStatus.DRAFT, TargetStatus.SCHEDULED) for n in (0, 1)}
    for post_id, spec in zip(ids, specs, strict=True):
        dated = spec.scheduled_at is not None
        status = TargetStatus.DRAFT if spec.draft or not dated else TargetStatus.SCHEDULED
        rule = Recurrence.from_dict(spec.recurrence)
        accounts = list(dict.fromkeys(spec.account_ids))
        row: dict[str, object] = {
            "id": post_id, "text": spec.text, "title": spec.title, "media": [m.to_dict() for m in spec.media],
            "first_comment": spec.first_comment, "thread": list(spec.thread),
            "overrides": {str(k): v for k, v in spec.overrides.items()}, "extra": dict(spec.extra),
            "status": rolled[status, min(1, len(accounts))],  # n equal statuses roll up as one
            "scheduled_at": spec.scheduled_at, "timezone": spec.timezone,
            "recurrence": rule.to_dict() if rule.repeats else None, "import_batch_id": batch_id,
        }
        if rule.repeats and spec.scheduled_at is not None:
            local = as_utc(spec.scheduled_at).astimezone(zone(spec.timezone))
            row.update(series_id=uuid.uuid4().hex, anchor_local=local.replace(tzinfo=None).isoformat(),
                       occurrence_key=local.date().isoformat())
        post_rows.append(row)
        due = spec.scheduled_at if status is TargetStatus.SCHEDULED else None
        for account_id in accounts:
            target_rows.append({"post_id": post_id, "account_id": account_id, "status": status.value,
                                "scheduled_at": spec.scheduled_at, "due_at": due})
    bound: dict[tuple[type, object], object] = {}  # a post's time is bound once for it and its targets
    _executemany(session, Post.__table__, post_rows, bound)
    if target_rows:
        _executemany(session, Target.__table__, target_rows, bound)
    return ids


def _executemany(session: Session, table: Any, rows: list[dict[str, object]],
                 bound: dict[tuple[type, object], object]) -> None:
    """INSERT every row with one DB-API executemany: column defaults filled in (once per call, as
    the ORM would per row) and each value bound by its column type's processor."""
    conn = session.connection()
    dialect = conn.dialect
    names = [c.name for c in table.c if c.name in rows[0] or not c.primary_key]
    defaults: dict[str, object] = {}
    processors = []
    for name in names:
        column = table.c[name]
        if column.default is not None and not column.default.is_sequence:
            defaults[name] = column.default.arg(None) if column.default.is_callable else column.default.arg
        processors.append(column.type.dialect_impl(dialect).bind_processor(dialect))
    # Most JSON cells are empty ([] or {}): bind those once per column, not once per row.
    empty = [({} if process is None else {"l": process([]), "d": process({})}) if table.c[name].type.__class__.__name__
             == "JSON" else {} for name, process in zip(names, processors, strict=True)]
    kinds = [type(table.c[name].type) for name in names]
    fixed = {name: (process(defaults.get(name)) if process is not None else defaults.get(name))
             for name, process in zip(names, processors, strict=True)}
    params = []
    for row in rows:
        values = []
        for name, process, blank, kind in zip(names, processors, empty, kinds, strict=True):
            if name not in row:
                values.append(fixed[name])  # a default: the same for every row
                continue
            value = row[name]
            if blank and (value == [] or value == {}):
                values.append(blank["l" if isinstance(value, list) else "d"])
            elif process is None or value is None:
                values.append(value if process is None else process(value))
            elif value.__class__ is datetime:
                key = (kind, value)
                if (done := bound.get(key)) is None:
                    done = bound[key] = process(value)
                values.append(done)
            else:
                values.append(process(value))
        params.append(tuple(values))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, params)


def finish_batch(session: Session, batch_id: int, imported: int) -> None:
    batch = session.get(ImportBatch, batch_id)
    if batch is not None:
        batch.imported_count = imported


@dataclass(frozen=True)
class UndoResult:
    deleted: int
    kept: int  # already handed to a platform: published, publishing or waiting for review


def undo_batch(session: Session, batch_id: int, now: datetime) -> UndoResult:
    """Delete the batch's posts that no platform has seen; keep (and count) the others."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        from app.core.errors import OutpostError

        raise OutpostError(f"There is no import {batch_id}.")
    posts = session.scalars(select(Post).where(Post.import_batch_id == batch_id)).all()
    deleted = kept = 0
    for post in posts:
        if all(t.status in _UNDOABLE for t in post.targets):
            session.delete(post)
            deleted += 1
        else:
            kept += 1
    batch.undone_at = now
    repo.add_event(session, f"Undid import #{batch_id} ({batch.source_name}): {deleted} post(s) removed"
                   + (f", {kept} already published kept." if kept else "."), kind="import_undone")
    return UndoResult(deleted, kept)


def batch_post_ids(session: Session, batch_id: int) -> list[int]:
    return list(session.scalars(select(Post.id).where(Post.import_batch_id == batch_id).order_by(Post.id)))


def latest_batches(session: Session, limit: int = 20) -> Sequence[ImportBatch]:
    return session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)).all()


def export_rows(session: Session, start: datetime | None, end: datetime | None) -> list[ExportRow]:
    """Posts scheduled in [start, end) (all dated posts when a bound is None, plus undated drafts
    when both are None), oldest first, as export rows."""
    q = select(Post).options(selectinload(Post.targets))
    if start is not None:
        q = q.where(Post.scheduled_at >= start)
    if end is not None:
        q = q.where(Post.scheduled_at < end)
    if start is not None or end is not None:
        q = q.where(Post.scheduled_at.is_not(None))
    posts = session.scalars(q.order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id)).all()
    accounts = session.scalars(select(Account).order_by(Account.id)).all()
    resolver = AccountResolver([repo.account_info(a) for a in accounts if a.removed_at is None])
    infos = {a.id: repo.account_info(a) for a in accounts}
    rows = []
    for post in posts:
        targets = [t for t in post.targets if t.status != TargetStatus.CANCELLED.value] or list(post.targets)
        refs = tuple(resolver.reference(infos[t.account_id]) for t in targets if t.account_id in infos)
        rows.append(ExportRow(
            scheduled_at=post.scheduled_at,
            timezone=post.timezone,
            accounts=refs,
            text=post.text,
            thread=tuple(str(p) for p in post.thread or ()),
            media=tuple(MediaItem.from_dict(m).source for m in post.media or ()),
            alt_texts=tuple(MediaItem.from_dict(m).alt_text for m in post.media or ()),
            first_comment=post.first_comment,
            title=post.title,
            recurrence=post.recurrence,
            status=PostStatus(post.status).value,
        ))
    return rows
