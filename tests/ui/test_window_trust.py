"""The window a creator can trust all day (issue 13): nothing vanishes, nothing is hidden."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtWidgets import QApplication, QLabel

from app.core.models import Platform, PostSpec, PostStatus
from app.core.timeutil import utcnow
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
        assert window.sidebar.rows[PostStatus.FAILED].count.text() == "0"  # not a plain failure
        assert "1 partly published" in window.health.counts.text()
        error = runtime.planner.post(post_id).problem_targets[0].last_error
        assert error
        tips = {window.sidebar.accounts.item(i).text(): window.sidebar.accounts.item(i).toolTip()
                for i in range(window.sidebar.accounts.count())}
        assert f"Last error: {error}" in tips["Practice"]
        assert "Last error" not in tips["Sandbox"]
        window.sidebar.rows[PostStatus.PARTIAL].clicked.emit()  # the filter shows it
        assert window.current_view_name() == "agenda"
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


def test_the_history_names_each_try_by_its_number_and_the_minute_it_went_out() -> None:
    from datetime import UTC, datetime

    from app.core.models import AttemptOutcome
    from app.store.views import AttemptView
    from app.ui.details import shown_minute

    due = datetime(2026, 3, 4, 20, 24, tzinfo=UTC)
    journaled_ahead = AttemptView(1, 7, "Sandbox", due - timedelta(milliseconds=40), due + timedelta(milliseconds=90),
                                  AttemptOutcome.SUCCEEDED, 200, "", 130)
    assert shown_minute(journaled_ahead) == due  # 21:24, not 21:23:59
    in_flight = AttemptView(2, 7, "Sandbox", due - timedelta(milliseconds=40), None, AttemptOutcome.IN_FLIGHT,
                            None, "", None)
    assert shown_minute(in_flight) == due


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
