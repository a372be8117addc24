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
from app.core.models import AccountInfo, PostContent, PostSpec, Problem, Severity
from app.core.recurrence import Recurrence, series_start
from app.core.timeutil import zone
from app.importer.columns import Mapping
from app.importer.duplicates import DuplicateIndex, text_key
from app.importer.export import export
from app.importer.reading import gc_paused
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
    from app.store.views import AccountView

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


class _Cancelled(Exception):
    """Raised inside the write transaction so that Cancel rolls everything back."""


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
    """Create the valid rows' posts in one ImportBatch, in one transaction.

    Every row is checked again as the planner checks a post (accounts loaded once), and again
    for duplicates against the calendar as it is now (one query); then the posts are written
    with executemany. All or nothing: any invalid or duplicate row refuses the whole file, and
    a refused row refuses it too. Cancel rolls the transaction back, so a cancelled import
    leaves nothing behind. Raises OutpostError (nothing written) when there is nothing to import.
    The publisher is told once, after the transaction.
    """
    wanted = [r for r in rows if r.status is RowStatus.VALID and r.spec is not None]
    problems = [r for r in rows if r.status is not RowStatus.VALID]
    if all_or_nothing and problems:
        raise OutpostError(f"{len(problems)} of {len(rows)} rows have problems (first: row {problems[0].number}); "
                           "nothing was imported. Fix them, or import only the valid rows.")
    if not wanted:
        raise OutpostError("No row can be imported; fix the rows marked invalid and try again.")
    if progress:
        progress(0, len(wanted))
    result = ImportResult(None)
    with gc_paused():  # tens of thousands of live rows: cycle collection would rescan them all, often
        return _commit(runtime, rows, wanted, source_name=source_name, all_or_nothing=all_or_nothing,
                       as_drafts=as_drafts, progress=progress, cancelled=cancelled, chunk=chunk, result=result)


def _commit(runtime: Runtime, rows: Sequence[ImportRow], wanted: list[ImportRow], *, source_name: str,
            all_or_nothing: bool, as_drafts: bool, progress: Callable[[int, int], None] | None,
            cancelled: Callable[[], bool] | None, chunk: int, result: ImportResult) -> ImportResult:
    planner = runtime.planner
    accounts = {a.id: a for a in planner.accounts()}
    total = len(wanted)
    checked: list[tuple[int, PostSpec]] = []
    duplicates = _calendar_duplicates(runtime, wanted)
    for start in range(0, total, chunk):
        if cancelled is not None and cancelled():
            return ImportResult(None, cancelled=True)
        for r in wanted[start : start + chunk]:
            try:
                if (hit := duplicates.get(r.number)) is not None:
                    raise OutpostError(hit)
                checked.append((r.number, check_spec(runtime, _final(r.spec, as_drafts), accounts)))
            except OutpostError as exc:
                if all_or_nothing:
                    raise OutpostError(f"Row {r.number}: {exc} Nothing was imported.") from exc
                result.refused[r.number] = str(exc)
        if progress:
            progress(min(start + chunk, total), total)
    if not checked:
        raise OutpostError("No row can be imported; fix the rows marked invalid and try again.")
    try:
        with runtime.db.write() as session:
            batch_id = importing.create_batch(session, source_name, len(rows))
            for start in range(0, len(checked), WRITE_CHUNK):
                if cancelled is not None and cancelled():
                    raise _Cancelled
                part = checked[start : start + WRITE_CHUNK]
                ids = importing.insert_posts(session, batch_id, [spec for _, spec in part])
                result.post_ids.update({number: i for (number, _), i in zip(part, ids, strict=True)})
            importing.finish_batch(session, batch_id, len(result.post_ids))
    except _Cancelled:
        return ImportResult(None, cancelled=True)
    result.batch_id = batch_id
    planner.notify_changed("posts")  # once per import: re-arms the publisher, refreshes the calendar
    return result


WRITE_CHUNK = 2000  # rows per executemany; Cancel is looked at between them


def check_spec(runtime: Runtime, spec: PostSpec, accounts: dict[int, AccountView]) -> PostSpec:
    """The planner's checks for a new post (`Planner.validate`: accounts, time, zone, repeat rule,
    media files, each adapter's rules), and a repeating post moved to its first occurrence."""
    errors = [p for p in runtime.planner.validate(spec, accounts=accounts) if p.severity is Severity.ERROR]
    if errors and not spec.draft:
        problem = errors[0]
        account = accounts.get(problem.account_id) if problem.account_id is not None else None
        raise OutpostError(f"{account.label}: {problem.message}" if account else problem.message)
    rule = Recurrence.from_dict(spec.recurrence)
    if rule.repeats and spec.scheduled_at is not None:
        start = series_start(rule, spec.scheduled_at, zone(spec.timezone))
        if start is None:
            raise OutpostError("The repeat rule has no occurrence before its end date; check Repeat until.")
        spec = replace(spec, scheduled_at=start)
    return spec


def _calendar_duplicates(runtime: Runtime, rows: Sequence[ImportRow]) -> dict[int, str]:
    """Rows that became duplicates of posts added to the calendar since the preview."""
    specs = [r.spec for r in rows if r.spec is not None]
    dated = [s.scheduled_at for s in specs if s.scheduled_at is not None]
    with runtime.db.read() as session:
        existing = importing.existing_posts(
            session, {a for s in specs for a in s.account_ids}, min(dated, default=None), max(dated, default=None),
            undated=len(dated) < len(specs))
    index = DuplicateIndex(existing)
    out: dict[int, str] = {}
    for r in rows:
        spec = r.spec
        assert spec is not None
        key = text_key(spec.text)
        for account_id in spec.account_ids:
            if (hit := index.find(account_id, spec.text, spec.scheduled_at, key)) is not None:
                out[r.number] = hit.describe()
                break
    return out


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
