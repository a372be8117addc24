"""Reading files, including hostile ones (reliability.md §7 E 32-35)."""

from __future__ import annotations

import os
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from app.core.errors import OutpostError
from app.importer import reading
from app.importer.reading import FORMULA_WITHOUT_VALUE, CellFault, read_table
from app.importer.rows import open_sheet
from tests.importer.sheets import patch_member, write_csv, write_xlsx

BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_xlsx_rows_keep_their_spreadsheet_numbers_and_native_types(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["Date", "Text"], [datetime(2026, 7, 1, 9, 30), "Hi\nthere"], [], [None, 5]])
    table = read_table(path)
    assert table.kind == "xlsx" and table.sheet == "Posts" and not table.epoch_1904
    assert table.rows == [(1, ("Date", "Text")), (2, (datetime(2026, 7, 1, 9, 30), "Hi\nthere")), (4, (None, 5))]


def _open_handles(path: Path) -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += Path(os.readlink(fd)) == path.resolve()
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
@pytest.mark.parametrize("fails", [False, True])
def test_no_file_handle_is_left_open(tmp_path: Path, fails: bool) -> None:
    # Windows cannot delete a file a process still holds; here the open descriptors are counted.
    path = write_xlsx(tmp_path / "a.xlsx", [["Text"], ["x"], [None] * 20 + ["far"]])
    if fails:
        with pytest.raises(OutpostError):
            read_table(path, max_columns=10)
    else:
        read_table(path)
    assert _open_handles(path) == 0
    path.unlink()


def test_defusedxml_is_active_in_openpyxl() -> None:
    import openpyxl.xml
    import openpyxl.xml.functions as functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")


def test_reader_refuses_to_run_without_defusedxml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(OutpostError, match="XML attacks"):
        read_table(write_xlsx(tmp_path / "a.xlsx", [["Text"], ["x"]]))


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_billion_laughs_is_refused_quickly(tmp_path: Path, member: str) -> None:
    path = write_xlsx(tmp_path / "bomb.xlsx", [["Text"], ["Hello"]])

    def change(xml: str) -> str:
        body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
        return BILLION_LAUGHS + body.replace("Posts", "&lol9;").replace("Hello", "&lol9;")

    patch_member(path, member, change)
    started = time.monotonic()
    with pytest.raises(OutpostError, match="entity"):
        read_table(path)
    assert time.monotonic() - started < 5


def test_quadratic_blowup_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "quad.xlsx", [["Text"], ["Hello"]])
    big = "A" * 50_000
    doctype = f'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY a "{big}">]>\n'

    def change(xml: str) -> str:
        body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
        return doctype + body.replace("Hello", "&a;" * 1000)

    patch_member(path, "xl/worksheets/sheet1.xml", change)
    with pytest.raises(OutpostError, match="entity"):
        read_table(path)


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(tmp_path / "zip.xlsx", [["Text"], ["Hello"]])
    padding = " " * 60_000_000  # 60 MB of spaces deflates to ~60 kB: ratio ~1000

    patch_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("</worksheet>", padding + "</worksheet>"))
    assert path.stat().st_size < 1_000_000
    monkeypatch.setattr(openpyxl, "load_workbook", _must_not_be_called)
    with pytest.raises(OutpostError, match="zip bomb"):
        read_table(path)


def _must_not_be_called(*_a: object, **_k: object) -> None:
    raise AssertionError("the archive was parsed before the size check")


def test_archive_that_unpacks_beyond_the_total_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", [["Text"], ["Hello"]])
    monkeypatch.setattr(reading, "MAX_UNCOMPRESSED_BYTES", 2000)
    with pytest.raises(OutpostError, match="unpacks to"):
        read_table(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a workbook", "not an Excel workbook"),
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "97-2003"),
    ],
)
def test_non_spreadsheets_named_xlsx_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    with pytest.raises(OutpostError, match=message):
        read_table(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("photo.txt", "hello")
    with pytest.raises(OutpostError, match="not an Excel workbook"):
        read_table(path)


def test_an_empty_workbook_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "empty.xlsx", [])
    with pytest.raises(OutpostError, match="empty"):
        read_table(path)


def test_row_cap_gives_a_clear_message(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "many.xlsx", [["Text"]] + [[f"post {i}"] for i in range(30)])
    with pytest.raises(OutpostError, match="30 rows of posts; the importer reads at most 29"):
        open_sheet(path, max_rows=29)
    with pytest.raises(OutpostError, match="more than 5 rows"):
        read_table(path, max_rows=5)


def test_exactly_the_row_cap_is_read_although_a_header_and_title_sit_above(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "many.xlsx", [["Our plan"], ["Text"]] + [[f"post {i}"] for i in range(30)])
    sheet = open_sheet(path, max_rows=30)
    assert len(sheet.data) == 30 and sheet.data[-1][1] == ("post 29",)


def test_column_cap_gives_a_clear_message(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "wide.xlsx", [["Text"], ["x"] + [None] * 10 + ["far away"]])
    with pytest.raises(OutpostError, match="12 columns"):
        read_table(path, max_columns=10)


def test_mis_dimensioned_sheet_is_read_in_full(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "dim.xlsx", [["Text", "Date"]] + [[f"p{i}", i] for i in range(50)])
    patch_member(path, "xl/worksheets/sheet1.xml", lambda x: x.replace('<dimension ref="A1:B51" />', '<dimension ref="A1:A1" />'))
    table = read_table(path)
    assert len(table.rows) == 51 and table.rows[-1] == (51, ("p49", 49))


def test_a_long_tail_of_empty_styled_rows_stops_the_reader_with_a_note(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tail.xlsx", [["Text"], ["a"]])
    empty_rows = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(3, 3 + reading.EMPTY_RUN_LIMIT + 5))
    patch_member(path, "xl/worksheets/sheet1.xml",
                 lambda x: x.replace("</sheetData>", empty_rows + '<row r="5000"><c r="A5000" t="inlineStr"><is><t>late</t></is></c></row></sheetData>'))
    table = read_table(path)
    assert [n for n, _ in table.rows] == [1, 2]
    assert "empty rows" in table.notes[0]


def test_formula_cells_use_the_cached_value_and_mark_missing_ones(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [["Text", "N"], ["=CONCAT(\"a\",\"b\")", "=1+1"], ["plain", "=2+2"]])
    # Excel saves the last computed value in <v>; openpyxl cannot, so add one for B2 only.
    patch_member(path, "xl/worksheets/sheet1.xml", lambda x: x.replace("<f>1+1</f><v />", "<f>1+1</f><v>2</v>"))
    table = read_table(path)
    assert table.rows[1] == (2, (FORMULA_WITHOUT_VALUE, 2))
    assert table.rows[2] == (3, ("plain", FORMULA_WITHOUT_VALUE))


def test_error_cells_are_marked(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "e.xlsx", [["Text"], ["x"]])
    patch_member(path, "xl/worksheets/sheet1.xml",
                 lambda x: x.replace("</sheetData>", '<row r="3"><c r="A3" t="e"><v>#REF!</v></c></row></sheetData>'))
    assert read_table(path).rows[-1] == (3, (CellFault("error", "#REF!"),))


def test_1904_workbooks_are_flagged(tmp_path: Path) -> None:
    assert read_table(write_xlsx(tmp_path / "mac.xlsx", [["Text"], ["x"]], epoch_1904=True)).epoch_1904


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_encodings_and_delimiters_are_detected(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = f'Date{delimiter}Text{delimiter}Account\r\n2026-07-01 09:30{delimiter}"Café, crème; “quotes” €"{delimiter}alice_x\r\n'
    table = read_table(write_csv(tmp_path / "a.csv", text, encoding))
    assert table.kind == "csv"
    assert table.rows == [(1, ("Date", "Text", "Account")), (2, ("2026-07-01 09:30", "Café, crème; “quotes” €", "alice_x"))]


def test_csv_quoted_multi_line_text_stays_in_one_cell_and_rows_count_records(tmp_path: Path) -> None:
    text = 'Text,Account\n"line one\nline two\n\nline four",alice_x\nsecond,alice_x\n'
    table = read_table(write_csv(tmp_path / "m.csv", text))
    assert table.rows[1] == (2, ("line one\nline two\n\nline four", "alice_x"))
    assert table.rows[2][0] == 3


def test_csv_in_utf16_with_a_bom_is_read_and_binary_is_refused(tmp_path: Path) -> None:
    table = read_table(write_csv(tmp_path / "u.csv", "Text\nhéllo\n", "utf-16"))
    assert table.rows[1][1] == ("héllo",)
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"Text\n\x00\x01\x02hello\n")
    with pytest.raises(OutpostError, match="binary file"):
        read_table(bad)


def test_other_extensions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"x")
    with pytest.raises(OutpostError, match=r"\.xlsx, \.ods or \.csv"):
        read_table(tmp_path / "a.pdf")
    (tmp_path / "a.ods").write_bytes(b"x")
    with pytest.raises(OutpostError, match=r"not an OpenDocument spreadsheet"):
        read_table(tmp_path / "a.ods")
    with pytest.raises(OutpostError, match="Cannot open"):
        read_table(tmp_path / "missing.xlsx")


def test_csv_with_unquoted_commas_in_a_semicolon_file(tmp_path: Path) -> None:
    table = read_table(write_csv(tmp_path / "s.csv", "Date;Text\n2026-07-01 09:30;Hello, world, again\n"))
    assert table.rows[1] == (2, ("2026-07-01 09:30", "Hello, world, again"))


def test_csv_sep_hint_line_names_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    table = read_table(write_csv(tmp_path / "h.csv", "sep=;\r\nText;Account\r\nHi, you;alice_x\r\n", "cp1252"))
    assert table.rows == [(1, ("Text", "Account")), (2, ("Hi, you", "alice_x"))]


def test_the_real_row_cap_stops_a_huge_file_early(tmp_path: Path) -> None:
    lines = ["Date,Text"] + [f"2030-01-01 09:00,post {i}" for i in range(reading.MAX_DATA_ROWS + 500)]
    path = write_csv(tmp_path / "huge.csv", "\n".join(lines))
    started = time.monotonic()
    with pytest.raises(OutpostError, match=f"more than {reading.MAX_DATA_ROWS:,} rows"):
        read_table(path)
    assert time.monotonic() - started < 10


def test_without_openpyxl_internals_the_public_reader_takes_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.worksheet._reader as internals

    path = write_xlsx(tmp_path / "p.xlsx", [["Date", "Text"], [datetime(2026, 7, 1, 9, 30), "Hi"], [], ["x", "=1+1"]])
    patch_member(path, "xl/worksheets/sheet1.xml", lambda x: x.replace('<dimension ref="A1:B4" />', '<dimension ref="A1:A1" />'))
    fast = read_table(path).rows
    monkeypatch.delattr(internals, "WorkSheetParser")
    slow = read_table(path).rows
    assert fast[:2] == slow[:2] == [(1, ("Date", "Text")), (2, (datetime(2026, 7, 1, 9, 30), "Hi"))]
    assert fast[2] == (4, ("x", FORMULA_WITHOUT_VALUE)) and slow[2] == (4, ("x",))
