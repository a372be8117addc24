"""Start-up shows this month's posts before the engine has loaded, then the engine's own read."""

from __future__ import annotations

from pathlib import Path

from app.engine.runtime import Runtime
from tests.ui.conftest import ZONE, at_local, local_today, make_post, timedelta


def test_the_month_fills_in_from_a_quick_read_then_from_the_engine(qtbot, data_dir: Path) -> None:
    from app.ui.main_window import MainWindow

    rt = Runtime.open(data_dir)
    make_post(rt, at_local(local_today() + timedelta(days=1), 10), "Read before the engine")
    rt.close()
    window = MainWindow(data_dir=data_dir, tz_name=ZONE)  # as launch.run builds it: no runtime yet
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.month.posts == []
    assert window.show_preview()
    assert [p.text for p in window.month.posts] == ["Read before the engine"]
    rt = Runtime.open(data_dir)
    try:
        window.attach(rt)
        assert window.month.posts == rt.planner.posts_between(*window.month.visible_range())
        assert not window.show_preview()  # attached: the engine's read stands
    finally:
        window.shutdown()
        window._really_quit = True
        window.close()
        rt.close()


def test_an_empty_or_new_data_dir_shows_nothing_and_creates_nothing(qtbot, tmp_path: Path) -> None:
    from app.ui.main_window import MainWindow

    fresh = tmp_path / "never-opened"
    window = MainWindow(data_dir=fresh, tz_name=ZONE)
    qtbot.addWidget(window)
    window.show()
    assert not window.show_preview()
    assert not (fresh / "outpost.sqlite3").exists()
    window._really_quit = True
    window.close()
