"""Export, the template, and the export -> import round trip."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.importer.columns import Field
from app.importer.export import EXPORT_COLUMNS, ExportRow, export, format_recurrence
from app.importer.injection import guard, needs_guard, unguard
from app.importer.rows import THREAD_BREAK, ImportOptions, RowStatus, prepare
from app.importer.template import write_template
from tests.importer.sheets import ACCOUNTS, NOW

ROUND_TRIP_ACCOUNTS = [a for a in ACCOUNTS if a.id in (1, 2, 3)]
REFS = {1: "alice@mastodon.social", 2: "alice.bsky.social", 3: "alice_x"}


@given(st.text())
def test_unguard_inverts_guard_for_every_text(text: str) -> None:
    assert unguard(guard(text)) == text
    if guard(text) != text:
        assert guard(text).startswith("'") and needs_guard(text)


@pytest.mark.parametrize("text", ["=1+1", "+33 6", "-5", "@here", "\tx", "\rx", "'=x"])
def test_xlsx_writes_dangerous_text_as_text_cells_and_csv_prefixes_it(tmp_path: Path, text: str) -> None:
    row = ExportRow(NOW + timedelta(days=1), "UTC", ("alice_x",), text, first_comment=text)
    export([row], tmp_path / "out.xlsx")
    export([row], tmp_path / "out.csv")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert ws is not None
    text_col = EXPORT_COLUMNS.index(Field.TEXT) + 1
    cell = ws.cell(row=2, column=text_col)
    # No visible apostrophe in .xlsx (a text cell never runs), except the one that keeps "'=x" exact.
    shown = ("'" + text) if text.startswith("'") else text
    assert cell.data_type == "s" and cell.value == shown.replace("\r", "\n")
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    assert import_text(tmp_path / "out.xlsx") == text.replace("\r", "\n")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as fh:
        record = list(csv.reader(fh))[1]
    assert record[text_col - 1] == "'" + text


def import_text(path: Path) -> str:
    from app.importer.rows import open_sheet

    sheet = open_sheet(path)
    cells = sheet.data[0][1]
    from app.importer.rows import _text

    return _text(cells[EXPORT_COLUMNS.index(Field.TEXT)])


def test_safe_text_is_written_as_is(tmp_path: Path) -> None:
    export([ExportRow(None, "UTC", ("alice_x",), "plain 'quote' text", status="draft")], tmp_path / "out.csv")
    record = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8-sig", newline="")))[1]
    assert record[EXPORT_COLUMNS.index(Field.TEXT)] == "plain 'quote' text"
    assert record[0] == ""  # an undated draft


def test_xlsx_dates_are_real_dates_in_the_row_zone(tmp_path: Path) -> None:
    instant = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    export([ExportRow(instant, "Europe/Berlin", ("alice_x",), "x")], tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert ws is not None
    assert ws["A2"].value == datetime(2026, 7, 1, 9, 30) and ws["A2"].is_date and ws["B2"].value == "Europe/Berlin"


def test_second_occurrence_in_a_fold_survives_as_iso_with_offset(tmp_path: Path) -> None:
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, after the clocks went back
    for name in ("f.xlsx", "f.csv"):
        export([ExportRow(second, "Europe/Berlin", ("alice_x",), "x")], tmp_path / name)
        [row] = prepare(tmp_path / name, ACCOUNTS, ImportOptions(timezone="UTC"), datetime(2026, 1, 1, tzinfo=UTC))[1]
        assert row.spec is not None and row.spec.scheduled_at == second


def test_recurrence_cells() -> None:
    assert format_recurrence(None) == ("", None)
    assert format_recurrence({"kind": "weekly", "weekdays": [0, 3], "until": "2026-08-31"}) == (
        "weekly:mon,thu", date(2026, 8, 31))
    assert format_recurrence({"kind": "monthly", "monthday": 31, "month_end": "last_day"}) == ("monthly:31:last", None)
    assert format_recurrence({"kind": "daily"}) == ("daily", None)


def test_template_has_our_headers_an_example_row_lists_and_formats(tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx", ACCOUNTS, "Europe/Berlin", NOW)
    wb = openpyxl.load_workbook(path)
    ws = wb["Posts"]
    assert wb.active is not None and wb.active.title == "Posts"
    assert [c.value for c in ws[1]] == [f.value for f in EXPORT_COLUMNS]
    assert ws["A2"].value == datetime(2026, 6, 2, 9, 30) and ws["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["A300"].number_format == "yyyy-mm-dd hh:mm"
    validations = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    account_col = openpyxl.utils.get_column_letter(EXPORT_COLUMNS.index(Field.ACCOUNT) + 1)
    assert validations[f"{account_col}2"].type == "list" and "Lists" in str(validations[f"{account_col}2"].formula1)
    assert validations["A2"].type == "date"
    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(row=i, column=1).value for i in range(1, 6)] == [
        "alice@mastodon.social", "alice.bsky.social", "alice_x", "alice.pics", "alice@hachyderm.io"]
    assert {r[0].value for r in wb["Columns"].iter_rows(min_row=2)} >= {f.value for f in EXPORT_COLUMNS}


def test_the_template_example_row_imports_as_a_valid_post(tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx", ACCOUNTS, "Europe/Berlin", NOW)
    sheet, [row] = prepare(path, ACCOUNTS, ImportOptions(timezone="UTC"), NOW)
    assert set(sheet.mapping.columns) == set(EXPORT_COLUMNS)
    assert row.status is RowStatus.VALID and row.spec is not None
    assert row.spec.scheduled_at == datetime(2026, 6, 2, 7, 30, tzinfo=UTC) and row.spec.account_ids == (1,)


# ----------------------------------------------------------------- round trip

_chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="\ufeff") | st.sampled_from(
    "\n\t'=+-@ ")
_text = st.text(_chars, min_size=1, max_size=60).filter(lambda t: t.strip() != "")
# Alt text is one line per attachment: no line breaks inside, no spaces at its ends.
_alt = st.text(_chars.filter(lambda c: c not in "\n\r"), min_size=1, max_size=40).map(str.strip).filter(bool)
_recurrences = st.sampled_from([
    None, {"kind": "daily"}, {"kind": "weekly", "weekdays": [1, 4]},
    {"kind": "monthly", "monthday": 31, "month_end": "last_day", "until": "2027-12-31"},
])


@st.composite
def export_rows(draw: st.DrawFn, allow_cr: bool) -> list[ExportRow]:
    count = draw(st.integers(1, 6))
    rows = []
    for i in range(count):
        parts = draw(st.lists(_text, min_size=1, max_size=3))
        parts = [f"{parts[0]} #{i}", *parts[1:]]
        assume(THREAD_BREAK.join(parts).split(THREAD_BREAK) == parts)
        if not allow_cr:
            assume(not any("\r" in p for p in parts))
        status = draw(st.sampled_from(["scheduled", "draft"]))
        dated = status == "scheduled" or draw(st.booleans())
        minutes = draw(st.integers(60, 60 * 24 * 400))
        ids = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True))
        rec = draw(_recurrences) if dated else None
        media = tuple(draw(st.lists(st.sampled_from(["https://cdn.test/a.jpg", "https://cdn.test/b.png"]),
                                    max_size=2, unique=True)))
        rows.append(ExportRow(
            scheduled_at=(NOW + timedelta(minutes=minutes, seconds=draw(st.integers(0, 59)))) if dated else None,
            timezone=draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])),
            accounts=tuple(REFS[i] for i in ids),
            text=parts[0],
            thread=tuple(parts[1:]),
            media=media,
            alt_texts=tuple(draw(st.one_of(st.just(""), _alt)) for _ in media),
            first_comment=draw(st.one_of(st.just(""), _text)),
            title=draw(st.one_of(st.just(""), _text.map(str.strip).filter(bool))),
            recurrence=rec,
            status=status,
        ))
    return rows


def _assert_round_trip(rows: list[ExportRow], path: Path) -> None:
    export(rows, path)
    _, judged = prepare(path, ROUND_TRIP_ACCOUNTS, ImportOptions(timezone="Pacific/Auckland"), NOW)
    assert len(judged) == len(rows)
    by_ref = {v: k for k, v in REFS.items()}
    for original, row in zip(rows, judged, strict=True):
        assert row.status is RowStatus.VALID, [str(e) for e in row.errors]
        spec = row.spec
        assert spec is not None
        assert spec.text == original.text and spec.thread == original.thread
        assert spec.account_ids == tuple(by_ref[r] for r in original.accounts)
        assert spec.scheduled_at == original.scheduled_at
        assert spec.timezone == original.timezone
        assert tuple(m.source for m in spec.media) == original.media
        assert tuple(m.alt_text for m in spec.media) == (original.alt_texts or ("",) * len(original.media))
        assert spec.first_comment == original.first_comment and spec.title == original.title
        assert format_recurrence(spec.recurrence) == format_recurrence(original.recurrence)
        assert spec.draft == (original.status == "draft")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.filter_too_much])
@given(rows=export_rows(allow_cr=True))
def test_csv_export_then_import_is_lossless(tmp_path: Path, rows: list[ExportRow]) -> None:
    _assert_round_trip(rows, tmp_path / "round.csv")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.filter_too_much])
@given(rows=export_rows(allow_cr=False))
def test_xlsx_export_then_import_is_lossless(tmp_path: Path, rows: list[ExportRow]) -> None:
    _assert_round_trip(rows, tmp_path / "round.xlsx")


def test_alt_text_lines_pair_with_the_media_and_extra_lines_are_a_clear_error(tmp_path: Path) -> None:
    day = (NOW + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    path = tmp_path / "alt.csv"
    path.write_text(
        "Date,Account,Text,Media,Alt text\n"
        f'{day},{REFS[1]},two pictures,"https://cdn.test/a.jpg\nhttps://cdn.test/b.png","\nA bowl, glazed sage"\n'
        f'{day},{REFS[1]},one picture,https://cdn.test/a.jpg,"first\nsecond"\n', encoding="utf-8")
    _, judged = prepare(path, ROUND_TRIP_ACCOUNTS, ImportOptions(timezone="UTC"), NOW)
    ok, bad = judged
    assert ok.status is RowStatus.VALID and ok.spec is not None
    assert [m.alt_text for m in ok.spec.media] == ["", "A bowl, glazed sage"]  # an empty line skips one
    assert bad.status is RowStatus.INVALID
    assert any("2 alt texts for 1 attachment" in str(e) for e in bad.errors)


def test_a_post_at_the_end_of_the_calendar_exports_and_imports_as_a_row_error(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from app.importer.rows import ImportOptions, RowStatus, open_sheet, parse_rows

    row = ExportRow(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "Europe/Berlin", ("alice_x",), "far away")
    for suffix in ("xlsx", "csv"):
        path = tmp_path / f"end.{suffix}"
        export([row], path)
        sheet = open_sheet(path)
        (judged,) = parse_rows(sheet, sheet.mapping, ROUND_TRIP_ACCOUNTS, ImportOptions(timezone="UTC"), NOW)
        assert judged.status is RowStatus.INVALID
        assert "9999-12-31 is not a date a post can have" in str(judged.errors[0])
