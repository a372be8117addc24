"""The date matrix (reliability.md §7 E 36; import-formats.md §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.timeutil import is_ambiguous, localize, wall_time_exists
from app.importer.dates import (
    DateError,
    DateOrder,
    cell_to_datetime,
    cell_to_time,
    detect_order,
    excel_serial,
    parse_date_text,
    resolve_when,
)
from app.importer.reading import FORMULA_WITHOUT_VALUE, read_table
from tests.importer.sheets import write_xlsx

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_serials_use_the_workbook_epoch() -> None:
    # The same day is 40729 in the 1900 system and 39267 in the 1904 system (1462 days apart).
    assert excel_serial(40729, epoch_1904=False) == datetime(2011, 7, 5)
    assert excel_serial(39267, epoch_1904=True) == datetime(2011, 7, 5)
    assert excel_serial(45678.75, epoch_1904=False) == datetime(2025, 1, 21, 18, 0)


def test_serial_fractions_round_to_the_nearest_second() -> None:
    almost = 45678 + (9 * 3600 + 30 * 60 - 0.0004) / 86400
    assert excel_serial(almost, epoch_1904=False) == datetime(2025, 1, 21, 9, 30)


def test_general_formatted_serials_in_1900_and_1904_workbooks_give_the_same_instant(tmp_path: Path) -> None:
    t1900 = read_table(write_xlsx(tmp_path / "w.xlsx", [["Date"], [45678.75]]))
    t1904 = read_table(write_xlsx(tmp_path / "m.xlsx", [["Date"], [45678.75 - 1462]], epoch_1904=True))
    a = resolve_when(t1900.rows[1][1][0], None, BERLIN, epoch_1904=t1900.epoch_1904)
    b = resolve_when(t1904.rows[1][1][0], None, BERLIN, epoch_1904=t1904.epoch_1904)
    assert a is not None and b is not None
    assert a.instant == b.instant == datetime(2025, 1, 21, 17, 0, tzinfo=UTC)


def test_native_date_cells_in_a_1904_workbook_read_as_the_displayed_date(tmp_path: Path) -> None:
    shown = datetime(2026, 7, 1, 9, 30)
    a = read_table(write_xlsx(tmp_path / "w.xlsx", [["Date"], [shown]])).rows[1][1][0]
    b = read_table(write_xlsx(tmp_path / "m.xlsx", [["Date"], [shown]], epoch_1904=True)).rows[1][1][0]
    assert a == b == shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01T09:30:00+02:00", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("2026-07-01 09:30Z", datetime(2026, 7, 1, 9, 30, tzinfo=UTC)),
        ("2026-07-01T09:30:00-04:00", datetime(2026, 7, 1, 13, 30, tzinfo=UTC)),
        ("2026-07-01 09:30", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),  # naive: Berlin summer time
        ("2026-07-01T09:30:15", datetime(2026, 7, 1, 7, 30, 15, tzinfo=UTC)),
        ("2026/07/01 09:30", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("1 Jul 2026 9:30", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("July 1, 2026 2:30 PM", datetime(2026, 7, 1, 12, 30, tzinfo=UTC)),
        ("25/12/2026 09:00", datetime(2026, 12, 25, 8, 0, tzinfo=UTC)),
        ("12/25/2026 9:00 am", datetime(2026, 12, 25, 8, 0, tzinfo=UTC)),
        ("25.12.2026 18:45", datetime(2026, 12, 25, 17, 45, tzinfo=UTC)),
    ],
)
def test_text_dates(text: str, expected: datetime) -> None:
    when = resolve_when(text, None, BERLIN)
    assert when is not None and when.instant == expected


def test_ambiguous_numeric_dates_need_an_order() -> None:
    with pytest.raises(DateError, match="could be 3 April or 4 March"):
        resolve_when("03/04/2027 10:00", None, BERLIN)
    day_first = resolve_when("03/04/2027 10:00", None, BERLIN, order=DateOrder.DAY_FIRST)
    month_first = resolve_when("03/04/2027 10:00", None, BERLIN, order=DateOrder.MONTH_FIRST)
    assert day_first is not None and month_first is not None
    assert day_first.instant.date() == date(2027, 4, 3) and month_first.instant.date() == date(2027, 3, 4)
    same_day = resolve_when("05/05/2027 10:00", None, BERLIN)
    assert same_day is not None and same_day.instant.date() == date(2027, 5, 5)


def test_a_date_that_contradicts_the_chosen_order_is_an_error() -> None:
    with pytest.raises(DateError, match="cannot be month-first"):
        resolve_when("25/12/2026 09:00", None, BERLIN, order=DateOrder.MONTH_FIRST)


def test_a_column_decides_its_own_order_when_one_value_is_unambiguous() -> None:
    assert detect_order(["03/04/2026", "25/12/2026", None, 5]) is DateOrder.DAY_FIRST
    assert detect_order(["03/04/2026", "12/25/2026"]) is DateOrder.MONTH_FIRST
    assert detect_order(["03/04/2026", "2026-07-01"]) is DateOrder.UNKNOWN
    assert detect_order(["25/12/2026", "12/25/2026"]) is None


def test_separate_date_and_time_columns() -> None:
    cases = [
        (date(2026, 7, 1), time(9, 30)),
        (datetime(2026, 7, 1), time(9, 30)),
        ("2026-07-01", "09:30"),
        ("2026-07-01", "9:30 AM"),
        (datetime(2026, 7, 1), 9.5 / 24),  # a General-formatted time fraction
        (datetime(2026, 7, 1), timedelta(hours=9, minutes=30)),  # a [h]:mm cell
        (46204, "09:30"),
    ]
    for d, t in cases:
        when = resolve_when(d, t, BERLIN)
        assert when is not None and when.instant == datetime(2026, 7, 1, 7, 30, tzinfo=UTC), (d, t)


def test_a_date_without_a_time_is_an_error() -> None:
    with pytest.raises(DateError, match="no time of day"):
        resolve_when("2026-07-01", None, BERLIN)
    with pytest.raises(DateError, match="Both Date and Time"):
        resolve_when(datetime(2026, 7, 1, 8, 0), "09:30", BERLIN)
    with pytest.raises(DateError, match="no date"):
        resolve_when(None, "09:30", BERLIN)
    assert resolve_when(None, None, BERLIN) is None


def test_dst_gap_moves_forward_with_a_warning() -> None:
    when = resolve_when("2026-03-08 02:30", None, NEW_YORK)
    assert when is not None
    assert when.instant.astimezone(NEW_YORK).time() == time(3, 30)
    assert "does not exist" in when.warning and "03:30" in when.warning


def test_dst_fold_takes_the_first_occurrence_with_a_warning() -> None:
    when = resolve_when("2026-11-01 01:30", None, NEW_YORK)
    assert when is not None
    assert when.instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT, the first 01:30
    assert "happens twice" in when.warning
    plain = resolve_when("2026-11-02 01:30", None, NEW_YORK)
    assert plain is not None and plain.warning == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next Friday at 2 PM", "2026-12-24 09:30"),
        ("2026-13-01 09:00", "not a valid date"),
        ("31/02/2026 09:00", "not a real date"),
        ("2026-07-01 25:00", "not a valid date"),
        ("tomorrow", "not a date I can read"),
        (True, "not a date"),
        (time(9, 30), "without a date"),
        (FORMULA_WITHOUT_VALUE, "formula without a saved value"),
        (-5, "not a date"),
    ],
)
def test_bad_dates_say_how_to_write_them(value: object, message: str) -> None:
    with pytest.raises(DateError, match=message):
        resolve_when(value, None, BERLIN)  # type: ignore[arg-type]


def test_time_cells() -> None:
    assert cell_to_time("14:05") == time(14, 5)
    assert cell_to_time("2pm") == time(14, 0)
    assert cell_to_time("12:15 am") == time(0, 15)
    assert cell_to_time("9h30") == time(9, 30)
    for bad in ("14", "13:00 pm", "9:75", "noon"):
        with pytest.raises(DateError):
            cell_to_time(bad)


def test_numbers_in_csv_date_text_are_serials_and_dates_without_time_are_dates() -> None:
    assert cell_to_datetime("45678.75", False, DateOrder.UNKNOWN) == datetime(2025, 1, 21, 18, 0)
    assert parse_date_text("2026-07-01", DateOrder.UNKNOWN) == date(2026, 7, 1)
    assert parse_date_text("1 July 2026", DateOrder.UNKNOWN) == date(2026, 7, 1)


@settings(max_examples=200, deadline=None)
@given(wall=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)).map(
    lambda d: d.replace(microsecond=0)),
       name=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]))
def test_row_localisation_agrees_with_timeutil(wall: datetime, name: str) -> None:
    tz = ZoneInfo(name)
    when = resolve_when(wall, None, tz)
    assert when is not None
    assert when.instant == localize(wall, tz)
    moved = not wall_time_exists(wall, tz)
    twice = is_ambiguous(wall, tz)
    assert ("does not exist" in when.warning) == moved
    assert ("happens twice" in when.warning) == twice
