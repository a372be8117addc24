"""The main window around the calendar: keyboard, details and its actions, missed-posts banner,
agenda filters, and failures announced from the tray."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton

from app.core.models import PostStatus
from app.core.timeutil import utcnow
from app.engine.publisher import PublisherSettings
from app.engine.runtime import Runtime
from app.ui.calendar.timeline import add_months
from app.ui.main_window import MainWindow
from app.ui.tray import Tray
from tests.ui.conftest import ZONE, at_local, local_today, make_post


def _texts(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


def _buttons(widget, text: str) -> list[QPushButton]:  # type: ignore[no-untyped-def]
    return [b for b in widget.findChildren(QPushButton) if b.text() == text and b.isVisibleTo(widget)]


async def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_keyboard_pages_months_and_t_comes_back_to_today(qtbot, window) -> None:
    window.set_view("month")
    month = window.month
    month.setFocus()
    today = local_today()
    QTest.keyClick(month, Qt.Key.Key_PageDown)
    assert month.month == add_months(today, 1).replace(day=1)
    assert window.header.title.text() == month.month.strftime("%B %Y")
    QTest.keyClick(month, Qt.Key.Key_Right)
    QTest.keyClick(month, Qt.Key.Key_Down)
    assert month.cursor_day == add_months(today, 1) + timedelta(days=8)
    QTest.keyClick(month, Qt.Key.Key_T)
    assert month.cursor_day == today and month.month == today.replace(day=1)
    assert window.header.title.text() == today.strftime("%B %Y")
    assert window.header.zone.text() == ZONE.replace("_", " ")


def test_selecting_a_post_shows_its_targets_and_delete_asks_then_can_be_undone(qtbot, window, runtime) -> None:
    day = local_today() + timedelta(days=4)
    post_id = make_post(runtime, at_local(day, 16, 20), "to be deleted")
    window.set_view("month")
    window.month.set_cursor(day)
    window.reload()
    rect = window.month.chip_rect(post_id)
    QTest.mouseClick(window.month.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     rect.center().toPoint())
    details = window.details
    assert details.isVisible() and details.post is not None and details.post.id == post_id
    qtbot.waitUntil(lambda: "to be deleted" in _texts(details.content))  # new rows show on the next event
    assert "Sandbox" in _texts(details.content)  # where it goes, its name said once
    assert "Sandbox · Sandbox" not in _texts(details.content)
    assert details.edit_button.isVisible() and details.cancel_button.isVisible()
    assert not details.retry_button.isVisible()  # nothing to retry on a scheduled post
    details.delete_button.click()
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert runtime.planner.post(post_id)  # nothing happens before the answer
    next(b for b in box.buttons() if b.text() == "Delete").click()
    assert runtime.planner.posts_between(at_local(day, 0), at_local(day, 23, 59)) == []
    assert not details.isVisible()
    window.activateWindow()  # the question box had the focus
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    restored = runtime.planner.posts_between(at_local(day, 0), at_local(day, 23, 59))
    assert [p.text for p in restored] == ["to be deleted"] and restored[0].scheduled_at == at_local(day, 16, 20)


def test_the_agenda_filters_by_text_and_status(qtbot, window, runtime) -> None:
    day = local_today() + timedelta(days=2)
    make_post(runtime, at_local(day, 9, 0), "kiln opening livestream")
    make_post(runtime, at_local(day, 11, 0), "packing orders all day")
    make_post(runtime, None, "an undated idea", draft=True)
    window.set_view("agenda")
    agenda = window.agenda
    assert sorted(p.text for p in agenda.posts) == ["kiln opening livestream", "packing orders all day"]
    QTest.keyClicks(agenda.search, "kiln")
    qtbot.waitUntil(lambda: [p.text for p in agenda.posts] == ["kiln opening livestream"])
    agenda.search.clear()
    agenda.set_status_filter(PostStatus.FAILED)
    qtbot.waitUntil(lambda: agenda.posts == [])


def test_missed_posts_are_listed_in_a_banner_that_publishes_or_discards_them(qloop, qtbot, data_dir) -> None:
    runtime = Runtime.open(data_dir, settings=PublisherSettings(catchup_window=timedelta(seconds=1)))
    first = make_post(runtime, utcnow() + timedelta(milliseconds=400), "missed one")
    second = make_post(runtime, utcnow() + timedelta(milliseconds=400), "missed two")
    time.sleep(2.0)  # Outpost was "closed" when they were due, longer ago than the catch-up window
    window = MainWindow(runtime, tz_name=ZONE)
    qtbot.addWidget(window)
    window.show()

    async def scenario() -> None:
        await runtime.start()
        try:
            await banner_flow()
        finally:
            window.shutdown()
            await runtime.stop()

    async def banner_flow() -> None:
        window.reload()
        await _until(lambda: window.banner.isVisible())
        assert "2 posts did not go out" in window.banner.title.text()
        rows = [b for b in window.banner.findChildren(QPushButton) if b.text() == "Publish now"]
        assert len(rows) == 2
        rows[0].click()
        await _until(lambda: len(_buttons(window.banner, "Discard")) == 1)  # the banner now lists one
        _buttons(window.banner, "Discard")[0].click()
        await _until(lambda: {runtime.planner.post(first).status, runtime.planner.post(second).status}
                     == {PostStatus.PUBLISHED, PostStatus.CANCELLED})
        window.reload()
        assert not window.banner.isVisible()

    qloop.run_until_complete(scenario())


def test_a_failure_is_announced_from_the_tray_and_retry_publishes_it(qloop, qtbot, window, runtime, monkeypatch) -> None:
    account = runtime.planner.default_account_id()
    runtime.planner.update_account_settings(account, {"fail": "permanent"})
    messages: list[tuple[str, str]] = []

    async def scenario() -> None:
        await runtime.start()
        tray = Tray(window, runtime)
        monkeypatch.setattr(tray, "showMessage", lambda title, message, *_a: messages.append((title, message)))
        runtime.on_notice(tray.notify)
        post_id = make_post(runtime, utcnow() + timedelta(milliseconds=300), "this one fails")
        await _until(lambda: runtime.planner.post(post_id).status is PostStatus.FAILED)
        await _until(lambda: bool(messages))
        assert "failed" in messages[0][0].lower()
        window._selection_changed([post_id])
        details = window.details
        assert details.retry_button.isVisible()
        error = runtime.planner.post(post_id).targets[0].last_error
        assert error
        await _until(lambda: _texts(details.content).count(error) == 2)  # by the target, and in the history
        runtime.planner.update_account_settings(account, {"fail": ""})
        details.retry_button.click()
        await _until(lambda: runtime.planner.post(post_id).status is PostStatus.PUBLISHED)
        window._refresh_details()
        await _until(lambda: "Published" in _texts(details.content))
        await runtime.stop()

    qloop.run_until_complete(scenario())


def test_the_file_menu_opens_the_accounts_and_import_dialogs(qtbot, window, tmp_path) -> None:
    from app.ui.accounts_dialog import AccountsDialog
    from app.ui.import_dialog import ImportDialog

    assert window.accounts_action.isVisible() and window.import_action.isVisible()
    window.accounts_action.trigger()
    accounts = next(d for d in window.findChildren(AccountsDialog) if d.isVisible())
    accounts.close()
    sheet = tmp_path / "posts.csv"
    sheet.write_text("text,date\nHello,2030-01-01 09:00\n", encoding="utf-8")
    window.open_import(str(sheet))
    dialog = next(d for d in window.findChildren(ImportDialog) if d.isVisible())
    dialog.close()


def test_needs_review_can_be_marked_as_published_after_a_manual_check(qtbot, window, runtime) -> None:
    from app.store.schema import Target

    post_id = make_post(runtime, utcnow() + timedelta(days=1), "did it go out?")
    target_id = runtime.planner.post(post_id).targets[0].id
    with runtime.db.write() as s:  # what an unknown outcome leaves behind
        s.get(Target, target_id).status = "needs_review"
    window._selection_changed([post_id])
    details = window.details
    mark = next(b for b in details.content.findChildren(QPushButton) if b.text() == "Mark as published")
    mark.click()
    assert runtime.planner.post(post_id).status is PostStatus.PUBLISHED
    qtbot.waitUntil(lambda: "Published" in _texts(details.content))
    assert not details.edit_button.isVisible()  # a published post is not edited any more


def test_a_lost_answer_checked_again_later_says_when_and_can_be_marked_published(qtbot, window, runtime) -> None:
    from app.core.models import AttemptOutcome
    from app.store.schema import Attempt, Target

    post_id = make_post(runtime, utcnow() + timedelta(days=1), "lost on the way?")
    target_id = runtime.planner.post(post_id).targets[0].id
    check_at = utcnow() + timedelta(minutes=5)
    message = "The answer from Sandbox was lost (timeout). Outpost checks again at 14:05 whether it went out."
    with runtime.db.write() as s:  # what a lost answer leaves while the platform cannot be reached
        t = s.get(Target, target_id)
        t.status, t.due_at, t.last_error = "publishing", None, message
        s.add(Attempt(target_id=target_id, started_at=utcnow(), idempotency_key="k", payload_hash="h",
                      outcome=AttemptOutcome.UNKNOWN.value, steps={}, error="timeout", error_kind="unknown",
                      recheck_at=check_at, checks=1))
    window._selection_changed([post_id])
    details = window.details
    wall = check_at.astimezone(ZoneInfo(ZONE))
    assert f"Checking at {wall:%H:%M}" in _texts(details.content)  # not a bare "Publishing"
    shown = next(label for label in details.content.findChildren(QLabel) if label.text() == message)
    assert shown.property("role") == "muted"  # news, not an error yet
    mark = next(b for b in details.content.findChildren(QPushButton) if b.text() == "Mark as published")
    mark.click()
    assert runtime.planner.post(post_id).status is PostStatus.PUBLISHED
