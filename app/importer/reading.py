"""Read a spreadsheet into plain rows: `.xlsx` through openpyxl (read-only), `.csv` through `csv`.

Hostile files are refused before any XML is parsed (reliability.md §5 I1-I3): the archive's
size, member count and compression ratio are checked first, and openpyxl must be running with
defusedxml. Every refusal is an `OutpostError` whose text is one line a person can act on.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.core.errors import OutpostError

log = logging.getLogger("outpost.importer")

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # sheet XML rarely passes 30:1; bombs run at 1000:1
MAX_ZIP_MEMBERS = 2000
MAX_DATA_ROWS = 50_000
MAX_COLUMNS = 100
EMPTY_RUN_LIMIT = 1000  # stop after this many empty rows in a row (styled-but-empty tails)

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class CellFault:
    """A cell whose value cannot be used: a formula never calculated, or an Excel error."""

    kind: str  # "formula" | "error"
    text: str = ""


FORMULA_WITHOUT_VALUE = CellFault("formula")

CellValue = str | int | float | bool | datetime | date | time | timedelta | CellFault | None


@dataclass(frozen=True)
class Table:
    """The non-empty rows of one sheet, each with the row number the spreadsheet shows."""

    rows: list[tuple[int, tuple[CellValue, ...]]]
    sheet: str
    epoch_1904: bool = False
    kind: str = "xlsx"
    notes: tuple[str, ...] = field(default=())


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
    """Read the first sheet of an `.xlsx` or a `.csv` file, or raise OutpostError saying why not."""
    with gc_paused():
        return _read_table(Path(path), max_rows, max_columns)


def _read_table(path: Path, max_rows: int, max_columns: int) -> Table:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise OutpostError(f"Cannot open {path.name}: {exc.strerror or exc}.") from exc
    if size > MAX_FILE_BYTES:
        raise OutpostError(
            f"{path.name} is {size / 1e6:.0f} MB; the importer takes files up to {MAX_FILE_BYTES // 1e6:.0f} MB. "
            "Split it into smaller files."
        )
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv(path, max_rows=max_rows, max_columns=max_columns)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, max_rows=max_rows, max_columns=max_columns)
    if suffix == ".xls":
        raise OutpostError(f"{path.name} is an old Excel 97-2003 file; save it as .xlsx and import that.")
    raise OutpostError(f"{path.name} is not a spreadsheet the importer reads; use .xlsx or .csv.")


# ---------------------------------------------------------------- xlsx


def check_archive(path: Path) -> None:
    """Refuse anything that is not a plausible, bounded .xlsx archive, without decompressing it."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE2_MAGIC:
        raise OutpostError(f"{path.name} is an old Excel 97-2003 file (or encrypted); save it as .xlsx and import that.")
    if not head:
        raise OutpostError(f"{path.name} is empty (0 bytes).")
    if not zipfile.is_zipfile(path):
        raise OutpostError(f"{path.name} is not an Excel workbook, although its name ends in .xlsx.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise OutpostError(f"{path.name} is damaged and cannot be opened as an Excel workbook.") from exc
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
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


def read_xlsx(path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    check_archive(path)
    _require_defusedxml()
    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl.utils.datetime import MAC_EPOCH

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
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
        try:
            rows, notes = _collect(_xlsx_rows(ws), path.name, max_rows, max_columns)
        except OutpostError:
            raise
        except Exception as exc:
            if _refused_by_defusedxml(exc, DefusedXmlException):
                raise OutpostError(f"{path.name} contains XML entity tricks and was refused.") from exc
            raise OutpostError(f"{path.name} has a damaged sheet ({type(exc).__name__}); it was not imported.") from exc
        return Table(rows, title, epoch_1904=wb.epoch == MAC_EPOCH, kind="xlsx", notes=notes)
    finally:
        wb.close()  # read-only workbooks hold the file open until closed


def _refused_by_defusedxml(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xlsx_rows(ws: Any) -> Iterator[tuple[int, dict[int, CellValue]]]:
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
    except (ImportError, AttributeError):
        log.warning("openpyxl's sheet parser changed; formulas without a saved value read as empty")
        yield from _public_xlsx_rows(ws)
        return

    class _Parser(WorkSheetParser):  # type: ignore[misc, unused-ignore]
        def parse_cell(self, element):  # type: ignore[no-untyped-def, unused-ignore]
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = FORMULA_WITHOUT_VALUE
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


def _public_xlsx_rows(ws: Any) -> Iterator[tuple[int, dict[int, CellValue]]]:
    ws.reset_dimensions()  # stored dimensions may be wrong (A1:A1 on a full sheet)
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        yield number, {i: v for i, v in enumerate(row, start=1) if _kept(v)}


# ---------------------------------------------------------------- csv


def decode_csv_bytes(data: bytes, name: str = "file") -> str:
    """UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else Windows-1252, else refuse.

    Valid UTF-8 is almost never produced by accident from other encodings, so the strict try
    first is reliable; cp1252 is what Excel on Windows writes for "CSV (comma delimited)".
    """
    if b"\x00" in data[:4096]:
        raise OutpostError(f"{name} looks like UTF-16 or a binary file; save it as 'CSV UTF-8' and import that.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise OutpostError(
            f"{name} is neither UTF-8 nor Windows-1252 text; save it as 'CSV UTF-8' and import that."
        ) from exc


def sniff_delimiter(text: str) -> str:
    """Comma or semicolon: the one that splits the first lines into the most, most regular, columns."""
    sample = text[:64 * 1024]
    lines = sample.splitlines()[:30] or [""]
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";"):
        widths = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter) if any(r)]
        if not widths:
            continue
        width = max(set(widths), key=widths.count)
        score = (int(width > 1) * widths.count(width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, *, max_rows: int = MAX_DATA_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    data = path.read_bytes()
    text = decode_csv_bytes(data, path.name)
    # Excel writes (and hides) a first line "sep=;" to name the delimiter.
    first, newline, rest = text.partition("\n")
    hint = first.strip().lower()
    if hint.startswith("sep=") and len(hint) == 5:
        delimiter, text = first.strip()[4], rest if newline else ""
    else:
        delimiter = sniff_delimiter(text)

    def rows() -> Iterator[tuple[int, dict[int, CellValue]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            # Excel opens a CSV one record per row (quoted line breaks stay inside the cell).
            for number, record in enumerate(reader, start=1):
                yield number, {i: v for i, v in enumerate(record, start=1) if v and not v.isspace()}
        except csv.Error as exc:
            raise OutpostError(f"{path.name} is not valid CSV near line {reader.line_num}: {exc}.") from exc

    rows_, notes = _collect(rows(), path.name, max_rows, max_columns)
    return Table(rows_, path.stem, kind="csv", notes=notes)


# ---------------------------------------------------------------- shared


def _collect(
    source: Iterator[tuple[int, dict[int, CellValue]]], name: str, max_rows: int, max_columns: int
) -> tuple[list[tuple[int, tuple[CellValue, ...]]], tuple[str, ...]]:
    """Rows with at least one non-blank cell (sources drop blank cells), checked against the caps."""
    out: list[tuple[int, tuple[CellValue, ...]]] = []
    notes: list[str] = []
    empty_run = 0
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
        if len(out) >= max_rows:
            raise OutpostError(
                f"{name} has more than {max_rows:,} rows; the importer reads at most {max_rows:,} at once. "
                "Split it into smaller files."
            )
        out.append((number, tuple(cells.get(i) for i in range(1, widest + 1))))
    if not out:
        raise OutpostError(f"{name} has no data: the sheet is empty.")
    return out, tuple(notes)


def _kept(value: CellValue) -> bool:
    """Empty and whitespace-only cells count as blank."""
    return value is not None and not (value.__class__ is str and (not value or value.isspace()))
