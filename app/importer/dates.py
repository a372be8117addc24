"""Dates and times as spreadsheets hold them, turned into aware UTC instants.

Accepted (import-formats.md §3, reliability.md §5 I5): native Excel dates in the 1900 and 1904
systems; serial numbers in cells formatted General; ISO 8601 with or without an offset;
`YYYY/MM/DD`; day-first or month-first numeric dates (`03/04/2026`), which must be decided by the
user when the file does not decide them; dates with month names (`24 Dec 2026`); separate
date and time columns. Naive values are wall-clock times in the row's zone; the DST gap and
fold policies of `app.core.timeutil` apply and are reported as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from app.importer.reading import CellFault, CellValue

HINT = "write it like 2026-12-24 09:30"
_MAX_SERIAL = 2_958_465  # 9999-12-31


class DateOrder(StrEnum):
    """How to read `03/04/2026`. UNKNOWN refuses values that could be either."""

    UNKNOWN = "unknown"
    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"


class DateError(ValueError):
    """A date or time cell that cannot be used; the message says why and how to write it."""


@dataclass(frozen=True, slots=True)
class When:
    instant: datetime  # aware, UTC
    warning: str = ""


_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?$")
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T,]+(.+))?$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.+))?$")
_TIME = re.compile(
    r"^(\d{1,2})(?:[:.h](\d{2}))?(?::(\d{2})(?:\.\d+)?)?\s*([ap])?\.?\s*(?:m\.?)?$", re.IGNORECASE
)
_MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def excel_serial(value: float, epoch_1904: bool) -> datetime:
    """The wall-clock time of an Excel serial in the workbook's date system."""
    if not 0 < value <= _MAX_SERIAL:
        raise DateError(f"{value:g} is not a date; {HINT}.")
    result = from_excel(value, MAC_EPOCH if epoch_1904 else WINDOWS_EPOCH)
    if isinstance(result, time):
        raise DateError(f"{value:g} is a time of day without a date; {HINT}.")
    return _round_second(result)


def _round_second(value: datetime) -> datetime:
    if not value.microsecond:
        return value
    if value.microsecond >= 500_000:
        value += timedelta(seconds=1)
    return value.replace(microsecond=0)


def numeric_parts_order(text: str) -> DateOrder | None:
    """What a numeric date decides on its own: DAY_FIRST for 25/12/2026, MONTH_FIRST for
    12/25/2026, None when either reading is possible or the text is not such a date."""
    m = _NUMERIC.match(text.strip())
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(3))
    if a > 12 >= b:
        return DateOrder.DAY_FIRST
    if b > 12 >= a:
        return DateOrder.MONTH_FIRST
    return None


def is_ambiguous_numeric(text: str) -> bool:
    """True for numeric dates like 03/04/2026 that name two different days by order."""
    m = _NUMERIC.match(text.strip())
    return m is not None and int(m.group(1)) != int(m.group(3)) and numeric_parts_order(text) is None


def detect_order(values: Iterable[object]) -> DateOrder | None:
    """The order a column's numeric dates imply, UNKNOWN when they imply nothing, None when
    some rows are clearly day-first and others clearly month-first."""
    seen: set[DateOrder] = set()
    for v in values:
        if isinstance(v, str) and (order := numeric_parts_order(v)) is not None:
            seen.add(order)
    if len(seen) > 1:
        return None
    return seen.pop() if seen else DateOrder.UNKNOWN


def parse_time_text(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise DateError(f"{text.strip()!r} is not a time of day; write it like 09:30 or 2:30 PM.")
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    meridiem = (m.group(4) or "").lower()
    if m.group(2) is None and not meridiem:
        raise DateError(f"{text.strip()!r} is not a time of day; write it like 09:30 or 2:30 PM.")
    if meridiem:
        if not 1 <= hour <= 12:
            raise DateError(f"{text.strip()!r}: with AM/PM the hour runs from 1 to 12.")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise DateError(f"{text.strip()!r} is not a time of day; write it like 09:30 or 2:30 PM.")
    return time(hour, minute, second)


def parse_date_text(text: str, order: DateOrder) -> datetime | date:
    """A naive datetime, an aware datetime (an offset was given) or a date (no time given)."""
    order = DateOrder(order)  # a plain "day-first" string (from Qt item data, argparse) is fine too
    raw = text.strip()
    if _NUMBER.match(raw):
        raise DateError(f"{raw} is a number, not a date; {HINT}.")
    if _ISO.match(raw):
        candidate = raw.replace(" ", "T", 1)
        if candidate[-1:] in "zZ":
            candidate = candidate[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            try:
                from dateutil.parser import isoparse

                parsed = isoparse(candidate)
            except (ValueError, OverflowError) as exc:
                raise DateError(f"{raw!r} is not a valid date; {HINT}.") from exc
        if "T" not in candidate:
            return parsed.date()
        return _round_second(parsed)
    if m := _YMD_SLASH.match(raw):
        return _assemble(raw, int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4))
    if m := _NUMERIC.match(raw):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if year < 100:
            year += 2000
        own = numeric_parts_order(raw)
        if a == b:  # 05/05: either reading gives the same day
            own = order if order is not DateOrder.UNKNOWN else DateOrder.DAY_FIRST
        use = own or order
        if own is not None and order is not DateOrder.UNKNOWN and own is not order:
            raise DateError(f"{raw!r} cannot be {order.value}; check the date order you chose.")
        if use is DateOrder.UNKNOWN:
            raise DateError(
                f"{raw!r} could be {_spell(a, b, year)} or {_spell(b, a, year)}; "
                "choose day-first or month-first dates."
            )
        day, month = (a, b) if use is DateOrder.DAY_FIRST else (b, a)
        return _assemble(raw, year, month, day, m.group(5))
    if _MONTH_WORD.search(raw) and re.search(r"\b\d{4}\b", raw):
        from dateutil.parser import ParserError, parse

        try:
            parsed = parse(raw, dayfirst=order is not DateOrder.MONTH_FIRST)
        except (ParserError, ValueError, OverflowError) as exc:
            raise DateError(f"{raw!r} is not a date I can read; {HINT}.") from exc
        has_time = bool(re.search(r"\d:\d|\d\s*[ap]\.?m\b", raw, re.IGNORECASE))
        return _round_second(parsed) if has_time else parsed.date()
    raise DateError(f"{raw!r} is not a date I can read; {HINT}.")


def _spell(day: int, month: int, year: int) -> str:
    try:
        d = date(year, month, day)
        return f"{d.day} {d:%B}"
    except ValueError:
        return f"day {day} of month {month}"


def _assemble(raw: str, year: int, month: int, day: int, time_text: str | None) -> datetime | date:
    try:
        day_value = date(year, month, day)
    except ValueError as exc:
        raise DateError(f"{raw!r} is not a real date ({exc}).") from exc
    if not time_text:
        return day_value
    return datetime.combine(day_value, parse_time_text(time_text))


def cell_to_datetime(value: CellValue, epoch_1904: bool, order: DateOrder) -> datetime | date:
    """A Date cell as a naive or aware datetime, or a date when it has no time of day."""
    if isinstance(value, CellFault):
        raise DateError(_fault_text(value))
    if isinstance(value, bool):
        raise DateError(f"{value} is not a date; {HINT}.")
    if isinstance(value, datetime):
        return _round_second(value)
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return excel_serial(float(value), epoch_1904)
    if isinstance(value, time | timedelta):
        raise DateError(f"{value} is a time of day without a date; {HINT}.")
    if isinstance(value, str):
        if _NUMBER.match(value.strip()):  # a CSV saved from a General-formatted date column
            return excel_serial(float(value.strip()), epoch_1904)
        return parse_date_text(value, order)
    raise DateError(f"Cannot read a date from {value!r}; {HINT}.")


def cell_to_time(value: CellValue) -> time:
    if isinstance(value, CellFault):
        raise DateError(_fault_text(value))
    if isinstance(value, datetime):
        return _round_second(value).time()
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, timedelta) and timedelta(0) <= value < timedelta(days=1):
        return (datetime.min + value).time().replace(microsecond=0)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        seconds = round(value * 86400)
        return (datetime.min + timedelta(seconds=min(seconds, 86399))).time()
    if isinstance(value, str):
        return parse_time_text(value)
    raise DateError(f"{value!r} is not a time of day; write it like 09:30 or 2:30 PM.")


def _fault_text(value: CellFault) -> str:
    if value.kind == "formula":
        return "This cell has a formula without a saved value; open the file in Excel, save it, and import again."
    return f"This cell shows the Excel error {value.text}; fix it in the spreadsheet."


FIRST_YEAR, LAST_YEAR = 1900, 9998  # beyond these a zone conversion overflows; no post is meant for them


def resolve_when(
    date_value: CellValue,
    time_value: CellValue,
    tz: tzinfo,
    *,
    epoch_1904: bool = False,
    order: DateOrder = DateOrder.UNKNOWN,
    default_time: time | None = None,
    time_column: bool = False,
) -> When | None:
    """The instant a row's Date (and optional Time) cells name, or None when both are blank.

    A date without a time of day is refused unless `default_time` is given (then used, with a
    warning). A Time cell holding a whole date and time (a "Post time" column of ISO instants)
    is read as the date: what the cell holds wins over its header. With `time_column` (the
    sheet has a Time column) a midnight date beside a blank Time cell counts as a bare day.
    """
    if date_value is None:
        if time_value is None:
            return None
        try:
            whole = cell_to_datetime(time_value, epoch_1904, order)
        except DateError:
            whole = None
        if not isinstance(whole, datetime):
            raise DateError("There is a time but no date; fill in the Date column.")
        date_value, time_value = whole, None
    parsed = cell_to_datetime(date_value, epoch_1904, order)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise DateError(f"{parsed.isoformat()[:10]} is not a date a post can have; {HINT}.")
    if (time_column and time_value is None and isinstance(parsed, datetime) and parsed.tzinfo is None
            and parsed.time() == time(0)):
        parsed = parsed.date()
    if time_value is not None:
        at = cell_to_time(time_value)
        if isinstance(parsed, datetime):
            if parsed.tzinfo is not None or parsed.time() not in (time(0), at):
                raise DateError("Both Date and Time give a time of day; keep one of them.")
            parsed = parsed.date()
        parsed = datetime.combine(parsed, at)
    note = ""
    if not isinstance(parsed, datetime):
        if default_time is None:
            raise DateError(f"{parsed.isoformat()} has no time of day; add one (2026-12-24 09:30), fill the Time "
                            "column, or choose a default time.")
        parsed = datetime.combine(parsed, default_time)
        note = f"No time of day given; scheduled at the default time {default_time:%H:%M}."
    try:
        when = When(parsed.astimezone(UTC)) if parsed.tzinfo is not None else _localized(parsed, tz)
    except (OverflowError, ValueError) as exc:
        raise DateError(f"{parsed:%Y-%m-%d %H:%M} cannot be converted to a time zone; {HINT}.") from exc
    if note:
        return When(when.instant, f"{note} {when.warning}".strip())
    return when


def _localized(wall: datetime, tz: tzinfo) -> When:
    """`timeutil.localize` (gap: shift forward; fold: first) plus a warning saying which applied.

    Same rules as `timeutil.wall_time_exists` and `is_ambiguous`, computed once per row.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    local = instant.astimezone(tz)
    if local.replace(tzinfo=None) != wall:
        return When(instant, f"{wall:%H:%M} does not exist on {wall:%d %b %Y} (clocks go forward); "
                             f"scheduled at {local:%H:%M} instead.")
    if first.utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset():
        return When(instant, f"{wall:%H:%M} happens twice on {wall:%d %b %Y} (clocks go back); "
                             "the first one is used.")
    return When(instant)
