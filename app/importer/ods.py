"""LibreOffice / OpenDocument spreadsheets (`.ods`) through odfpy, after the same archive checks
as `.xlsx` (size, member count, compression ratio) and a refusal of any DTD (ODF never has one,
so entity tricks are refused before odfpy's SAX parser sees the XML)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from app.core.errors import OutpostError
from app.importer.cells import CellValue, Merge

MAX_REPEAT = 1000  # a repeated cell or row with a value is expanded at most this often
_DURATION = re.compile(r"^-?P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def check_ods(data: bytes, name: str) -> None:
    """Refuse what is not a plain OpenDocument spreadsheet, before odfpy parses anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "content.xml" not in names:
                raise OutpostError(f"{name} is not an OpenDocument spreadsheet, although its name ends in .ods.")
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
            if mimetype and b"spreadsheet" not in mimetype:
                raise OutpostError(f"{name} is an OpenDocument file but not a spreadsheet; open it in LibreOffice "
                                   "Calc and save it as .ods.")
            for member in ("content.xml", "styles.xml", "META-INF/manifest.xml"):
                if member in names:
                    with archive.open(member) as fh:
                        head = fh.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise OutpostError(f"{name} contains XML entity tricks and was refused.")
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise OutpostError(f"{name} is damaged and cannot be opened as an OpenDocument spreadsheet.") from exc


def ods_rows(data: bytes, name: str) -> tuple[str, Iterator[tuple[int, dict[int, CellValue]]], list[Merge]]:
    """The first sheet's name, its rows as (row number, {column: value}) and its merged ranges."""
    from odf.opendocument import load
    from odf.table import Table

    try:
        doc = load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises many types on malformed parts
        raise OutpostError(f"{name} is damaged and cannot be read as an OpenDocument spreadsheet.") from exc
    tables = doc.spreadsheet.getElementsByType(Table)
    if not tables:
        raise OutpostError(f"{name} has no sheet.")
    table = tables[0]
    merges: list[Merge] = []
    return str(table.getAttribute("name") or "Sheet1"), _rows(table, merges), merges


def _rows(table: Any, merges: list[Merge]) -> Iterator[tuple[int, dict[int, CellValue]]]:
    number = 0
    for row in _row_elements(table):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        cells: dict[int, CellValue] = {}
        column = 0
        for cell in row.childNodes:
            if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                continue
            span = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            value = _value(cell) if cell.qname[1] == "table-cell" else None
            if value is None:
                column += span
                continue
            rows_spanned = int(cell.getAttribute("numberrowsspanned") or 1) if cell.qname[1] == "table-cell" else 1
            for _ in range(min(span, MAX_REPEAT)):
                column += 1
                cells[column] = value
                if rows_spanned > 1:
                    merges.append(Merge(column, number + 1, number + rows_spanned))
            column += max(0, span - MAX_REPEAT)
        if not cells:
            number += repeat  # repeated empty rows: styled tails, skipped without expanding
            yield number, {}
            continue
        for _ in range(min(repeat, MAX_REPEAT)):
            number += 1
            yield number, dict(cells)


def _row_elements(table: Any) -> Iterator[Any]:
    for child in table.childNodes:
        kind = child.qname[1]
        if kind == "table-row":
            yield child
        elif kind in ("table-row-group", "table-header-rows", "table-rows"):
            yield from _row_elements(child)


def _value(cell: Any) -> CellValue:
    kind = cell.getAttribute("valuetype")
    if kind in ("float", "percentage", "currency"):
        raw = cell.getAttribute("value")
        number = float(raw)
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    if kind == "date":
        raw = cell.getAttribute("datevalue") or ""
        try:
            return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
        except ValueError:
            return raw
    if kind == "time":
        m = _DURATION.match(cell.getAttribute("timevalue") or "")
        if m:
            days, hours, minutes, seconds = (float(g or 0) for g in m.groups())
            span = timedelta(days=days, hours=hours, minutes=minutes, seconds=round(seconds))
            if timedelta(0) <= span < timedelta(days=1):
                return (datetime.min + span).time()
            return span
        return None
    if kind == "boolean":
        return (cell.getAttribute("booleanvalue") or "").lower() == "true"
    text = _text(cell)
    return text if text and not text.isspace() else None


def _text(cell: Any) -> str:
    """Each paragraph of the cell is one line, as LibreOffice shows it."""
    lines = []
    for p in cell.childNodes:
        if p.qname[1] in ("p", "h"):
            lines.append(_flatten(p))
    return "\n".join(lines)


def _flatten(node: Any) -> str:
    out = []
    for child in node.childNodes:
        if child.nodeType == child.TEXT_NODE:
            out.append(str(child.data))
        elif child.qname[1] == "s":
            out.append(" " * int(child.getAttribute("c") or 1))
        elif child.qname[1] == "tab":
            out.append("\t")
        elif child.qname[1] == "line-break":
            out.append("\n")
        else:
            out.append(_flatten(child))
    return "".join(out)

