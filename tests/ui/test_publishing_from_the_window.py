"""The window and the tray with the real publisher running on a qasync loop (real timers)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from app.core.models import PostStatus
from app.core.timeutil import utcnow
from app.ui.tray import Tray
from tests.ui.conftest import ZONE, drag, make_post

TZ = ZoneInfo(ZONE)


async def _until_published(runtime, post_id: int, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while runtime.planner.post(post_id).status is not PostStatus.PUBLISHED:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"post {post_id} is {runtime.planner.post(post_id).status}, not published")
        await asyncio.sleep(0.05)


def test_a_post_dragged_to_two_seconds_from_now_is_published_by_the_rearmed_publisher(qloop, qtbot, window, runtime) -> None:
    now = utcnow()
    if (now + timedelta(seconds=5)).astimezone(TZ).date() != now.astimezone(TZ).date():
        pytest.skip("too close to midnight for a same-day drop")
    soon = now + timedelta(seconds=2)
    post_id = make_post(runtime, soon + timedelta(days=1), "dragged to go out now")

    async def scenario() -> None:
        await runtime.start()
        window.set_view("month")
        window.month.go_today()
        window.reload()
        month = window.month
        chip = month.chip_rect(post_id)
        today_cell = month.day_rect(soon.astimezone(TZ).date())
        assert chip is not None and today_cell is not None
        drag(month.viewport(), chip.center().toPoint(), today_cell.center().toPoint())
        assert runtime.planner.post(post_id).scheduled_at == soon
        assert runtime.publisher.state().next_due == soon
        await _until_published(runtime, post_id)
        await runtime.stop()

    qloop.run_until_complete(scenario())
    feed = (runtime.data_dir / "sandbox" / "feed.html").read_text(encoding="utf-8")
    assert "dragged to go out now" in feed


def test_closing_the_window_with_a_tray_keeps_the_engine_publishing(qloop, qtbot, window, runtime, monkeypatch) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    messages: list[str] = []

    async def scenario() -> None:
        await runtime.start()
        tray = Tray(window, runtime)
        monkeypatch.setattr(tray, "showMessage", lambda title, *_a: messages.append(title))
        tray.show()
        window.tray = tray
        assert window.close()
        assert not window.isVisible()
        assert runtime.started and runtime.publisher.state().running
        post_id = make_post(runtime, utcnow() + timedelta(seconds=1), "sent with the window closed")
        await _until_published(runtime, post_id)
        assert window.close() and messages == ["Outpost keeps publishing"]  # the notice comes once
        tray.hide()
        await runtime.stop()

    qloop.run_until_complete(scenario())


def test_without_a_tray_closing_asks_whether_to_keep_publishing(qtbot, window, monkeypatch) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    window.close()
    box = window.findChild(QMessageBox, "backgroundQuestion")
    assert box is not None and box.isVisible()
    assert window.isVisible()  # nothing happens until the user answers
    keep = next(b for b in box.buttons() if b.text() == "Keep publishing")
    keep.click()
    qtbot.waitUntil(lambda: not window.isVisible())
    window.show()
    window.close()
    box = next(b for b in window.findChildren(QMessageBox, "backgroundQuestion") if b.isVisible())
    with qtbot.waitSignal(window.quitRequested):
        next(b for b in box.buttons() if b.text() == "Quit Outpost").click()


def test_the_tray_menu_pauses_and_resumes_publishing(qloop, qtbot, window, runtime, monkeypatch) -> None:
    async def scenario() -> None:
        await runtime.start()
        tray = Tray(window, runtime)
        monkeypatch.setattr(tray, "showMessage", lambda *_a: None)
        make_post(runtime, utcnow() + timedelta(hours=3), "the next one")
        tray.rebuild_menu()
        labels = [a.text() for a in tray.menu.actions() if a.text()]
        assert labels[0].startswith("Next post") and "the next one" in labels[0]
        assert labels[1:] == ["Open Outpost", "Pause publishing", "Publish due posts now", "Quit Outpost"]
        tray.pause_action.trigger()
        assert runtime.publisher.state().paused
        assert "paused" in window.health.state.text().lower()
        tray.rebuild_menu()
        assert tray.pause_action.text() == "Resume publishing"
        tray.pause_action.trigger()
        assert not runtime.publisher.state().paused
        await runtime.stop()

    qloop.run_until_complete(scenario())
