"""Read a spreadsheet into plain rows: `.xlsx` through openpyxl (read-only), `.ods` through odfpy,
`.csv`/`.tsv`/`.txt` through `csv` (encoding and separator detected, see textfile.py).

The file is read only when it is a regular file, and never past MAX_FILE_BYTES whatever stat()
says (app/store/files.py): a FIFO or a symlink to /dev/zero is refused, not waited on.

Hostile files are refused before any XML is parsed (reliability.md §5 I1-I3): the archive's
size, member count and compression ratio are checked first, and openpyxl must be running with
defusedxml. Every refusal is an `OutpostError` whose text is one line a person can act on.
"""

from __future__ import annotations

import bisect
import csv
import gc
import io
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.errors import OutpostError
from app.importer.cells import FORMULA_WITHOUT_VALUE, CellFault, CellValue, Merge
from app.importer.textfile import (
    ENCODING_NAMES,
    decode_spreadsheet_text,
    sniff_delimiter,
    split_sep_hint,
    swallowed_rows,
)
from app.store.files import FileRefused, read_regular_file

log = logging.getLogger("outpost.importer")

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # sheet XML rarely passes 30:1; bombs run at 1000:1
MAX_ZIP_MEMBERS = 2000
MAX_DATA_ROWS = 50_000
TITLE_ROWS_ALLOWED = 20  # rows above the data (title, header) not counted against MAX_DATA_ROWS
MAX_COLUMNS = 100
EMPTY_RUN_LIMIT = 1000  # stop after this many empty rows in a row (styled-but-empty tails)

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


__all__ = ["FORMULA_WITHOUT_VALUE", "CellFault", "CellValue", "Table", "read_table"]


@dataclass(frozen=True)
class Table:
    """The non-empty rows of one sheet, each with the row number the spreadsheet shows."""

    rows: list[tuple[int, tuple[CellValue, ...]]]
    sheet: str
    epoch_1904: bool = False
    kind: str = "xlsx"
    notes: tuple[str, ...] = field(default=())
    row_notes: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row -> what looks odd in it
    row_errors: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row -> why it cannot be trusted


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk reading builds many small acyclic objects; cycle collection only slows it down."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_table(path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    """Read the first sheet of an `.xlsx`, `.ods`, `.csv`, `.tsv` or `.txt` file, or raise
    OutpostError saying why not. `max_rows` counts data rows (a title and header come on top)."""
    with gc_paused():
        return _read_table(Path(path), max_rows, max_columns)


def read_file_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file only, at most MAX_FILE_BYTES read."""
    try:
        return read_regular_file(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        if "over the" in str(exc):
            raise OutpostError(f"{path.name} is over {MAX_FILE_BYTES // 1_000_000} MB, the most the importer "
                               "reads; split it into smaller files.") from exc
        raise OutpostError(str(exc)) from exc
    except OSError as exc:
        raise OutpostError(f"Cannot open {path.name}: {exc.strerror or exc}.") from exc


def _read_table(path: Path, max_rows: int, max_columns: int) -> Table:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise OutpostError(f"{path.name} is an old Excel 97-2003 file: open it in Excel or LibreOffice, save it as "
                           ".xlsx (or .ods) and import that.")
    if suffix not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".ods"):
        raise OutpostError(f"{path.name} is not a spreadsheet the importer reads; use .xlsx, .ods or .csv.")
    data = read_file_bytes(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv_bytes(data, path, max_rows=max_rows, max_columns=max_columns)
    if suffix == ".ods":
        return read_ods_bytes(data, path, max_rows=max_rows, max_columns=max_columns)
    return read_xlsx_bytes(data, path, max_rows=max_rows, max_columns=max_columns)


def read_csv(path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    return read_csv_bytes(read_file_bytes(Path(path)), Path(path), max_rows=max_rows, max_columns=max_columns)


def read_xlsx(path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    return read_xlsx_bytes(read_file_bytes(Path(path)), Path(path), max_rows=max_rows, max_columns=max_columns)


# ---------------------------------------------------------------- xlsx


def check_archive(path: Path, data: bytes | None = None, *, kind: str = "xlsx") -> None:
    """Refuse anything that is not a plausible, bounded .xlsx (or .ods) archive, without decompressing it."""
    if data is None:
        data = read_file_bytes(path)
    head = data[:8]
    if head == _OLE2_MAGIC:
        raise OutpostError(f"{path.name} is an old Excel 97-2003 file (or encrypted); save it as .xlsx and import that.")
    if not head:
        raise OutpostError(f"{path.name} is empty (0 bytes).")
    what = "an Excel workbook" if kind == "xlsx" else "an OpenDocument spreadsheet"
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise OutpostError(f"{path.name} is not {what}, although its name ends in .{kind}.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise OutpostError(f"{path.name} is damaged and cannot be opened as {what}.") from exc
    names = {m.filename for m in members}
    if kind == "xlsx" and ("[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names)):
        raise OutpostError(f"{path.name} is not an Excel workbook, although its name ends in .xlsx.")
    if len(members) > MAX_ZIP_MEMBERS:
        raise OutpostError(f"{path.name} holds {len(members)} parts; a workbook this complex is refused.")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO:
            raise OutpostError(
                f"{path.name} expands {ratio:.0f} times when unpacked (a 'zip bomb'); it was not opened."
            )
    # zipfile stops each member at its declared size, so a lying header cannot exceed this total.
    if total > MAX_UNCOMPRESSED_BYTES:
        raise OutpostError(
            f"{path.name} unpacks to {total / 1e6:.0f} MB; the importer stops at "
            f"{MAX_UNCOMPRESSED_BYTES / 1e6:.0f} MB. Split it into smaller files."
        )


def _require_defusedxml() -> None:
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise OutpostError(
            "The spreadsheet reader is not protected against XML attacks (defusedxml is missing or "
            "OPENPYXL_DEFUSEDXML=False); reinstall Outpost."
        )


def read_xlsx_bytes(data: bytes, path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    check_archive(path, data)
    _require_defusedxml()
    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl.utils.datetime import MAC_EPOCH

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types on malformed parts, and wraps defusedxml's
        if _refused_by_defusedxml(exc, DefusedXmlException):
            raise OutpostError(f"{path.name} contains XML entity tricks and was refused.") from exc
        raise OutpostError(f"{path.name} is damaged and cannot be read as an Excel workbook.") from exc
    try:
        sheets = wb.worksheets
        if not sheets:
            raise OutpostError(f"{path.name} has no worksheet.")
        ws = wb.active if wb.active is not None else sheets[0]
        title = str(getattr(ws, "title", "Sheet1"))
        merges: list[Merge] = []
        try:
            rows, notes = _collect(_xlsx_rows(ws, merges), path.name, max_rows, max_columns)
        except OutpostError:
            raise
        except Exception as exc:
            if _refused_by_defusedxml(exc, DefusedXmlException):
                raise OutpostError(f"{path.name} contains XML entity tricks and was refused.") from exc
            raise OutpostError(f"{path.name} has a damaged sheet ({type(exc).__name__}); it was not imported.") from exc
        row_notes = fill_merged(rows, merges)
        return Table(rows, title, epoch_1904=wb.epoch == MAC_EPOCH, kind="xlsx", notes=notes, row_notes=row_notes)
    finally:
        wb.close()  # read-only workbooks hold the file open until closed


def _refused_by_defusedxml(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xlsx_rows(ws: Any, merges: list[Merge]) -> Iterator[tuple[int, dict[int, CellValue]]]:
    """(row number, {column: value}) for every row element, formula cells without a value marked.

    openpyxl's data_only mode returns None both for an empty cell and for a formula that was
    never calculated; a small subclass of openpyxl's sheet parser tells them apart in the same
    single pass. That parser is openpyxl's internal API: should a future openpyxl change it,
    the public read-only iteration takes over (uncalculated formulas then read as empty cells).
    """
    try:
        from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

        wb = ws.parent
        source = (wb._archive, ws._worksheet_path, ws._shared_strings)
        formats = (wb.epoch, wb._date_formats, wb._timedelta_formats)
        day_only = _day_only_styles(wb)
    except (ImportError, AttributeError):
        log.warning("openpyxl's sheet parser changed; formulas without a saved value read as empty")
        yield from _public_xlsx_rows(ws)
        return

    class _Parser(WorkSheetParser):  # type: ignore[misc, unused-ignore]
        def parse_cell(self, element):  # type: ignore[no-untyped-def, unused-ignore]
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = FORMULA_WITHOUT_VALUE
            elif cell["value"].__class__ is datetime and cell["style_id"] in day_only:
                cell["value"] = cell["value"].date()  # formatted as a day: no time of day was given
            elif cell["data_type"] == "e":
                cell["value"] = CellFault("error", str(cell["value"] or ""))
            return cell

    archive, member, strings = source
    epoch, date_formats, timedelta_formats = formats
    with archive.open(member) as src:
        parser = _Parser(src, strings, data_only=True, epoch=epoch, date_formats=date_formats,
                         timedelta_formats=timedelta_formats)
        for number, cells in parser.parse():
            yield number, {c["column"]: v for c in cells if _kept(v := c["value"])}
    # <mergeCells> follows the rows in the sheet XML, so it is known once they are read.
    for merged in getattr(getattr(parser, "merged_cells", None), "mergeCell", None) or ():
        try:
            from openpyxl.utils.cell import range_boundaries

            min_col, min_row, _max_col, max_row = range_boundaries(merged.ref)
        except (ValueError, TypeError):
            continue
        if max_row > min_row:
            merges.append(Merge(min_col, min_row, max_row))


def _day_only_styles(wb: Any) -> set[int]:
    """Cell styles whose number format shows a day without a time of day (yyyy-mm-dd)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, builtin_format_code, is_datetime

    out = set()
    for index, style in enumerate(wb._cell_styles):
        fmt_id = style.numFmtId
        if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
            fmt = builtin_format_code(fmt_id)
        else:
            try:
                fmt = wb._number_formats[fmt_id - BUILTIN_FORMATS_MAX_SIZE]
            except IndexError:
                continue
        if fmt and is_datetime(fmt) == "date":
            out.add(index)
    return out


def _public_xlsx_rows(ws: Any) -> Iterator[tuple[int, dict[int, CellValue]]]:
    ws.reset_dimensions()  # stored dimensions may be wrong (A1:A1 on a full sheet)
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        yield number, {i: v for i, v in enumerate(row, start=1) if _kept(v)}


# ---------------------------------------------------------------- csv


def decode_csv_bytes(data: bytes, name: str = "file") -> str:
    """The text of a CSV file (see textfile.decode_spreadsheet_text)."""
    return decode_spreadsheet_text(data, name).text


def read_csv_bytes(data: bytes, path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    decoded = decode_spreadsheet_text(data, path.name)
    text, delimiter = split_sep_hint(decoded.text)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    ends: list[tuple[int, int]] = []  # (record number, last physical line it used)
    swallowed: dict[int, str] = {}

    def rows() -> Iterator[tuple[int, dict[int, CellValue]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        width = 0
        try:
            # Excel opens a CSV one record per row (quoted line breaks stay inside the cell).
            for number, record in enumerate(reader, start=1):
                ends.append((number, reader.line_num))
                width = width or sum(1 for c in record if c.strip())
                if line := swallowed_rows(record, delimiter, width):
                    swallowed[number] = line
                yield number, {i: v for i, v in enumerate(record, start=1) if v and not v.isspace()}
        except csv.Error as exc:
            raise OutpostError(f"{path.name} is not valid CSV near line {reader.line_num}: {exc}.") from exc

    rows_, notes = _collect(rows(), path.name, max_rows, max_columns)
    row_notes: dict[int, list[str]] = {}
    row_errors: dict[int, tuple[str, ...]] = {}
    for number, line in swallowed.items():
        shown = line if len(line) <= 60 else line[:59] + "…"
        row_errors[number] = (f"A quote (\") in this row is not closed, so the next line ({shown!r}) became part "
                              "of its text; fix the quotes in the file and import it again.",)
    if decoded.stray:
        physical = [end for _, end in ends]
        for line_number, message in decoded.stray:
            index = bisect.bisect_left(physical, line_number)
            if index < len(ends):
                row_notes.setdefault(ends[index][0], []).append(message)
    extra = () if decoded.encoding in ("utf_8", "utf_16") else (
        f"Read as {ENCODING_NAMES.get(decoded.encoding, decoded.encoding)} text.",)
    separator = {",": "comma", ";": "semicolon", "\t": "tab"}.get(delimiter, repr(delimiter))
    return Table(rows_, path.stem, kind="csv", notes=(*notes, *extra, f"Columns separated by {separator}s."),
                 row_notes={k: tuple(v) for k, v in row_notes.items()}, row_errors=row_errors)


# ---------------------------------------------------------------- ods


def read_ods_bytes(data: bytes, path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    from app.importer.ods import check_ods, ods_rows

    check_archive(path, data, kind="ods")
    check_ods(data, path.name)
    title, source, merges = ods_rows(data, path.name)
    rows, notes = _collect(source, path.name, max_rows, max_columns)
    return Table(rows, title, kind="ods", notes=notes, row_notes=fill_merged(rows, merges))


# ---------------------------------------------------------------- shared


def _collect(
    source: Iterator[tuple[int, dict[int, CellValue]]], name: str, max_rows: int, max_columns: int
) -> tuple[list[tuple[int, tuple[CellValue, ...]]], tuple[str, ...]]:
    """Rows with at least one non-blank cell (sources drop blank cells), checked against the caps."""
    out: list[tuple[int, tuple[CellValue, ...]]] = []
    notes: list[str] = []
    empty_run = 0
    shared: dict[str, str] = {}  # one copy of each short text (accounts, zones, statuses repeat on every row)
    for number, cells in source:
        if not cells:
            empty_run += 1
            if empty_run > EMPTY_RUN_LIMIT:
                notes.append(f"Stopped reading at row {number}: more than {EMPTY_RUN_LIMIT:,} empty rows in a row.")
                break
            continue
        empty_run = 0
        widest = max(cells)
        if widest > max_columns:
            raise OutpostError(
                f"{name} uses {widest} columns (row {number}); the importer reads at most {max_columns}. "
                "Delete the extra columns."
            )
        if len(out) >= max_rows + TITLE_ROWS_ALLOWED:
            raise OutpostError(
                f"{name} has more than {max_rows:,} rows; the importer reads at most {max_rows:,} at once. "
                "Split it into smaller files."
            )
        row = tuple(cells.get(i) for i in range(1, widest + 1))
        if len(shared) < 100_000:
            row = tuple(shared.setdefault(v, v) if v.__class__ is str and len(v) <= 64 else v for v in row)
        out.append((number, row))
    if not out:
        raise OutpostError(f"{name} has no data: the sheet is empty.")
    return out, tuple(notes)


def fill_merged(rows: list[tuple[int, tuple[CellValue, ...]]], merges: list[Merge]) -> dict[int, tuple[str, ...]]:
    """Give every row of a merged range the value of its first cell (a merged Account cell
    means the same account on each row), and note it on those rows."""
    if not merges:
        return {}
    index = {number: i for i, (number, _) in enumerate(rows)}
    notes: dict[int, list[str]] = {}
    from openpyxl.utils import get_column_letter

    for merge in merges:
        first = index.get(merge.first_row)
        if first is None or merge.column - 1 >= len(rows[first][1]):
            continue
        value = rows[first][1][merge.column - 1]
        if value is None:
            continue
        cell = f"{get_column_letter(merge.column)}{merge.first_row}"
        for number in range(merge.first_row + 1, merge.last_row + 1):
            i = index.get(number)
            if i is None:
                continue
            cells = list(rows[i][1])
            if len(cells) < merge.column:
                cells.extend([None] * (merge.column - len(cells)))
            cells[merge.column - 1] = value
            rows[i] = (number, tuple(cells))
            notes.setdefault(number, []).append(f"column {get_column_letter(merge.column)} is merged with {cell}; "
                                                "its value was used")
    return {k: tuple(v) for k, v in notes.items()}


def _kept(value: CellValue) -> bool:
    """Empty and whitespace-only cells count as blank."""
    return value is not None and not (value.__class__ is str and (not value or value.isspace()))
