"""Drag-to-schedule with real mouse events on the calendar widgets, against a real data dir."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.core.models import PostStatus
from tests.ui.conftest import ZONE, at_local, click, drag, local_today, make_post

TZ = ZoneInfo(ZONE)


def _show_month_of(window, day):  # type: ignore[no-untyped-def]
    window.set_view("month")
    window.month.set_cursor(day)
    window.reload()


def _chip_center(view, post_id: int) -> QPoint:  # type: ignore[no-untyped-def]
    rect = view.chip_rect(post_id)
    assert rect is not None, f"post {post_id} has no chip on screen"
    return rect.center().toPoint()


def _day_center(view, day) -> QPoint:  # type: ignore[no-untyped-def]
    rect = view.day_rect(day)
    assert rect is not None
    return QPoint(int(rect.center().x()), int(rect.bottom() - 8))


def test_dragging_a_post_to_another_day_keeps_its_time_of_day(qtbot, window, runtime) -> None:
    source = local_today() + timedelta(days=9)
    post_id = make_post(runtime, at_local(source, 14, 35))
    _show_month_of(window, source)
    target = source + timedelta(days=3)
    drag(window.month.viewport(), _chip_center(window.month, post_id), _day_center(window.month, target))
    moved = runtime.planner.post(post_id)
    assert moved.scheduled_at == at_local(target, 14, 35)
    assert moved.status is PostStatus.SCHEDULED


def test_a_week_view_drop_takes_the_day_and_the_time_snapped_to_15_minutes(qtbot, window, runtime) -> None:
    source = local_today() + timedelta(days=8)
    post_id = make_post(runtime, at_local(source, 9, 0))
    window.set_view("week")
    window.week.set_cursor(source)
    window.week.scroll_to_time(at_local(source, 8, 0).astimezone(TZ).time())
    window.reload()
    week = window.week
    chip = week.chip_rect(post_id)
    assert chip is not None
    grab = QPoint(int(chip.center().x()), int(chip.top() + 4))
    target_day = week.first_day() + timedelta(days=((source - week.first_day()).days + 1) % 7)
    # Drop with the chip's top 5 px below 11:30: the nearest slot is 11:30.
    drop = week.point_for(target_day, at_local(source, 11, 30).astimezone(TZ).time())
    drop = QPoint(drop.x(), drop.y() - 3 + 5 + 4)
    drag(week.viewport(), grab, drop)
    assert runtime.planner.post(post_id).scheduled_at == at_local(target_day, 11, 30)


def test_a_drop_on_the_past_is_refused_with_a_visible_reason(qtbot, window, runtime) -> None:
    today = local_today()
    post_id = make_post(runtime, at_local(today + timedelta(days=2), 10, 0))
    _show_month_of(window, today)
    yesterday = today - timedelta(days=1)
    if window.month.day_rect(yesterday) is None:  # the 1st of a month that starts on the grid's first day
        window.month.set_cursor(yesterday)
        window.reload()
    before = runtime.planner.post(post_id).scheduled_at
    with qtbot.waitSignal(window.month.dropRefused) as refused:
        drag(window.month.viewport(), _chip_center(window.month, post_id), _day_center(window.month, yesterday))
    assert "past" in refused.args[0]
    assert window.toast.isVisible() and "past" in window.toast.text
    assert runtime.planner.post(post_id).scheduled_at == before


def test_undo_puts_a_moved_post_back_and_redo_moves_it_again(qtbot, window, runtime) -> None:
    source = local_today() + timedelta(days=10)
    post_id = make_post(runtime, at_local(source, 8, 15))
    _show_month_of(window, source)
    target = source + timedelta(days=1)
    drag(window.month.viewport(), _chip_center(window.month, post_id), _day_center(window.month, target))
    assert runtime.planner.post(post_id).scheduled_at == at_local(target, 8, 15)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(source, 8, 15)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(target, 8, 15)


def test_ctrl_click_selects_several_posts_and_they_move_together(qtbot, window, runtime) -> None:
    source = local_today() + timedelta(days=12)
    first = make_post(runtime, at_local(source, 9, 0), "first")
    second = make_post(runtime, at_local(source + timedelta(days=1), 17, 45), "second")
    untouched = make_post(runtime, at_local(source, 12, 0), "not selected")
    _show_month_of(window, source)
    vp = window.month.viewport()
    click(vp, _chip_center(window.month, first))
    click(vp, _chip_center(window.month, second), Qt.KeyboardModifier.ControlModifier)
    assert set(window.month.selected) == {first, second}
    drag(vp, _chip_center(window.month, first), _day_center(window.month, source + timedelta(days=2)))
    p = runtime.planner
    assert p.post(first).scheduled_at == at_local(source + timedelta(days=2), 9, 0)
    assert p.post(second).scheduled_at == at_local(source + timedelta(days=3), 17, 45)
    assert p.post(untouched).scheduled_at == at_local(source, 12, 0)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert p.post(second).scheduled_at == at_local(source + timedelta(days=1), 17, 45)


def test_a_draft_dragged_from_the_sidebar_onto_the_week_gets_scheduled(qtbot, window, runtime) -> None:
    draft = make_post(runtime, None, "an idea for later", draft=True)
    day = local_today() + timedelta(days=7)
    window.set_view("week")
    window.week.set_cursor(day)
    window.week.scroll_to_time(at_local(day, 13, 0).astimezone(TZ).time())
    window.reload()
    drafts = window.sidebar.drafts
    start = drafts.item_rect(draft)
    target = window.week.point_for(day, at_local(day, 15, 0).astimezone(TZ).time())
    end = drafts.viewport().mapFromGlobal(window.week.viewport().mapToGlobal(target))
    drag(drafts.viewport(), start, end)
    post = runtime.planner.post(draft)
    assert post.status is PostStatus.SCHEDULED
    assert post.scheduled_at == at_local(day, 15, 0)
    assert draft not in drafts.drafts


def test_a_published_post_dragged_elsewhere_offers_a_duplicate_instead_of_moving(qtbot, window, runtime) -> None:
    source = local_today() + timedelta(days=5)
    post_id = make_post(runtime, at_local(source, 10, 0), "already out")
    target_id = runtime.planner.post(post_id).targets[0].id
    _publish_by_hand(runtime, target_id)
    _show_month_of(window, source)
    target = source + timedelta(days=2)
    with qtbot.waitSignal(window.month.duplicateRequested):
        drag(window.month.viewport(), _chip_center(window.month, post_id), _day_center(window.month, target))
    assert runtime.planner.post(post_id).scheduled_at == at_local(source, 10, 0)
    assert window.toast.isVisible() and window.toast.action.isVisible()
    window.toast.action.click()
    copies = runtime.planner.posts_between(at_local(target, 0), at_local(target, 23, 59))
    assert [c.text for c in copies] == ["already out"]
    assert copies[0].status is PostStatus.SCHEDULED and copies[0].scheduled_at == at_local(target, 10, 0)


def _publish_by_hand(runtime, target_id: int) -> None:  # type: ignore[no-untyped-def]
    """Move the target to needs-review, as an unknown outcome would, then confirm it as published."""
    from app.store.schema import Target

    with runtime.db.write() as s:
        t = s.get(Target, target_id)
        t.status = "needs_review"
    runtime.planner.mark_published(target_id, "https://example.invalid/posts/1")


def test_a_chip_tooltip_has_the_full_text_and_the_error(qtbot, window, runtime) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    from app.store.schema import Target

    day = local_today() + timedelta(days=3)
    text = "A long post about glazes. " * 6
    post_id = make_post(runtime, at_local(day, 12, 0), text.strip())
    with runtime.db.write() as s:
        target = s.get(Target, runtime.planner.post(post_id).targets[0].id)
        target.status = "failed"
        target.last_error = "The sandbox said no"
        target.post.status = "failed"
    _show_month_of(window, day)
    vp = window.month.viewport()
    pos = _chip_center(window.month, post_id)
    QCoreApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, pos, vp.mapToGlobal(pos)))
    tip = QToolTip.text()
    assert "A long post about glazes. A long post about glazes." in tip
    assert "The sandbox said no" in tip and "Failed" in tip
