"""Posts out to `.xlsx` or `.csv`, in the importer's own columns, so export -> import loses nothing.

Every CSV text cell goes through `injection.guard` (a leading apostrophe before = + - @ TAB CR),
and the importer removes exactly that apostrophe. In .xlsx a text cell is typed as text, which no
spreadsheet program runs, so no apostrophe is shown there. Dates are real Excel dates holding the wall-clock
time in the row's Time zone; a wall time that is ambiguous or missing in that zone (DST) is
written as ISO 8601 with its offset instead, so the instant survives exactly. CSV dates are
always ISO 8601 with an offset.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

from app.core.errors import OutpostError
from app.core.recurrence import WEEKDAY_NAMES, MonthEndPolicy, Recurrence, RepeatKind
from app.core.timeutil import is_ambiguous, wall_time_exists, zone
from app.importer.columns import Field
from app.importer.injection import guard, needs_guard
from app.importer.rows import THREAD_BREAK

EXPORT_COLUMNS: tuple[Field, ...] = (
    Field.DATE,
    Field.TIMEZONE,
    Field.ACCOUNT,
    Field.TEXT,
    Field.MEDIA,
    Field.ALT_TEXT,
    Field.FIRST_COMMENT,
    Field.TITLE,
    Field.REPEAT,
    Field.REPEAT_UNTIL,
    Field.STATUS,
)
DATE_FORMAT = "yyyy-mm-dd hh:mm"
DAY_FORMAT = "yyyy-mm-dd"
COLUMN_WIDTHS = {Field.DATE: 18, Field.TIMEZONE: 18, Field.ACCOUNT: 24, Field.TEXT: 60, Field.MEDIA: 40,
                 Field.ALT_TEXT: 30, Field.FIRST_COMMENT: 30, Field.TITLE: 20, Field.REPEAT: 16, Field.REPEAT_UNTIL: 14, Field.STATUS: 12}


@dataclass(frozen=True)
class ExportRow:
    """One post as a spreadsheet row. `accounts` are references the importer resolves."""

    scheduled_at: datetime | None  # aware
    timezone: str
    accounts: tuple[str, ...]
    text: str
    thread: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    alt_texts: tuple[str, ...] = ()  # one per media item, "" where there is none
    first_comment: str = ""
    title: str = ""
    recurrence: dict[str, object] | None = None
    status: str = "scheduled"

    def repeat(self) -> tuple[str, date | None]:
        return format_recurrence(self.recurrence)

    def full_text(self) -> str:
        return THREAD_BREAK.join((self.text, *self.thread))


def format_recurrence(data: dict[str, object] | None) -> tuple[str, date | None]:
    """The Repeat cell (`weekly:mon,thu`) and the Repeat until day of a stored recurrence."""
    rec = Recurrence.from_dict(data)
    if rec.kind is RepeatKind.ONCE:
        return "", None
    if rec.kind is RepeatKind.DAILY:
        spec = "daily"
    elif rec.kind is RepeatKind.WEEKLY:
        spec = "weekly:" + ",".join(WEEKDAY_NAMES[d] for d in rec.weekdays)
    else:
        spec = f"monthly:{rec.monthday}" + (":last" if rec.month_end is MonthEndPolicy.LAST_DAY else "")
    return spec, rec.until


def _date_cell(row: ExportRow, *, native: bool) -> object:
    if row.scheduled_at is None:
        return None
    tz = zone(row.timezone)
    try:
        local = row.scheduled_at.astimezone(tz)
    except OverflowError:  # 9999-12-31 23:00 UTC has no local time east of UTC: keep the instant
        return row.scheduled_at.isoformat()
    wall = local.replace(tzinfo=None)
    if native and wall_time_exists(wall, tz) and not is_ambiguous(wall, tz):
        return wall
    return local.isoformat()


def _values(row: ExportRow, *, native: bool) -> list[object]:
    repeat, until = row.repeat()
    cells: dict[Field, object] = {
        Field.DATE: _date_cell(row, native=native),
        Field.TIMEZONE: row.timezone,
        Field.ACCOUNT: ", ".join(row.accounts),
        Field.TEXT: row.full_text(),
        Field.MEDIA: "\n".join(row.media),
        Field.ALT_TEXT: "\n".join(a.replace("\n", " ") for a in row.alt_texts) if any(row.alt_texts) else "",
        Field.FIRST_COMMENT: row.first_comment,
        Field.TITLE: row.title,
        Field.REPEAT: repeat,
        Field.REPEAT_UNTIL: (until if native else until.isoformat()) if until else None,
        Field.STATUS: row.status,
    }
    out: list[object] = []
    for f in EXPORT_COLUMNS:
        value = cells[f]
        out.append((xlsx_text(value) if native else guard(value)) if isinstance(value, str) else value)
    return out


def xlsx_text(text: str) -> str:
    """An .xlsx text cell never runs as a formula, so "=SUM(…)" is written as it is; only text that
    already starts with an apostrophe before = + - @ gets one more, so `unguard` stays its inverse."""
    return "'" + text if text.startswith("'") and needs_guard(text) else text


def export(rows: Sequence[ExportRow], path: Path) -> int:
    """Write `rows` to `path` (.xlsx or .csv by its suffix); returns how many were written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            write_csv(rows, fh)
    elif suffix == ".xlsx":
        write_xlsx(rows, path)
    else:
        raise OutpostError(f"Export to .xlsx or .csv; {path.name} has neither suffix.")
    return len(rows)


def write_csv(rows: Sequence[ExportRow], fh: IO[str]) -> None:
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([f.value for f in EXPORT_COLUMNS])
    for row in rows:
        writer.writerow(["" if v is None else v for v in _values(row, native=False)])


def write_xlsx(rows: Sequence[ExportRow], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Posts")
    for index, f in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS[f]
    ws.freeze_panes = "A2"
    from openpyxl.cell import WriteOnlyCell

    bold = Font(bold=True)
    header = []
    for f in EXPORT_COLUMNS:
        cell = WriteOnlyCell(ws, value=f.value)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        out = []
        for f, value in zip(EXPORT_COLUMNS, _values(row, native=True), strict=True):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # XML cannot hold C0 control characters
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            if isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, date):
                cell.number_format = DAY_FORMAT
            elif f in (Field.TEXT, Field.MEDIA, Field.ALT_TEXT):
                cell.alignment = wrap
            out.append(cell)
        ws.append(out)
    wb.save(path)
