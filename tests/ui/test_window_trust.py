"""The window a creator can trust all day (issue 13): nothing vanishes, nothing is hidden."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtWidgets import QApplication

from app.core.models import PostStatus
from app.core.timeutil import utcnow
from tests.ui.conftest import make_post


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
