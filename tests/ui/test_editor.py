"""The post editor: live counters by each platform's own rule, per-account text, scheduling."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtTest import QTest

from app.core.models import Platform, PostStatus
from app.core.rules import rules_for
from app.core.text import measure
from app.ui.editor.dialog import PostEditor
from tests.ui.conftest import ZONE, at_local, local_today

TZ = ZoneInfo(ZONE)
# Emoji with a skin tone, a long URL and CJK: each platform counts this differently.
SAMPLE = "Hello 👋🏽 world, read https://example.com/a/really/long/path/that/keeps/going?x=1 日本語です "


def _accounts(runtime) -> dict[Platform, int]:  # type: ignore[no-untyped-def]
    p = runtime.planner
    ids = {Platform.SANDBOX: p.default_account_id()}
    for platform, handle in ((Platform.BLUESKY, "me.bsky.social"), (Platform.X, "me_on_x"),
                             (Platform.THREADS, "me.threads"), (Platform.MASTODON, "@me@example.social")):
        ids[platform] = p.add_account(platform, handle, display_name=platform.label, timezone=ZONE).id
    return ids


def _editor(qtbot, runtime, **kwargs) -> PostEditor:  # type: ignore[no-untyped-def]
    editor = PostEditor(runtime.planner, runtime.adapter, ZONE, **kwargs)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def test_the_counters_agree_with_each_platforms_counting_rule(qtbot, runtime) -> None:
    ids = _accounts(runtime)
    editor = _editor(qtbot, runtime)
    for button in editor.account_buttons.values():
        button.setChecked(True)
    text = SAMPLE * 4
    editor.text.setPlainText(text)
    counts = {}
    for platform, account_id in ids.items():
        rules = rules_for(platform)
        expected = measure(text, rules.counting, rules.text_limit, rules.url_weight)
        counter = editor.counters.counters[account_id]
        assert counter.result.count == expected.count, platform
        assert f"{expected.shown} / {rules.text_limit:,}" in counter.text()
        counts[platform] = expected.count
    assert len(set(counts.values())) >= 4  # the rules really differ on this text
    # Bluesky (300 graphemes) is the strictest here: its excess is what gets highlighted.
    bluesky = rules_for(Platform.BLUESKY)
    over = measure(text, bluesky.counting, bluesky.text_limit).over_from
    assert over is not None and editor.highlighter.over_from == over
    qtbot.waitUntil(lambda: editor.text_problems.isVisible())
    assert "Bluesky" in editor.text_problems.text() and "Shorten it by" in editor.text_problems.text()
    assert not editor.schedule_button.isEnabled()


def test_an_account_can_get_its_own_text(qtbot, runtime) -> None:
    ids = _accounts(runtime)
    editor = _editor(qtbot, runtime)
    editor.account_buttons[ids[Platform.BLUESKY]].setChecked(True)
    QTest.keyClicks(editor.text, "Shared words")
    bluesky_tab = next(i for i in range(editor.text_tabs.count()) if editor.text_tabs.tabData(i) == ids[Platform.BLUESKY])
    editor.text_tabs.setCurrentIndex(bluesky_tab)
    editor.text.selectAll()
    QTest.keyClicks(editor.text, "Only for Bluesky")
    spec = editor.spec()
    assert spec.text == "Shared words"
    assert spec.overrides == {ids[Platform.BLUESKY]: "Only for Bluesky"}
    assert editor.counters.counters[ids[Platform.SANDBOX]].result.count == len("Shared words")
    assert editor.counters.counters[ids[Platform.BLUESKY]].result.count == len("Only for Bluesky")


def test_schedule_creates_the_post_at_the_chosen_local_time(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Going out tomorrow morning")
    day = local_today() + timedelta(days=1)
    editor.schedule.date.setDate(QDate(day.year, day.month, day.day))
    editor.schedule.time.setTime(QTime(7, 45))
    editor.refresh()
    with qtbot.waitSignal(editor.saved) as saved:
        QTest.mouseClick(editor.schedule_button, Qt.MouseButton.LeftButton)
    post = runtime.planner.post(saved.args[0])
    assert post.status is PostStatus.SCHEDULED
    assert post.scheduled_at == at_local(day, 7, 45)
    assert post.text == "Going out tomorrow morning"


def test_a_time_in_the_past_is_explained_next_to_the_date(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    QTest.keyClicks(editor.text, "Too late")
    day = local_today() - timedelta(days=1)
    editor.schedule.date.setDate(QDate(day.year, day.month, day.day))
    editor.refresh()
    assert editor.when_problems.isVisible() and "past" in editor.when_problems.text()
    assert not editor.schedule_button.isEnabled()
    assert editor.submit("schedule") is None
    assert runtime.planner.posts_between(at_local(day, 0), at_local(day + timedelta(days=2), 0)) == []


def test_save_draft_without_a_date_lands_in_the_sidebar_drafts(qtbot, window, runtime) -> None:
    editor = window.open_editor()
    QTest.keyClicks(editor.text, "An idea")
    editor.schedule.undated.setChecked(True)
    with qtbot.waitSignal(editor.saved):
        editor.draft_button.click()
    qtbot.waitUntil(lambda: [d.text for d in window.sidebar.drafts.drafts.values()] == ["An idea"])
