"""Real widgets on a real data dir: a Runtime over a fresh SQLite file, shown offscreen."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.core.models import PostSpec
from app.core.timeutil import localize, utcnow
from app.engine.runtime import Runtime
from app.ui import theme

ZONE = "Europe/Berlin"


def _desktop_sized_offscreen_screen() -> None:
    """Offscreen Qt's screen is 800×800 unless configured; the window fits itself to its screen
    (issue 13 #7), so the tests get a 1920×1080 one, as a desktop has. Before any QApplication."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    config = Path(tempfile.gettempdir()) / f"outpost-test-screen-{os.getpid()}.json"
    config.write_text(json.dumps({"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080,
                                               "logicalDpi": 96, "logicalDpiX": 96, "logicalDpiY": 96,
                                               "dpr": 1}]}), encoding="utf-8")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


_desktop_sized_offscreen_screen()


@pytest.fixture(scope="session", autouse=True)
def _styled(qapp: QApplication) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    theme.apply(qapp)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def runtime(data_dir: Path) -> Iterator[Runtime]:
    rt = Runtime.open(data_dir)
    yield rt
    if rt.started:
        loop = asyncio.get_event_loop()
        loop.run_until_complete(rt.stop())
    else:
        rt.close()


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop on the test's QApplication, for tests that run the publisher."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def window(qtbot, runtime: Runtime):  # type: ignore[no-untyped-def]
    from app.ui.main_window import MainWindow

    w = MainWindow(runtime, tz_name=ZONE)
    qtbot.addWidget(w)
    w.resize(1280, 820)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()
    w._really_quit = True  # closing at teardown is quitting, not "keep publishing in the background?"


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return localize(datetime.combine(day, time(hour, minute)), ZoneInfo(ZONE))


def local_today() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(ZONE)).date()


def make_post(runtime: Runtime, when: datetime | None, text: str = "Hello from a test", *,
              draft: bool = False, account_ids: tuple[int, ...] | None = None) -> int:
    account = runtime.planner.default_account_id()
    assert account is not None
    return runtime.planner.create_post(PostSpec(text, account_ids or (account,), when, ZONE, draft=draft))


def drag(widget: QWidget, start: QPoint, end: QPoint,
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, steps: int = 6) -> None:
    """Press, move in steps past the drag distance, release: real mouse events on `widget`."""
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifiers, start)
    for i in range(1, steps + 1):
        x = start.x() + (end.x() - start.x()) * i // steps
        y = start.y() + (end.y() - start.y()) * i // steps
        QTest.mouseMove(widget, QPoint(x, y))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifiers, end)


def click(widget: QWidget, pos: QPoint, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, modifiers, pos)


def run_async(loop: asyncio.AbstractEventLoop, coro_factory: Callable[[], object]) -> object:
    return loop.run_until_complete(coro_factory())  # type: ignore[arg-type]


__all__ = ["ZONE", "at_local", "click", "drag", "local_today", "make_post", "run_async", "timedelta"]
