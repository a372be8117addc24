"""The window a creator can trust all day (issue 13): nothing vanishes, nothing is hidden."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel

from app.core.models import Platform, PostSpec, PostStatus
from app.core.timeutil import utcnow
from app.ui.calendar.timeline import local_wall
from tests.ui.conftest import ZONE, make_post


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _sidebar_width(window) -> int:  # type: ignore[no-untyped-def]
    """The room the splitter gives the sidebar (0 when it was squeezed out of sight)."""
    return window.split.sizes()[0] if window.sidebar.isVisible() else 0


def test_the_sidebar_survives_a_publish_while_the_window_is_hidden_with_details_open(qloop, qtbot, window,
                                                                                      runtime) -> None:
    async def scenario() -> None:
        await runtime.start()
        try:
            await hidden_publish()
        finally:
            await runtime.stop()

    async def hidden_publish() -> None:
        post_id = make_post(runtime, utcnow() + timedelta(milliseconds=600), "goes out while hidden")
        window._selection_changed([post_id])
        assert window.details.isVisible() and _sidebar_width(window) >= window.sidebar.minimumWidth()
        window.hide()  # closed to the tray, the post's details still open
        await _until(lambda: runtime.planner.post(post_id).status is PostStatus.PUBLISHED)
        await _until(lambda: not window._refresh_timer.isActive())  # the window heard the change
        window.show()
        await asyncio.sleep(0.1)  # the layout settles (never a nested Qt loop inside the qasync task)
        assert _sidebar_width(window) >= window.sidebar.minimumWidth(), window.split.sizes()
        window._selection_changed([])  # closing the details keeps it
        await asyncio.sleep(0.05)
        assert _sidebar_width(window) >= window.sidebar.minimumWidth(), window.split.sizes()
        window.header.sidebar_button.click()
        assert _sidebar_width(window) == 0
        window.header.sidebar_button.click()  # the toggle brings it back at a usable width
        await asyncio.sleep(0.05)
        assert _sidebar_width(window) >= window.sidebar.minimumWidth(), window.split.sizes()

    qloop.run_until_complete(scenario())


def test_the_splitter_never_squeezes_the_sidebar_out_of_sight(qtbot, window) -> None:
    window.split.setSizes([0, 1280])  # what a drag to the edge, or a stale layout, asks for
    QApplication.processEvents()
    assert _sidebar_width(window) >= window.sidebar.minimumWidth(), window.split.sizes()
    window.header.sidebar_button.click()  # hiding it is the toggle's job
    assert _sidebar_width(window) == 0
    window.header.sidebar_button.click()
    QApplication.processEvents()
    assert _sidebar_width(window) >= window.sidebar.minimumWidth(), window.split.sizes()


def _texts(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


def test_a_partly_failed_post_counts_under_needs_attention_and_the_account_shows_its_error(qloop, qtbot, window,
                                                                                          runtime) -> None:
    good = runtime.planner.default_account_id()
    assert good is not None
    bad_id = runtime.planner.add_account(Platform.SANDBOX, "practice", display_name="Practice").id
    runtime.planner.update_account_settings(bad_id, {"fail": "permanent"})

    async def scenario() -> None:
        await runtime.start()
        try:
            post_id = make_post(runtime, utcnow() + timedelta(milliseconds=300), "half of it goes out",
                                account_ids=(good, bad_id))
            await _until(lambda: runtime.planner.post(post_id).status is PostStatus.PARTIAL)
            await _until(lambda: window.sidebar.rows[PostStatus.PARTIAL].count.text() == "1")
        finally:
            await runtime.stop()
        window.reload()
        row = window.sidebar.rows[PostStatus.PARTIAL]
        assert row.text.text() == "Partly published" and row.isVisibleTo(window)
        assert "Practice" in row.detail.text() and row.detail.isVisibleTo(window)
        # Failed on one account: it counts under Failed too, as `outpost status` counts it.
        assert window.sidebar.rows[PostStatus.FAILED].count.text() == "1"
        assert "1 partly published" in window.health.counts.text() and "1 failed" in window.health.counts.text()
        status = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(runtime.data_dir), "status", "--json"],
                                cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
                                timeout=60, check=True)
        told = json.loads(status.stdout)
        assert (told["failed"], told["partial"]) == (1, 1)
        error = runtime.planner.post(post_id).problem_targets[0].last_error
        assert error
        tips = {window.sidebar.accounts.item(i).text(): window.sidebar.accounts.item(i).toolTip()
                for i in range(window.sidebar.accounts.count())}
        assert f"Last error: {error}" in tips["Practice"]
        assert "Last error" not in tips["Sandbox"]
        window.sidebar.rows[PostStatus.PARTIAL].clicked.emit()  # the filter shows it
        assert window.current_view_name() == "agenda"
        assert [p.id for p in window.agenda.posts] == [post_id]
        window.sidebar.rows[PostStatus.FAILED].clicked.emit()  # and so does Failed
        assert [p.id for p in window.agenda.posts] == [post_id]
        window._selection_changed([post_id])
        note = window.details.findChild(QLabel, "attentionNote")
        assert note is not None and "Failed on Practice" in note.text() and error in note.text()

    qloop.run_until_complete(scenario())


def test_a_drafts_details_show_every_part_of_its_thread(qtbot, window, runtime) -> None:
    account = runtime.planner.default_account_id()
    assert account is not None
    post_id = runtime.planner.create_post(PostSpec("Part one", (account,), None, ZONE, draft=True,
                                                   thread=("Part two", "Part three")))
    window._selection_changed([post_id])
    qtbot.waitUntil(lambda: "Part one" in _texts(window.details.content))
    texts = _texts(window.details.content)
    assert "Part two" in texts and "Part three" in texts
    assert "Part 3 of 3" in texts


def test_the_history_shows_a_try_at_the_minute_the_post_was_scheduled() -> None:
    from datetime import UTC, datetime

    from app.core.models import AttemptOutcome
    from app.store.views import AttemptView, shown_minute

    due = datetime(2026, 3, 4, 20, 24, tzinfo=UTC)
    early = AttemptView(1, 7, "Sandbox", due - timedelta(milliseconds=40), due - timedelta(milliseconds=5),
                        AttemptOutcome.SUCCEEDED, 200, "", 35)
    assert shown_minute(early, due) == due  # 21:24, not 21:23:59: the timer fired a moment early
    retry = AttemptView(2, 7, "Sandbox", due + timedelta(minutes=5, seconds=40),
                        due + timedelta(minutes=5, seconds=41), AttemptOutcome.FAILED, 503, "busy", 900)
    assert shown_minute(retry, due) == due + timedelta(minutes=5)


def test_the_partly_published_filter_looks_back_like_the_other_problems(qtbot, window, runtime) -> None:
    from app.store.schema import Target

    good = runtime.planner.default_account_id()
    assert good is not None
    other = runtime.planner.add_account(Platform.SANDBOX, "practice", display_name="Practice").id
    post_id = make_post(runtime, utcnow() + timedelta(days=1), "last week's", account_ids=(good, other))
    with runtime.db.write() as s:  # what publishing left ten days ago: out on one, failed on the other
        for t in s.query(Target).filter(Target.post_id == post_id):
            t.status = "published" if t.account_id == good else "failed"
            t.last_error = "" if t.account_id == good else "The server said no."
            t.post.status = "partial"
            t.post.scheduled_at = utcnow() - timedelta(days=10)
    window.reload()
    assert window.sidebar.rows[PostStatus.PARTIAL].count.text() == "1"
    window.sidebar.rows[PostStatus.PARTIAL].clicked.emit()
    assert [p.id for p in window.agenda.posts] == [post_id]


def test_a_post_added_from_the_command_line_shows_at_once_in_the_tray_and_the_status_bar(qloop, qtbot, window,
                                                                                         runtime, monkeypatch) -> None:
    from app.ui.tray import Tray

    when = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    wall = local_wall(when, window.tz).strftime("%H:%M")

    async def scenario() -> None:
        await runtime.start()
        try:
            tray = Tray(window, runtime)
            monkeypatch.setattr(tray, "showMessage", lambda *_a: None)
            window._tick.stop()  # no periodic refresh to lean on: the change itself must arrive
            assert "No post scheduled" in tray.toolTip()
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app", "--data-dir", str(runtime.data_dir), "post", "add",
                "--account", "sandbox", "--at", when.isoformat(), "--text", "from the terminal",
                cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            _out, err = await cli.communicate()
            assert cli.returncode == 0, err.decode()
            await _until(lambda: "from the terminal" in tray.toolTip(), timeout=15)
            assert wall in tray.toolTip()
            await _until(lambda: wall in window.health.next.text(), timeout=15)
            tray.rebuild_menu()
            assert tray.menu.actions()[0].text() == f"Next post {wall}: from the terminal" or \
                tray.menu.actions()[0].text().endswith(f"{wall}: from the terminal")
            tray.hide()
        finally:
            await runtime.stop()

    qloop.run_until_complete(scenario())


def test_the_undo_offer_goes_away_after_ctrl_z(qtbot, window, runtime) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    post_id = make_post(runtime, utcnow() + timedelta(days=3), "moved then undone")
    before = runtime.planner.post(post_id).scheduled_at
    assert before is not None
    assert window.move_posts({post_id: before + timedelta(days=1)})
    assert window.toast.isVisible() and window.toast.text.startswith("Moved to")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runtime.planner.post(post_id).scheduled_at == before
    assert not window.toast.isVisible()  # "Moved… Undo" no longer holds
    window.delete(post_id)
    assert window.toast.text == "Post deleted."
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runtime.planner.post(post_id).text == "moved then undone"
    assert not window.toast.isVisible()
    from app.ui.commands import MoveCommand, run

    # An offer made elsewhere (the series questions) without naming the stack's index goes too.
    assert run(window.undo, MoveCommand(runtime.planner, {post_id: before + timedelta(days=2)}, window.show_error))
    window.toast.show_message("Moved the repeating post.", action="Undo", callback=window.undo.undo)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runtime.planner.post(post_id).scheduled_at == before
    assert not window.toast.isVisible()
    window.toast.show_message("Saved.")  # a message that is not an undo offer stays its time
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.toast.isVisible()


def _focus(qtbot, window, widget) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    widget.setFocus()


def test_enter_on_a_day_starts_a_post_there_and_esc_closes_the_details(qtbot, window, runtime) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tests.ui.conftest import local_today

    window.set_view("month")
    month = window.month
    day = local_today() + timedelta(days=5)
    month.set_cursor(day)
    _focus(qtbot, window, month)
    QTest.keyClick(month, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(window.editors))
    editor = window.editors[-1]
    when = editor.schedule.instant()
    assert when is not None and local_wall(when, window.tz).date() == day
    editor.done(0)
    post_id = make_post(runtime, utcnow() + timedelta(days=2), "details open")
    window._selection_changed([post_id])
    assert window.details.isVisible()
    _focus(qtbot, window, month)
    QTest.keyClick(month, Qt.Key.Key_Escape)
    assert window.details.isHidden()
    window._selection_changed([post_id])  # Esc with the focus in the details themselves
    _focus(qtbot, window, window.details.duplicate_button)
    QTest.keyClick(window.details.duplicate_button, Qt.Key.Key_Escape)
    assert window.details.isHidden()


def test_alt_arrows_move_the_selected_post_a_day_and_ctrl_z_puts_it_back(qtbot, window, runtime) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tests.ui.conftest import at_local, local_today

    day = local_today() + timedelta(days=3)
    post_id = make_post(runtime, at_local(day, 9, 30), "moved with the keyboard")
    window.set_view("month")
    month = window.month
    month.set_cursor(day)
    window.reload()
    month.select([post_id])
    _focus(qtbot, window, month)
    QTest.keyClick(month, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(day + timedelta(days=1), 9, 30)
    assert month.cursor_day == day + timedelta(days=1)  # the cursor follows the post
    QTest.keyClick(month, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(day + timedelta(days=8), 9, 30)
    window.set_view("week")
    week = window.week
    week.set_cursor(day + timedelta(days=8))
    window.reload()
    week.select([post_id])
    _focus(qtbot, window, week)
    QTest.keyClick(week, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(day + timedelta(days=8), 9, 15)
    for _ in range(3):
        QTest.keyClick(week, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runtime.planner.post(post_id).scheduled_at == at_local(day, 9, 30)


def test_activity_names_posts_and_accounts_in_words_and_a_row_opens_the_post(qloop, qtbot, window, runtime) -> None:
    async def scenario() -> None:
        await runtime.start()
        try:
            post_id = make_post(runtime, utcnow() + timedelta(milliseconds=300), "Morning hello to everyone")
            await _until(lambda: runtime.planner.post(post_id).status is PostStatus.PUBLISHED)
        finally:
            await runtime.stop()

    qloop.run_until_complete(scenario())
    window.set_view("activity")
    tree = window.activity.tree
    rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    published = next(r for r in rows if r.text(1).startswith("Published post"))
    assert published.text(1) == "Published post “Morning hello to everyone” on Sandbox."
    assert not any("#" in r.text(1) for r in rows if r.data(0, 256) is not None)  # no leaked ids
    assert "Connected Sandbox." in [r.text(1) for r in rows]  # not "Sandbox (Sandbox)"
    tree.itemClicked.emit(published, 1)
    assert window.details.isVisible() and window.details.post is not None
    assert window.details.post.text == "Morning hello to everyone"


def test_quitting_with_posts_scheduled_says_they_wait_until_outpost_runs_again(qtbot, window, runtime) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app.ui.tray import Tray

    with qtbot.waitSignal(window.quitRequested, timeout=2000):  # nothing scheduled: quits at once
        window.quit_action.trigger()
    window._really_quit = False
    make_post(runtime, utcnow() + timedelta(hours=2), "waits for Outpost")
    tray = Tray(window, runtime)
    tray.rebuild_menu()
    quit_signals: list[bool] = []
    window.quitRequested.connect(lambda: quit_signals.append(True))
    tray.quit_action.trigger()
    box = window.findChild(QMessageBox, "quitQuestion")
    assert box is not None and box.isVisible() and not quit_signals
    assert "1 scheduled post will not go out while Outpost is closed" in box.text()
    next(b for b in box.buttons() if b.text() == "Keep publishing").click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert not quit_signals
    window.quit_action.trigger()
    box = next(b for b in window.findChildren(QMessageBox, "quitQuestion") if b.isVisible())
    next(b for b in box.buttons() if b.text() == "Quit").click()
    qtbot.waitUntil(lambda: bool(quit_signals))


def test_a_tray_balloon_names_the_post_by_its_words(qtbot, window, runtime, monkeypatch) -> None:
    from app.ui.tray import Tray

    post_id = make_post(runtime, utcnow() + timedelta(hours=1), "Spring sale starts now")
    tray = Tray(window, runtime)
    shown: list[str] = []
    monkeypatch.setattr(tray, "showMessage", lambda _title, message, *_a: shown.append(message))
    tray.notify("warning", "A post was missed", f"Post #{post_id} is 2 h overdue and waits for you.")
    assert shown == ["Post “Spring sale starts now” is 2 h overdue and waits for you."]
