"""A judged file against the running app: duplicates of posts already in the calendar, then the
valid rows created through the planner inside one ImportBatch, which can be undone in one step.

Thread-safe: the dialog calls `commit` from a worker thread (SQLite sessions are per call and
the runtime forwards change notices to its loop).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import OutpostError
from app.core.models import AccountInfo, PostContent, PostSpec, Problem
from app.importer.columns import Mapping
from app.importer.export import export
from app.importer.rows import (
    ImportOptions,
    ImportRow,
    RowStatus,
    Sheet,
    Validator,
    core_rules,
    mark_duplicates,
    parse_rows,
)
from app.store import importing

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

CHUNK = 200  # posts per transaction: progress and Cancel between chunks


def accounts_of(runtime: Runtime) -> list[AccountInfo]:
    return [
        AccountInfo(a.id, a.platform, a.handle, a.display_name, a.timezone, a.server, dict(a.settings))
        for a in runtime.planner.accounts()
    ]


def adapter_validator(runtime: Runtime) -> Validator:
    """Each account judged by its platform adapter, the same check the editor runs."""

    def validate(content: PostContent, account: AccountInfo) -> list[Problem]:
        try:
            adapter = runtime.adapter(account.platform)
        except ValueError:  # no adapter for this platform yet: its published rules still apply
            return core_rules(content, account)
        return adapter.validate(content, account)

    return validate


def judge(runtime: Runtime, sheet: Sheet, mapping: Mapping, options: ImportOptions,
          now: datetime | None = None) -> list[ImportRow]:
    """Every row of the sheet judged against the user's accounts and existing posts."""
    rows = parse_rows(sheet, mapping, accounts_of(runtime), options, now or runtime.clock(),
                      validator=adapter_validator(runtime), duplicates=False)
    specs = [r.spec for r in rows if r.spec is not None]
    if not specs:
        return mark_duplicates(rows)
    dated = [s.scheduled_at for s in specs if s.scheduled_at is not None]
    with runtime.db.read() as session:
        existing = importing.existing_posts(
            session, {a for s in specs for a in s.account_ids}, min(dated, default=None), max(dated, default=None),
            undated=len(dated) < len(specs))
    return mark_duplicates(rows, existing)


@dataclass
class ImportResult:
    batch_id: int | None
    post_ids: dict[int, int] = field(default_factory=dict)  # spreadsheet row -> post id
    refused: dict[int, str] = field(default_factory=dict)  # row -> the planner's reason
    cancelled: bool = False

    @property
    def imported(self) -> int:
        return len(self.post_ids)


def commit(
    runtime: Runtime,
    rows: Sequence[ImportRow],
    *,
    source_name: str,
    all_or_nothing: bool = False,
    as_drafts: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk: int = CHUNK,
) -> ImportResult:
    """Create the valid rows' posts in one ImportBatch.

    All or nothing: any invalid or duplicate row refuses the whole file, and a refusal by the
    planner undoes what was created. Cancel undoes the batch too, so a cancelled import leaves
    nothing behind. Raises OutpostError (nothing written) when there is nothing to import.
    """
    wanted = [r for r in rows if r.status is RowStatus.VALID and r.spec is not None]
    problems = [r for r in rows if r.status is not RowStatus.VALID]
    if all_or_nothing and problems:
        raise OutpostError(f"{len(problems)} of {len(rows)} rows have problems (first: row {problems[0].number}); "
                           "nothing was imported. Fix them, or import only the valid rows.")
    if not wanted:
        raise OutpostError("No row can be imported; fix the rows marked invalid and try again.")
    with runtime.db.write() as session:
        batch_id = importing.create_batch(session, source_name, len(rows))
    result = ImportResult(batch_id)
    planner = runtime.planner
    total = len(wanted)
    if progress:
        progress(0, total)
    for start in range(0, total, chunk):
        if cancelled is not None and cancelled():
            undo(runtime, batch_id)
            return ImportResult(batch_id, cancelled=True)
        part = wanted[start : start + chunk]
        specs: list[PostSpec] = [_final(r.spec, as_drafts) for r in part if r.spec is not None]
        try:
            ids = planner.create_posts(specs, import_batch_id=batch_id)
            result.post_ids.update({r.number: i for r, i in zip(part, ids, strict=True)})
        except OutpostError:
            # One row the planner refuses: find it (and any other) row by row.
            for r, spec in zip(part, specs, strict=True):
                try:
                    result.post_ids[r.number] = planner.create_post(spec, import_batch_id=batch_id)
                except OutpostError as exc:
                    if all_or_nothing:
                        undo(runtime, batch_id)
                        raise OutpostError(f"Row {r.number}: {exc} Nothing was imported.") from exc
                    result.refused[r.number] = str(exc)
        if progress:
            progress(min(start + chunk, total), total)
    with runtime.db.write() as session:
        importing.finish_batch(session, batch_id, result.imported)
    return result


def _final(spec: PostSpec | None, as_drafts: bool) -> PostSpec:
    assert spec is not None
    return replace(spec, draft=True) if as_drafts else spec


def export_posts(runtime: Runtime, path: Path, start: datetime | None = None, end: datetime | None = None) -> int:
    """Write the posts scheduled in [start, end) (every post when both are None) to .xlsx or .csv."""
    with runtime.db.read() as session:
        rows = importing.export_rows(session, start, end)
    return export(rows, path)


def undo(runtime: Runtime, batch_id: int) -> importing.UndoResult:
    """Remove an import's posts in one transaction (posts a platform already has are kept)."""
    with runtime.db.write() as session:
        outcome = importing.undo_batch(session, batch_id, runtime.clock())
    # The planner's change notice re-arms the publisher and refreshes the calendar.
    runtime.planner.notify_changed("posts")
    return outcome
