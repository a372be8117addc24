"""The editor's threads and titles: written, counted, checked, previewed and never lost on save."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.models import Platform, PostSpec
from app.core.rules import rules_for
from app.core.text import measure
from tests.ui.conftest import ZONE, at_local, local_today, timedelta
from tests.ui.test_editor import _accounts, _editor


def test_editing_a_thread_keeps_every_part(qtbot, runtime) -> None:
    """A thread opened in the editor and saved keeps its replies (they were once dropped on save)."""
    ids = _accounts(runtime)
    when = at_local(local_today() + timedelta(days=2), 10)
    post_id = runtime.planner.create_post(PostSpec("1/ The opening", (ids[Platform.BLUESKY],), when, ZONE,
                                                   thread=("2/ The middle", "3/ The end")))
    editor = _editor(qtbot, runtime, post=runtime.planner.post(post_id))
    assert [p.value() for p in editor.thread_parts.parts] == ["2/ The middle", "3/ The end"]
    assert editor.thread_parts.parts[0].number.text() == "Part 2 of 3"
    editor.text.selectAll()
    QTest.keyClicks(editor.text, "1/ A better opening")
    with qtbot.waitSignal(editor.saved):
        QTest.mouseClick(editor.schedule_button, Qt.MouseButton.LeftButton)
    saved = runtime.planner.post(post_id)
    assert saved.text == "1/ A better opening"
    assert saved.thread == ("2/ The middle", "3/ The end")


def test_parts_are_added_counted_by_each_rule_and_removed(qtbot, runtime) -> None:
    ids = _accounts(runtime)
    editor = _editor(qtbot, runtime)
    for platform in (Platform.BLUESKY, Platform.MASTODON):
        editor.account_buttons[ids[platform]].setChecked(True)
    QTest.keyClicks(editor.text, "A thread about glazes")
    QTest.mouseClick(editor.thread_parts.add_button, Qt.MouseButton.LeftButton)
    part = editor.thread_parts.parts[0]
    assert part.text.hasFocus() or not editor.isActiveWindow()
    reply = "Sage first 👩‍🎨 https://example.com/" + "g" * 60
    QTest.keyClicks(part.text, "Sage first ")
    part.text.insertPlainText(reply.removeprefix("Sage first "))  # QTest types ASCII keys only
    editor.refresh()
    for platform in (Platform.BLUESKY, Platform.MASTODON):
        rules = rules_for(platform)
        expected = measure(reply, rules.counting, rules.text_limit, rules.url_weight)
        assert part.counters.counters[ids[platform]].result.count == expected.count, platform
    assert editor.spec().thread == (reply,)
    assert "2/2" in editor.preview.cards[ids[Platform.BLUESKY]].text()
    QTest.mouseClick(editor.thread_parts.add_button, Qt.MouseButton.LeftButton)  # an empty part is never posted
    assert len(editor.thread_parts.parts) == 2 and editor.spec().thread == (reply,)
    QTest.mouseClick(part.remove, Qt.MouseButton.LeftButton)
    assert editor.spec().thread == () and editor.thread_parts.parts[0].number.text() == "Part 2 of 2"


def test_a_part_over_the_limit_blocks_scheduling_and_says_which_part(qtbot, runtime) -> None:
    ids = _accounts(runtime)
    editor = _editor(qtbot, runtime)
    editor.account_buttons[ids[Platform.BLUESKY]].setChecked(True)
    QTest.keyClicks(editor.text, "Fine opening")
    part = editor.thread_parts.add("x" * 320)
    assert part is not None
    editor.refresh()
    assert part.highlighter.over_from == 300  # Bluesky's 300 graphemes; the rest is marked
    qtbot.waitUntil(lambda: editor.text_problems.isVisible())
    problems = editor.text_problems.text()  # the wording is the rules' (app/core/rules.py); the part and excess are ours
    assert "Part 2 of the thread" in problems and ("20 over" in problems or "by 20" in problems)
    assert not editor.schedule_button.isEnabled()


def test_a_platform_without_threads_is_named(qtbot, runtime) -> None:
    planner = runtime.planner
    editor_accounts = _accounts(runtime)
    linkedin = planner.add_account(Platform.LINKEDIN, "me-on-linkedin", display_name="Me", timezone=ZONE).id
    editor = _editor(qtbot, runtime)
    editor.account_buttons[editor_accounts[Platform.BLUESKY]].setChecked(True)
    editor.account_buttons[linkedin].setChecked(True)
    QTest.keyClicks(editor.text, "Opening")
    editor.thread_parts.add("and a reply")
    editor.refresh()
    assert "No threads on" in editor.thread_parts.hint.text() and "LinkedIn" in editor.thread_parts.hint.text()
    counted = set(editor.thread_parts.parts[0].counters.counters)
    assert linkedin not in counted and editor_accounts[Platform.BLUESKY] in counted
    assert "does not support threads" in editor.text_problems.text()
    assert not editor.schedule_button.isEnabled()


def test_a_title_field_appears_for_youtube_and_its_problems_show_beside_it(qtbot, runtime) -> None:
    editor_accounts = _accounts(runtime)
    youtube = runtime.planner.add_account(Platform.YOUTUBE, "my-channel", display_name="Channel", timezone=ZONE).id
    editor = _editor(qtbot, runtime)
    assert not editor.title.isVisible()  # nothing selected uses a title
    editor.account_buttons[youtube].setChecked(True)
    assert editor.title.isVisible()
    QTest.keyClicks(editor.text, "Kiln opening, the full stream")
    QTest.keyClicks(editor.title, "Kiln <live>")
    editor.refresh()
    assert editor.spec().title == "Kiln <live>"
    assert "cannot contain < or >" in editor.title_problems.text() and editor.title_problems.isVisible()
    assert not editor.schedule_button.isEnabled()
    editor.title.clear()
    QTest.keyClicks(editor.title, "Kiln opening live")
    editor.refresh()
    assert not editor.title_problems.isVisible()
    editor.account_buttons[youtube].setChecked(False)
    editor.account_buttons[editor_accounts[Platform.BLUESKY]].setChecked(True)
    assert editor.title.isVisible()  # a title already written stays in view, never silently kept
