"""Queries for spreadsheet import and export: existing posts for the duplicate guard, import
batches (create, finish, undo), and posts as export rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from app.core.models import MediaItem, PostStatus, TargetStatus
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
