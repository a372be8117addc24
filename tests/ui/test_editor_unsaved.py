"""Writing in the editor is never lost: Cancel/Esc ask first, and an autosave survives a crash or a quit."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QPushButton

from app.core.models import PostStatus
from app.engine.runtime import Runtime
from app.ui.editor.autosave import recovered_drafts, unsaved_folder
from app.ui.editor.dialog import PostEditor
from tests.ui.conftest import ZONE, at_local, local_today, make_post, timedelta

ROOT = Path(__file__).resolve().parents[2]


def _editor(qtbot, runtime, **kwargs) -> PostEditor:  # type: ignore[no-untyped-def]
    editor = PostEditor(runtime.planner, runtime.adapter, ZONE, **kwargs)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def _autosaves(data_dir: Path) -> list[Path]:
    return sorted(unsaved_folder(data_dir).glob("*.json"))


def _question(qtbot, editor: PostEditor) -> QMessageBox:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: editor.question is not None and editor.question.isVisible())
    assert editor.question is not None
    return editor.question


def _answer(box: QMessageBox, label: str) -> None:
    chosen = next(b for b in box.buttons() if isinstance(b, QPushButton) and b.text() == label)
    QTest.mouseClick(chosen, Qt.MouseButton.LeftButton)


def test_esc_with_typed_text_asks_and_keep_editing_keeps_every_word(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "A post I spent ten minutes on")
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    box = _question(qtbot, editor)
    assert {b.text() for b in box.buttons()} == {"Save draft", "Discard", "Keep editing"}
    _answer(box, "Keep editing")
    qtbot.waitUntil(lambda: editor.question is None)
    assert editor.isVisible()
    assert editor.text.toPlainText() == "A post I spent ten minutes on"


def test_cancel_then_discard_closes_and_deletes_the_autosave(qtbot, runtime, data_dir) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Second thoughts")
    qtbot.waitUntil(lambda: len(_autosaves(data_dir)) == 1, timeout=5000)  # written about a second after typing
    saved = _autosaves(data_dir)[0]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text(encoding="utf-8"))["state"]["text"] == "Second thoughts"
    QTest.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    _answer(_question(qtbot, editor), "Discard")
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert _autosaves(data_dir) == []
    assert runtime.planner.posts_between(at_local(local_today() - timedelta(days=400), 0),
                                         at_local(local_today() + timedelta(days=400), 0)) == []


def test_save_draft_from_the_question_keeps_the_post(qtbot, runtime, data_dir) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Keep this one")
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    with qtbot.waitSignal(editor.saved) as saved:
        _answer(_question(qtbot, editor), "Save draft")
    post = runtime.planner.post(saved.args[0])
    assert post.status is PostStatus.DRAFT and post.text == "Keep this one"
    assert not editor.isVisible() and _autosaves(data_dir) == []


def test_an_editor_with_nothing_new_closes_without_asking(qtbot, runtime, data_dir) -> None:
    post_id = make_post(runtime, at_local(local_today() + timedelta(days=3), 9), "Already saved")
    editor = _editor(qtbot, runtime, post=runtime.planner.post(post_id))
    QTest.keyClicks(editor.text, "!")
    editor.text.textCursor().deletePreviousChar()  # typed and taken back: nothing to lose
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert editor.question is None and _autosaves(data_dir) == []


def test_a_scheduled_post_is_saved_as_scheduled_from_the_question(qtbot, runtime) -> None:
    when = at_local(local_today() + timedelta(days=3), 9)
    post_id = make_post(runtime, when, "Going out Thursday")
    editor = _editor(qtbot, runtime, post=runtime.planner.post(post_id))
    editor.text.selectAll()
    QTest.keyClicks(editor.text, "Going out Thursday morning")
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    with qtbot.waitSignal(editor.saved):
        _answer(_question(qtbot, editor), "Save changes")
    post = runtime.planner.post(post_id)
    assert post.status is PostStatus.SCHEDULED and post.scheduled_at == when
    assert post.text == "Going out Thursday morning"


def test_typing_without_a_pause_still_reaches_the_disk(qtbot, runtime, data_dir, monkeypatch) -> None:
    from app.ui.editor import dialog

    now = [1000.0]
    monkeypatch.setattr(dialog.time, "monotonic", lambda: now[0])
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "A long")
    assert _autosaves(data_dir) == []  # the pause after typing has not come yet
    now[0] += dialog.AUTOSAVE_MAX_WAIT_S + 1  # ten seconds of typing later, still no pause
    QTest.keyClicks(editor.text, " paragraph")
    [saved] = _autosaves(data_dir)
    assert json.loads(saved.read_text(encoding="utf-8"))["state"]["text"] == "A long "  # saved at the next keystroke


def test_two_editors_write_separate_autosaves(qtbot, runtime, data_dir) -> None:
    first, second = _editor(qtbot, runtime), _editor(qtbot, runtime)
    QTest.keyClicks(first.text, "About the kiln")
    QTest.keyClicks(second.text, "About the glaze")
    first.autosave()
    second.autosave()
    texts = sorted(json.loads(p.read_text(encoding="utf-8"))["state"]["text"] for p in _autosaves(data_dir))
    assert texts == ["About the glaze", "About the kiln"]
    assert recovered_drafts(data_dir) == []  # both editors are open: nothing is orphaned yet


def test_closing_from_the_app_keeps_the_writing_and_the_next_editor_restores_it_once(qtbot, runtime, data_dir) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Half a thought")
    editor.close()  # what the window does when it quits: no question can be answered then
    assert not editor.isVisible() and editor.question is None
    assert [d.summary for d in recovered_drafts(data_dir)] == ["Half a thought"]
    restored = _editor(qtbot, runtime)
    assert restored.text.toPlainText() == "Half a thought" and restored.banner.isVisible()
    assert restored.has_unsaved_changes()
    other = _editor(qtbot, runtime)  # offered once: not to a second editor as well
    assert other.text.toPlainText() == "" and not other.banner.isVisible()
    QTest.mouseClick(restored.discard_recovered_button, Qt.MouseButton.LeftButton)
    assert restored.text.toPlainText() == "" and not restored.banner.isVisible()
    assert _autosaves(data_dir) == [] and recovered_drafts(data_dir) == []


def test_an_edit_is_restored_only_in_that_posts_editor(qtbot, runtime, data_dir) -> None:
    post_id = make_post(runtime, at_local(local_today() + timedelta(days=2), 10), "Saved words")
    editor = _editor(qtbot, runtime, post=runtime.planner.post(post_id))
    editor.text.selectAll()
    QTest.keyClicks(editor.text, "Better words")
    editor.close()
    fresh = _editor(qtbot, runtime)
    assert fresh.text.toPlainText() == "" and not fresh.banner.isVisible()
    again = _editor(qtbot, runtime, post=runtime.planner.post(post_id))
    assert again.text.toPlainText() == "Better words" and again.banner.isVisible()
    assert runtime.planner.post(post_id).text == "Saved words"  # restored into the editor, not saved behind your back
    with qtbot.waitSignal(again.saved):
        QTest.mouseClick(again.schedule_button, Qt.MouseButton.LeftButton)
    assert runtime.planner.post(post_id).text == "Better words" and _autosaves(data_dir) == []


CRASHING_EDITOR = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from PySide6.QtTest import QTest
    from app.engine.runtime import Runtime
    from app.ui.editor.autosave import unsaved_folder
    from app.ui.editor.dialog import PostEditor

    app = QApplication([])
    data_dir = Path(sys.argv[1])
    runtime = Runtime.open(data_dir)
    editor = PostEditor(runtime.planner, runtime.adapter, "Europe/Berlin")
    editor.show()
    QTest.keyClicks(editor.text, "Written just before the crash")
    deadline = time.monotonic() + 20
    while not list(unsaved_folder(data_dir).glob("*.json")) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    os._exit(3)  # no close, no clean-up: what a crash leaves behind
""")


def test_writing_survives_a_crash_of_the_app(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CRASHING_EDITOR, str(data_dir)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    runtime = Runtime.open(data_dir)
    try:
        [draft] = recovered_drafts(data_dir)  # what the window can mention at start-up
        assert draft.post_id is None and draft.summary == "Written just before the crash"
        editor = _editor(qtbot, runtime)
        assert editor.text.toPlainText() == "Written just before the crash"
        assert "Restored what you were writing" in editor.banner_text.text()
        with qtbot.waitSignal(editor.saved) as saved:
            QTest.mouseClick(editor.draft_button, Qt.MouseButton.LeftButton)
        assert runtime.planner.post(saved.args[0]).text == "Written just before the crash"
        assert recovered_drafts(data_dir) == [] and _autosaves(data_dir) == []
    finally:
        runtime.close()


def test_the_window_quitting_with_an_editor_open_keeps_the_writing_for_its_next_editor(qtbot, window, data_dir) -> None:
    editor = window.open_editor()
    QTest.keyClicks(editor.text, "Typed, then the app quit")
    window.shutdown()  # what quitting does to open editors: closes them, no question to answer
    assert not editor.isVisible()
    [draft] = recovered_drafts(data_dir)
    assert draft.summary == "Typed, then the app quit"
    again = window.open_editor()
    assert again.text.toPlainText() == "Typed, then the app quit" and again.banner.isVisible()


class TitleBarClose(QCloseEvent):
    """A close request from the window system (the title bar's X). Qt marks those spontaneous; PySide6
    cannot send a spontaneous event offscreen, so the flag is given here (the editor reads it from Python)."""

    def spontaneous(self) -> bool:
        return True


def test_the_title_bar_close_button_asks_like_cancel(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Do not lose me")
    event = TitleBarClose()
    editor.closeEvent(event)
    box = _question(qtbot, editor)
    assert not event.isAccepted() and editor.isVisible()  # the window stays until the question is answered
    _answer(box, "Keep editing")
    assert editor.isVisible() and editor.text.toPlainText() == "Do not lose me"


def test_an_autosave_that_cannot_be_read_is_set_aside_and_the_editor_opens_clean(qtbot, runtime, data_dir) -> None:
    folder = unsaved_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "new-garbled.json").write_text("{not json", encoding="utf-8")
    (folder / "new-baddate.json").write_text(json.dumps({
        "format": 1, "post_id": None, "saved_at": "2026-01-01T10:00:00+00:00",
        "state": {"text": "x", "scheduled_at": "next tuesday-ish"}}), encoding="utf-8")
    editor = _editor(qtbot, runtime)
    assert editor.text.toPlainText() == "" and not editor.banner.isVisible()
    assert sorted(p.name for p in folder.iterdir()) == ["new-baddate.json.unreadable", "new-garbled.json.unreadable"]
    assert recovered_drafts(data_dir) == []
