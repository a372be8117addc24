"""The week view opens where the posts are, and its zone corner reads right."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.ui.calendar.week import WeekView
from tests.ui.conftest import ZONE, at_local, local_today, make_post

TZ = ZoneInfo(ZONE)


def _ticking_clock(start: datetime):  # type: ignore[no-untyped-def]
    """A clock that moves on by a microsecond at every reading, as a real one does."""
    ticks = [0]

    def now() -> datetime:
        ticks[0] += 1
        return start + timedelta(microseconds=ticks[0])

    return now


def test_the_zone_corner_reads_utc_in_utc_whatever_the_clock_does_between_readings(qtbot) -> None:
    view = WeekView(ZoneInfo("UTC"))
    qtbot.addWidget(view)
    view.clock = _ticking_clock(datetime(2026, 7, 1, 12, 0, 0, 999_999, tzinfo=UTC))
    assert view.header.zone_label() == "UTC"
    view.tz = ZoneInfo("Asia/Kolkata")
    assert view.header.zone_label() == "UTC+5:30"
    view.tz = ZoneInfo("America/St_Johns")
    assert view.header.zone_label() == "UTC-2:30"  # Newfoundland daylight time in July
    view.tz = TZ
    assert view.header.zone_label() == "UTC+2"


def _visible(view: WeekView, at: time) -> bool:
    y = view.y_for(at)
    return 0 <= y <= view.viewport().height() - 20


def test_the_week_opens_at_now_when_now_is_late(qtbot) -> None:
    view = WeekView(TZ)
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    qtbot.waitExposed(view)
    evening = datetime.combine(local_today(), time(21, 5)).replace(tzinfo=TZ).astimezone(UTC)
    view.clock = lambda: evening
    view.go_today()
    view.set_posts([])
    assert _visible(view, time(21, 5))


def test_more_opens_the_week_scrolled_to_that_days_first_post(qtbot, window, runtime) -> None:
    day = local_today() + timedelta(days=7)  # next week: the week view must follow the clicked day
    ids = [make_post(runtime, at_local(day, 22, 10 * i), f"Late post {i}") for i in range(6)]
    window.set_view("month")
    window.month.set_cursor(local_today())
    window.reload()
    more = next((rect for rect, d, _n in window.month._more_rects if d == day), None)
    assert more is not None, "the day should be too full to show every post"
    QTest.mouseClick(window.month.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     more.center().toPoint())
    assert window.current_view_name() == "week"
    week = window.week
    assert week.first_day() <= day < week.first_day() + timedelta(days=7)
    first = week.chip_rect(ids[0])
    assert first is not None and first.top() >= 0 and first.bottom() <= week.viewport().height()
