"""Rows of a sheet judged one by one: valid (with the PostSpec to create), invalid (with reasons
a person understands), or a duplicate. Pure: accounts, existing posts and "now" are arguments.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from pathlib import Path

from app.core.errors import OutpostError
from app.core.models import AccountInfo, MediaItem, PostContent, PostSpec, PostStatus, Problem, Severity
from app.core.recurrence import Recurrence
from app.core.rules import rules_for, validate_content
from app.core.timeutil import local_zone_name, zone
from app.importer.accounts import AccountError, AccountResolver
from app.importer.columns import Field, Header, Mapping, auto_map, field_for_header, find_header
from app.importer.dates import (
    DateError,
    DateOrder,
    cell_to_datetime,
    detect_order,
    is_ambiguous_numeric,
    resolve_when,
)
from app.importer.duplicates import DuplicateIndex, ExistingPost, text_key
from app.importer.injection import unguard
from app.importer.media import MediaError, media_item, split_media
from app.importer.reading import MAX_DATA_ROWS, CellFault, CellValue, Table, gc_paused, read_table

THREAD_BREAK = "\n\n\n\n"  # Typefully's convention: three empty lines (four line breaks) start the next part
HOOTSUITE = "Hootsuite bulk file (no header row: date dd/mm/yyyy hh:mm, text, optional link)"

Validator = Callable[[PostContent, AccountInfo], list[Problem]]
_STATUS_WORDS = frozenset({s.value for s in PostStatus} | {"schedule"})


def core_rules(content: PostContent, account: AccountInfo) -> list[Problem]:
    """The platform's published limits, with server-reported values applied (as adapters do)."""
    return validate_content(content, rules_for(account.platform, dict(account.settings)))


class RowStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One finding about one cell: which column, what it held, and what is wrong."""

    message: str
    column: str = ""  # "Date (A)"
    value: str = ""

    def __str__(self) -> str:
        return f"{self.column}: {self.message}" if self.column else self.message


@dataclass(frozen=True, slots=True)
class RowCells:
    """A row's cells as read, looked up by field (the sheet's own tuple, not a copy per row)."""

    cells: tuple[CellValue, ...]
    mapping: Mapping
    media: CellValue = None  # several Media columns, merged

    def get(self, f: Field) -> CellValue:
        if f is Field.MEDIA and self.mapping.more_media:
            return self.media
        column = self.mapping.columns.get(f)
        return self.cells[column - 1] if column is not None and column <= len(self.cells) else None


@dataclass(frozen=True, slots=True)
class ImportRow:
    number: int  # the row number the spreadsheet shows
    status: RowStatus
    values: RowCells  # the mapped cells as read
    errors: tuple[RowIssue, ...] = ()
    warnings: tuple[RowIssue, ...] = ()
    spec: PostSpec | None = None
    account_ids: tuple[int, ...] = ()

    def cell(self, f: Field) -> str:
        """The cell of field `f` as text, for showing the row."""
        return display_value(self.values.get(f))


@dataclass(frozen=True)
class ImportOptions:
    timezone: str = field(default_factory=local_zone_name)
    date_order: DateOrder = DateOrder.UNKNOWN
    default_account_id: int | None = None
    as_drafts: bool = False
    base_dir: Path | None = None  # relative media paths are relative to the spreadsheet
    default_time: time | None = None  # for dates without a time of day; None: such a date is an error


@dataclass(frozen=True)
class Sheet:
    """A file read and its header found: what the mapping step shows."""

    path: Path
    table: Table
    header_index: int
    header: Header
    mapping: Mapping
    layout: str = ""  # a known headerless layout, e.g. HOOTSUITE
    layout_order: DateOrder = DateOrder.UNKNOWN  # how that layout writes numeric dates

    @property
    def data(self) -> list[tuple[int, tuple[CellValue, ...]]]:
        return self.table.rows[self.header_index + 1 :]

    def column_values(self, column: int) -> list[CellValue]:
        return [cells[column - 1] for _, cells in self.data if column - 1 < len(cells)]


def open_sheet(path: Path, *, max_rows: int = MAX_DATA_ROWS) -> Sheet:
    """Read `path` (or raise OutpostError) and auto-map its columns. A file whose first row is
    already a post (Hootsuite's bulk file has no header row) gets the Hootsuite layout."""
    path = Path(path)
    table = read_table(path, max_rows=max_rows)
    index, header = find_header(table.rows)
    mapping = auto_map(header)
    sheet = Sheet(path, table, index, header, mapping)
    if not mapping.columns and _looks_like_data(table.rows[0][1]):
        width = max(len(cells) for _, cells in table.rows[:50])
        columns = {Field.DATE: 1, Field.TEXT: 2} if width >= 2 else {Field.TEXT: 1}
        if width >= 3:
            columns[Field.LINK] = 3
        sheet = Sheet(path, table, -1, Header(0, ("",) * width), Mapping(columns), HOOTSUITE, DateOrder.DAY_FIRST)
    if len(sheet.data) > max_rows:
        raise OutpostError(f"{path.name} has {len(sheet.data):,} rows of posts; the importer reads at most "
                           f"{max_rows:,} at once. Split it into smaller files.")
    return sheet


def _looks_like_data(cells: tuple[CellValue, ...]) -> bool:
    """True when a first row holds a date where a header would hold a name."""
    first = next((c for c in cells if c is not None), None)
    if isinstance(first, datetime | date):
        return True
    if not isinstance(first, str) or field_for_header(first) is not None:
        return False
    try:
        cell_to_datetime(first, False, DateOrder.DAY_FIRST)
    except DateError:
        return False
    return True


def unused_columns(sheet: Sheet, mapping: Mapping, *, cli: bool = True) -> list[str]:
    """One line for each column that holds data but is not imported (never dropped silently)."""
    out = []
    for column in range(1, len(sheet.header.names) + 1):
        if mapping.used(column):
            continue
        filled = sum(1 for v in sheet.column_values(column) if v is not None)
        if not filled:
            continue
        name = sheet.header.names[column - 1] or sheet.header.letter(column)
        known = field_for_header(name) if sheet.header.names[column - 1] else None
        if known:
            hint = f"it looks like {known.value}, which another column already fills"
        else:
            hint = ("map it with --map " + shlex.quote(name) + "=FIELD" if cli
                    else "choose what it imports as above, or leave it out")
        out.append(f"Column {sheet.header.label(column)} was not used ({filled} filled cell"
                   f"{'s' if filled != 1 else ''}): {hint}.")
    return out


def file_date_order(sheet: Sheet, mapping: Mapping, chosen: DateOrder) -> DateOrder | None:
    """The order to read numeric dates with: the user's choice, else what the file implies;
    None when the file mixes clearly day-first and clearly month-first dates."""
    chosen = DateOrder(chosen)
    if chosen is not DateOrder.UNKNOWN or Field.DATE not in mapping.columns:
        return chosen
    found = detect_order(sheet.column_values(mapping.columns[Field.DATE]))
    return sheet.layout_order if found is DateOrder.UNKNOWN else found


def needs_date_order(sheet: Sheet, mapping: Mapping) -> bool:
    """True when some dates read differently day-first and month-first and nothing decides."""
    if Field.DATE not in mapping.columns or file_date_order(sheet, mapping, DateOrder.UNKNOWN) is not DateOrder.UNKNOWN:
        return False
    return any(isinstance(v, str) and is_ambiguous_numeric(v) for v in sheet.column_values(mapping.columns[Field.DATE]))


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return unguard(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}" if not value.second and not value.microsecond else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display_value(value: CellValue) -> str:
    """A cell as a person reads it (dates without seconds, formulas without a value named)."""
    if isinstance(value, CellFault):
        return "(formula without value)" if value.kind == "formula" else value.text
    return _text(value)


def parse_rows(
    sheet: Sheet,
    mapping: Mapping,
    accounts: Sequence[AccountInfo],
    options: ImportOptions,
    now: datetime,
    existing: Iterable[ExistingPost] = (),
    validator: Validator = core_rules,
    duplicates: bool = True,
) -> list[ImportRow]:
    """Judge every data row. Rows are never partly valid: any error makes the row invalid.

    `validator` judges content per account (an adapter's `validate` in the app; the platforms'
    published rules by default). `duplicates=False` leaves the duplicate pass to the caller.
    """
    resolver = AccountResolver(accounts)
    default_tz = zone(options.timezone)
    order = file_date_order(sheet, mapping, options.date_order)
    base_dir = options.base_dir or sheet.path.parent
    out: list[ImportRow] = []
    with gc_paused():
        for number, cells in sheet.data:
            out.append(_parse_row(number, cells, sheet, mapping, resolver, options, default_tz, order, now,
                                  base_dir, validator))
        return mark_duplicates(out, existing) if duplicates else out


def mark_duplicates(rows: Sequence[ImportRow], existing: Iterable[ExistingPost] = ()) -> list[ImportRow]:
    """Rows whose text is already on the same account within 24 hours (in the calendar, or in an
    earlier row of the file) become duplicates; the first of them stays valid. Idempotent."""
    out = []
    with gc_paused():
        index = DuplicateIndex(existing)
        for row in rows:
            if row.spec is not None and row.status is not RowStatus.INVALID:
                row = _check_duplicate(row, index)
            out.append(row)
    return out


def _check_duplicate(row: ImportRow, index: DuplicateIndex) -> ImportRow:
    spec = row.spec
    assert spec is not None
    key = text_key(spec.text)
    for account_id in spec.account_ids:
        hit = index.find(account_id, spec.text, spec.scheduled_at, key)
        if hit is not None:
            return ImportRow(row.number, RowStatus.DUPLICATE, row.values, (RowIssue(hit.describe()),),
                             row.warnings, spec, row.account_ids)
    for account_id in spec.account_ids:
        index.add(ExistingPost(account_id, spec.text, spec.scheduled_at, row=row.number), key)
    return row if row.status is RowStatus.VALID else replace(row, status=RowStatus.VALID, errors=())


def _parse_row(
    number: int,
    cells: tuple[CellValue, ...],
    sheet: Sheet,
    mapping: Mapping,
    resolver: AccountResolver,
    options: ImportOptions,
    default_tz: tzinfo,
    order: DateOrder | None,
    now: datetime,
    base_dir: Path,
    validator: Validator,
) -> ImportRow:
    errors: list[RowIssue] = []
    warnings: list[RowIssue] = []

    merged: CellValue = None
    if mapping.more_media:  # imageUrls, gifUrls, videoUrls...: merged in column order
        media_cells = [cells[c - 1] for c in mapping.media_columns() if c - 1 < len(cells) and cells[c - 1] is not None]
        faults = [m for m in media_cells if isinstance(m, CellFault)]
        merged = faults[0] if faults else ("\n".join(_text(m) for m in media_cells) if media_cells else None)
    values = RowCells(cells, mapping, merged)
    raw = values.get
    for note in sheet.table.row_notes.get(number, ()):
        warnings.append(RowIssue(note))
    for reason in sheet.table.row_errors.get(number, ()):
        errors.append(RowIssue(reason))

    def label(f: Field) -> str:
        col = mapping.columns.get(f)
        return sheet.header.label(col) if col is not None else f.value

    def fail(f: Field, message: str) -> None:
        errors.append(RowIssue(message, label(f), display_value(raw(f))))

    def text_of(f: Field) -> str:
        value = raw(f)
        if isinstance(value, CellFault):
            fail(f, _fault(value))
            return ""
        return _text(value)

    # Accounts
    accounts: tuple[AccountInfo, ...] = ()
    account_field = Field.PLATFORM if raw(Field.ACCOUNT) is None and raw(Field.PLATFORM) is not None else Field.ACCOUNT
    try:
        accounts = resolver.resolve(text_of(Field.ACCOUNT), text_of(Field.PLATFORM), options.default_account_id)
    except AccountError as exc:
        fail(account_field, str(exc))

    # Status: a draft row may have no date
    status_text = text_of(Field.STATUS).strip().casefold()
    draft = options.as_drafts
    if status_text == PostStatus.DRAFT.value:
        draft = True
    elif status_text and status_text not in _STATUS_WORDS:
        fail(Field.STATUS, f"{status_text!r} is not a status; write draft, or leave it blank to schedule.")

    # Time zone and date
    tz, tz_name = default_tz, options.timezone
    if zone_text := text_of(Field.TIMEZONE).strip():
        try:
            tz, tz_name = zone(zone_text), zone_text
        except ValueError as exc:
            fail(Field.TIMEZONE, str(exc))
    scheduled_at: datetime | None = None
    date_field = Field.DATE if raw(Field.DATE) is not None or raw(Field.TIME) is None else Field.TIME
    if order is None and isinstance(raw(Field.DATE), str) and is_ambiguous_numeric(str(raw(Field.DATE))):
        fail(Field.DATE, "This file mixes day-first and month-first dates; choose which one it uses.")
    else:
        try:
            when = resolve_when(raw(Field.DATE), raw(Field.TIME), tz, epoch_1904=sheet.table.epoch_1904,
                                order=order or DateOrder.UNKNOWN, default_time=options.default_time,
                                time_column=Field.TIME in mapping.columns)
        except DateError as exc:
            fail(date_field, str(exc))
        else:
            if when is None:
                if not draft:
                    fail(Field.DATE, "The date is missing; fill it in, or import the row as a draft.")
            else:
                scheduled_at = when.instant
                if when.warning:
                    warnings.append(RowIssue(when.warning, label(Field.DATE)))
                if scheduled_at <= now:
                    local = scheduled_at.astimezone(tz)
                    fail(date_field, f"{local:%Y-%m-%d %H:%M} ({tz_name}) is in the past; choose a later time.")

    # Text, thread, comment, title
    full_text = text_of(Field.TEXT)
    if (link := text_of(Field.LINK).strip()) and link not in full_text:
        head, sep, tail = full_text.partition(THREAD_BREAK)
        full_text = (f"{head.rstrip()}\n{link}" if head.strip() else link) + sep + tail
    parts = full_text.split(THREAD_BREAK)
    more = [p.strip() for p in text_of(Field.THREAD).replace("\r\n", "\n").split("\n") if p.strip()]
    text, thread = parts[0], (*parts[1:], *more)
    first_comment = text_of(Field.FIRST_COMMENT)
    title = text_of(Field.TITLE).strip()

    # Media
    media: list[MediaItem] = []
    for source in split_media(text_of(Field.MEDIA)):
        try:
            media.append(media_item(unguard(source), base_dir))
        except MediaError as exc:
            fail(Field.MEDIA, str(exc))

    alts = [a.strip() for a in text_of(Field.ALT_TEXT).replace("\r\n", "\n").split("\n")]
    while alts and not alts[-1]:
        alts.pop()
    if len(alts) > len(media):
        fail(Field.ALT_TEXT, f"{len(alts)} alt texts for {len(media)} attachment(s): put one line per attachment, "
                             "in the order of the Media column.")
    else:
        media = [replace(m, alt_text=alt) if alt else m for m, alt in zip(media, [*alts, *[""] * len(media)], strict=False)]

    if not text.strip() and raw(Field.MEDIA) is None:
        fail(Field.TEXT, "The text is missing; write the post in the Text column.")

    # Repeat
    recurrence: dict[str, object] | None = None
    repeat_text = text_of(Field.REPEAT).strip()
    until: date | None = None
    if raw(Field.REPEAT_UNTIL) is not None:
        try:
            parsed_until = cell_to_datetime(raw(Field.REPEAT_UNTIL), sheet.table.epoch_1904, order or DateOrder.UNKNOWN)
            until = parsed_until.date() if isinstance(parsed_until, datetime) else parsed_until
        except DateError as exc:
            fail(Field.REPEAT_UNTIL, str(exc))
    if repeat_text:
        try:
            rec = Recurrence.parse(repeat_text, until)
        except ValueError as exc:
            fail(Field.REPEAT, str(exc))
        else:
            if rec.repeats:
                if scheduled_at is None and not errors:
                    fail(Field.REPEAT, "A repeating post needs a date and time for its first occurrence.")
                recurrence = rec.to_dict()

    # Platform rules, per account
    content = PostContent(text, tuple(media), first_comment, thread, title=title)
    if text.strip() or media:
        for account in accounts:
            for problem in validator(content, account):
                f = {"text": Field.TEXT, "media": Field.MEDIA, "first_comment": Field.FIRST_COMMENT}.get(
                    problem.field, Field.TEXT)
                issue = RowIssue(f"{account.handle}: {problem.message}", label(f), display_value(raw(f)))
                (errors if problem.severity is Severity.ERROR else warnings).append(issue)

    if errors:
        return ImportRow(number, RowStatus.INVALID, values, tuple(errors), tuple(warnings),
                         account_ids=tuple(a.id for a in accounts))
    spec = PostSpec(
        text=text,
        account_ids=tuple(a.id for a in accounts),
        scheduled_at=scheduled_at,
        timezone=tz_name,
        media=tuple(media),
        first_comment=first_comment,
        thread=thread,
        recurrence=recurrence,
        draft=draft,
        title=title,
    )
    return ImportRow(number, RowStatus.VALID, values, (), tuple(warnings), spec, spec.account_ids)


def _fault(value: CellFault) -> str:
    if value.kind == "formula":
        return "This cell has a formula without a saved value; open the file in Excel, save it, and import again."
    return f"This cell shows the Excel error {value.text}; fix it in the spreadsheet."


def prepare(path: Path, accounts: Sequence[AccountInfo], options: ImportOptions, now: datetime,
            existing: Iterable[ExistingPost] = ()) -> tuple[Sheet, list[ImportRow]]:
    """Read, auto-map and judge a file in one call (CLI and tests)."""
    sheet = open_sheet(path)
    return sheet, parse_rows(sheet, sheet.mapping, accounts, options, now, existing)
