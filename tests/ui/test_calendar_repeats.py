"""A recurring series on the real window: every coming occurrence shows, and changing one asks
"only this one, this and the following ones, or all" (real mouse events, real SQLite file)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from app.core.models import PostSpec, PostStatus
from app.core.recurrence import Recurrence, RepeatKind
from app.engine.repeat import Repeat
from app.ui.calendar.repeats import actions_for
from app.ui.calendar.timeline import add_months
from tests.ui.conftest import ZONE, at_local, drag, local_today

TZ = ZoneInfo(ZONE)


def _daily_from_tomorrow(runtime, text: str = "Daily tip: wedge your clay") -> int:  # type: ignore[no-untyped-def]
    account = runtime.planner.default_account_id()
    return runtime.planner.create_post(PostSpec(text, (account,), at_local(local_today() + timedelta(days=1), 10), ZONE,
                                                recurrence=Recurrence(RepeatKind.DAILY).to_dict()))


def _next_month(window) -> date:  # type: ignore[no-untyped-def]
    first = add_months(local_today().replace(day=1), 1)
    window.set_view("month")
    window.month.set_cursor(first)
    window.reload()
    return first


def _answer(qtbot, window, label: str) -> None:  # type: ignore[no-untyped-def]
    actions = actions_for(window)
    qtbot.waitUntil(lambda: actions.question is not None and actions.question.isVisible())
    box = actions.question
    assert box is not None
    button = next(b for b in box.buttons() if b.text() == label)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())


def _days_in_month(first: date) -> int:
    return (add_months(first, 1) - first).days


def test_every_coming_occurrence_of_a_series_shows_in_month_week_and_agenda(qtbot, window, runtime) -> None:
    head = _daily_from_tomorrow(runtime)
    first = _next_month(window)
    in_month = [p for p in window.month.posts if p.scheduled_at and p.scheduled_at.astimezone(TZ).month == first.month]
    assert len(in_month) == _days_in_month(first)  # one a day, all of them repeats of the stored one
    assert all(isinstance(p, Repeat) and p.head_id == head for p in in_month)
    assert window.month.chip_rect(in_month[10].id) is not None  # painted as a chip
    window.set_view("week")
    window.week.set_cursor(first + timedelta(days=7))
    window.reload()
    assert sum(isinstance(p, Repeat) for p in window.week.posts) == 7
    window.set_view("agenda")
    window.agenda.set_cursor(first)
    window.reload()
    assert len(window.agenda.posts) == 31 and all(isinstance(p, Repeat) for p in window.agenda.posts)


def test_dragging_a_repeat_asks_and_only_this_one_moves_then_undo_puts_it_back(qtbot, window, runtime) -> None:
    _daily_from_tomorrow(runtime)
    first = _next_month(window)
    source = first + timedelta(days=9)
    repeat = next(p for p in window.month.posts if isinstance(p, Repeat)
                  and p.scheduled_at.astimezone(TZ).date() == source)
    rect = window.month.chip_rect(repeat.id)
    target_cell = window.month.day_rect(source + timedelta(days=1))
    assert rect is not None and target_cell is not None
    drag(window.month.viewport(), rect.center().toPoint(),
         QPoint(int(target_cell.center().x()), int(target_cell.bottom() - 6)))
    _answer(qtbot, window, "Only this one")
    stored = [p for p in runtime.planner.posts_between(at_local(first, 0), at_local(add_months(first, 1), 0))]
    assert [(p.scheduled_at, p.recurrence) for p in stored] == [(at_local(source + timedelta(days=1), 10), None)]
    days = [p.scheduled_at.astimezone(TZ).date() for p in window.month.posts if p.status is PostStatus.SCHEDULED]
    assert source not in days and days.count(source + timedelta(days=1)) == 2  # its own, and that day's repeat
    window.undo.undo()
    assert runtime.planner.posts_between(at_local(first, 0), at_local(add_months(first, 1), 0)) == []
    window.reload()
    assert source in [p.scheduled_at.astimezone(TZ).date() for p in window.month.posts]


def test_opening_a_repeat_offers_the_series_and_all_opens_its_stored_post(qtbot, window, runtime) -> None:
    head = _daily_from_tomorrow(runtime)
    _next_month(window)
    repeat = next(p for p in window.month.posts if isinstance(p, Repeat))
    rect = window.month.chip_rect(repeat.id)
    assert rect is not None
    QTest.mouseDClick(window.month.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      rect.center().toPoint())
    _answer(qtbot, window, "All in the series")
    qtbot.waitUntil(lambda: bool(window.editors))
    assert window.editors[-1].post is not None and window.editors[-1].post.id == head
    window.editors[-1].close()


def test_cancelling_this_and_the_following_from_the_chip_menu_ends_the_series_there(qtbot, window, runtime) -> None:
    _daily_from_tomorrow(runtime)
    first = _next_month(window)
    cut = first + timedelta(days=14)
    repeat = next(p for p in window.month.posts if isinstance(p, Repeat)
                  and p.scheduled_at.astimezone(TZ).date() == cut)
    actions_for(window).cancel(repeat)  # what the chip's "Cancel…" item runs
    box = actions_for(window).question
    assert isinstance(box, QMessageBox) and "Cancel" in box.text()
    _answer(qtbot, window, "This and the following ones")
    days = [p.scheduled_at.astimezone(TZ).date() for p in window.month.posts if isinstance(p, Repeat)]
    assert days and max(days) == cut - timedelta(days=1)
    window.undo.undo()
    window.reload()
    days = [p.scheduled_at.astimezone(TZ).date() for p in window.month.posts if isinstance(p, Repeat)]
    assert max(days) > cut


def test_selecting_a_repeat_shows_its_series_in_the_details(qtbot, window, runtime) -> None:
    head = _daily_from_tomorrow(runtime)
    _next_month(window)
    repeat = next(p for p in window.month.posts if isinstance(p, Repeat))
    rect = window.month.chip_rect(repeat.id)
    assert rect is not None
    with qtbot.waitSignal(window.month.selectionChanged) as selected:
        QTest.mouseClick(window.month.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         rect.center().toPoint())
    assert selected.args[0] == [head]
    assert window.selected_id == head


def test_cancel_in_the_details_of_a_selected_repeat_asks_and_cancels_only_that_one(qtbot, window, runtime) -> None:
    head = _daily_from_tomorrow(runtime)
    first = _next_month(window)
    day = first + timedelta(days=4)
    repeat = next(p for p in window.month.posts if isinstance(p, Repeat)
                  and p.scheduled_at.astimezone(TZ).date() == day)
    rect = window.month.chip_rect(repeat.id)
    assert rect is not None
    QTest.mouseClick(window.month.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     rect.center().toPoint())
    window.run_action("cancel", head)  # the details panel's Cancel, for the series' stored post
    _answer(qtbot, window, "Only this one")
    assert runtime.planner.post(head).status is PostStatus.SCHEDULED  # the series goes on
    stored = runtime.planner.posts_between(at_local(day, 0), at_local(day + timedelta(days=1), 0))
    assert [p.status for p in stored] == [PostStatus.CANCELLED]


def test_opening_a_repeat_in_the_agenda_asks_too(qtbot, window, runtime) -> None:
    _daily_from_tomorrow(runtime)
    window.set_view("agenda")
    window.agenda.set_cursor(local_today() + timedelta(days=3))
    window.reload()
    repeat = next(p for p in window.agenda.posts if isinstance(p, Repeat))
    row = window.agenda.list.post_rect(repeat.id)
    assert row is not None
    QTest.mouseDClick(window.agenda.list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      row.center().toPoint())
    _answer(qtbot, window, "Only this one")
    qtbot.waitUntil(lambda: bool(window.editors))
    opened = window.editors[-1].post
    assert opened is not None and opened.recurrence is None and opened.scheduled_at == repeat.scheduled_at
    window.editors[-1].close()
