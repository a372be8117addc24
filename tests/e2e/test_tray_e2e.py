"""End to end on a real X display with a real tray host: Xvfb + trayer, driven by xdotool.

Launch Outpost, write a sandbox post that is due a few seconds later, close the window to the
tray, and find the post in the sandbox feed. Skips where Xvfb, trayer or xdotool is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from app.core.models import PostStatus

if TYPE_CHECKING:
    from PySide6.QtGui import QImage as QImageType

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "trayer", "xdotool")
pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS) or sys.platform != "linux",
                       reason="needs Xvfb, trayer and xdotool (Linux)"),
]


@pytest.fixture
def display(tmp_path: Path) -> Iterator[str]:
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        xvfb.kill()
        pytest.skip("Xvfb did not start")
    name = f":{number}"
    env = dict(os.environ, DISPLAY=name)
    trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "160",
                               "--height", "28"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    yield name
    for process in (trayer, xvfb):
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


def xdotool(display: str, *args: str, timeout: float = 20) -> str:
    result = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), capture_output=True,
                            text=True, timeout=timeout, check=False)
    return result.stdout.strip()


def visible_window(display: str, name: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = xdotool(display, "search", "--onlyvisible", "--name", name).split()
        if ids:
            return ids[-1]
        time.sleep(0.2)
    raise AssertionError(f"no visible window named {name!r}")


def midday_zone() -> tuple[str, tzinfo]:
    """A fixed-offset zone where it is now between 09:00 and 19:00 on a day other than Sunday.

    The app runs in it (TZ), so what the test types and drags never depends on when CI runs: the
    editor's default date is tomorrow late in the evening, and a week row ends on Sunday."""
    utc = datetime.now(UTC)
    for hours in range(-12, 15):
        local = utc + timedelta(hours=hours)
        if 9 <= local.hour < 19 and local.isoweekday() != 7:
            name = "Etc/GMT" + (f"-{hours}" if hours > 0 else f"+{-hours}" if hours < 0 else "")  # POSIX signs
            return name, ZoneInfo(name)
    raise AssertionError("no zone has a weekday midday now")  # never: offsets span 26 hours


def launch(display: str, zone_name: str, data_dir: Path, log_path: Path) -> tuple[dict[str, str], subprocess.Popen[bytes]]:
    """Outpost on the X display, in `zone_name`, logging to `log_path`; returns its environment too
    (the screenshots taken with `import` use it)."""
    env = dict(os.environ, TZ=zone_name, DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_API="PySide6",
               PYTHON_KEYRING_BACKEND="tests.support.memkeyring.InMemoryKeyring")
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_SCALE_FACTOR", None)
    log = log_path.open("w")
    app = subprocess.Popen([sys.executable, "-m", "app.ui", "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child has its own copy of the descriptor
    return env, app


def test_a_post_written_in_the_window_goes_out_from_the_tray(display: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    zone_name, zone = midday_zone()
    now = datetime.now(zone)
    # The editor's time field has minutes: aim at the first minute at least 8 s away, today.
    target = (now + timedelta(seconds=8)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    env, app = launch(display, zone_name, data_dir, tmp_path / "app.log")
    try:
        main = visible_window(display, "^Outpost$", timeout=30)
        xdotool(display, "windowfocus", "--sync", main)
        xdotool(display, "key", "ctrl+n")
        editor = visible_window(display, "^New post$")
        xdotool(display, "windowfocus", "--sync", editor)
        time.sleep(0.3)
        xdotool(display, "type", "--delay", "15", "Hello from the tray e2e")
        xdotool(display, "key", "alt+t")  # the time field, hours selected
        xdotool(display, "type", "--delay", "40", target.strftime("%H%M"))
        subprocess.run(["import", "-window", "root", str(tmp_path / "editor.png")], env=env, check=False, capture_output=True, timeout=20)
        xdotool(display, "key", "ctrl+Return")
        deadline = time.monotonic() + 10
        while xdotool(display, "search", "--onlyvisible", "--name", "^New post$") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not xdotool(display, "search", "--onlyvisible", "--name", "^New post$"), "the editor did not save"
        xdotool(display, "windowfocus", "--sync", main)
        xdotool(display, "key", "ctrl+w")  # close the window: Outpost stays in the tray
        time.sleep(1.0)
        assert not xdotool(display, "search", "--onlyvisible", "--name", "^Outpost$"), "the window did not close"
        assert app.poll() is None, "closing the window quit the app"
        subprocess.run(["import", "-window", "root", str(tmp_path / "tray.png")], env=env, check=False,
                       capture_output=True, timeout=20)
        feed = data_dir / "sandbox" / "feed.html"
        deadline = time.monotonic() + (target - datetime.now(zone)).total_seconds() + 30
        while time.monotonic() < deadline:
            if feed.exists() and "Hello from the tray e2e" in feed.read_text(encoding="utf-8"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the post never reached the sandbox feed; app log:\n{(tmp_path / 'app.log').read_text()}")
        assert app.poll() is None
    finally:
        from app.ui.single_instance import send_to_running

        if app.poll() is None and not send_to_running(data_dir, "quit"):
            app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
    assert app.returncode == 0, (tmp_path / "app.log").read_text()


def _screenshot(display: str, window: str, path: Path) -> QImageType:
    from PySide6.QtGui import QImage

    subprocess.run(["import", "-window", window, str(path)], env=dict(os.environ, DISPLAY=display), check=True,
                   capture_output=True, timeout=20)
    image = QImage(str(path))
    assert not image.isNull(), f"could not read {path}"
    return image


def _find_colour(image: QImageType, colour: str, *, left: int = 0, top: int = 0,
                 right: int | None = None) -> tuple[int, int] | None:
    """The top-left-most pixel of exactly `colour` between `left` and `right`, below `top`."""
    from PySide6.QtGui import QColor

    wanted = QColor(colour).rgb()
    for x in range(left, right or image.width()):
        for y in range(top, image.height()):
            if image.pixel(x, y) == wanted:
                return x, y
    return None


def _commonest(image: QImageType, x0: int, x1: int, y0: int, y1: int) -> tuple[int, float]:
    """The commonest colour in a rectangle, and the share of its pixels."""
    counts: dict[int, int] = {}
    for x in range(x0, x1, 3):
        for y in range(y0, y1, 3):
            rgb = image.pixel(x, y)
            counts[rgb] = counts.get(rgb, 0) + 1
    colour = max(counts, key=lambda c: counts[c])
    return colour, counts[colour] / sum(counts.values())


def test_the_sidebar_is_still_there_after_a_dragged_post_publishes_with_the_window_in_the_tray(display: str,
                                                                                               tmp_path: Path) -> None:
    """Write a post for tomorrow, drag it onto today a minute from now, close to the tray with its
    details open, let it publish, reopen from the tray icon: the sidebar is where it was (issue 13 #1)."""
    from app.ui import theme

    data_dir = tmp_path / "data"
    zone_name, zone = midday_zone()
    now = datetime.now(zone)
    target = (now + timedelta(seconds=20)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    env, app = launch(display, zone_name, data_dir, tmp_path / "app.log")
    try:
        main = visible_window(display, "^Outpost$", timeout=30)
        xdotool(display, "windowsize", "--sync", main, "1300", "820")
        xdotool(display, "windowfocus", "--sync", main)
        time.sleep(0.5)
        baseline = _screenshot(display, main, tmp_path / "1-start.png")
        sidebar_colour, share = _commonest(baseline, 10, 200, 150, baseline.height() - 60)
        assert share > 0.5, "no sidebar at the start"
        xdotool(display, "key", "Right", "Return")  # Enter on tomorrow starts a post there
        editor = visible_window(display, "^New post$")
        xdotool(display, "windowfocus", "--sync", editor)
        time.sleep(0.3)
        xdotool(display, "type", "--delay", "15", "Dragged then sent from the tray")
        xdotool(display, "key", "alt+t")
        xdotool(display, "type", "--delay", "40", target.strftime("%H%M"))
        xdotool(display, "key", "ctrl+Return")
        deadline = time.monotonic() + 10
        while xdotool(display, "search", "--onlyvisible", "--name", "^New post$") and time.monotonic() < deadline:
            time.sleep(0.2)
        xdotool(display, "windowfocus", "--sync", main)
        xdotool(display, "key", "Escape")  # Esc closes the new post's details (its chip shows unselected)
        time.sleep(0.8)
        saved = _screenshot(display, main, tmp_path / "2-saved.png")
        chip = _find_colour(saved, theme.status_color(PostStatus.SCHEDULED).name(), left=240, top=120,
                            right=saved.width() - 340)
        assert chip is not None, "the new post's chip is not on the calendar"
        # Today is the cell left of tomorrow: half a cell width to the left lands in it.
        x, y = chip
        origin = xdotool(display, "getwindowgeometry", "--shell", main)
        geo = dict(line.split("=", 1) for line in origin.splitlines() if "=" in line)
        sx, sy = int(geo["X"]) + x + 20, int(geo["Y"]) + y + 4
        xdotool(display, "mousemove", "--sync", str(sx), str(sy))
        xdotool(display, "mousedown", "1")
        for step in range(1, 9):
            xdotool(display, "mousemove", "--sync", str(sx - step * 10), str(sy + step))
            time.sleep(0.05)
        xdotool(display, "mouseup", "1")  # the post stays selected: its details are open
        time.sleep(0.8)
        _screenshot(display, main, tmp_path / "3-dragged.png")
        listed = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "post", "list", "--json"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
        posts = json.loads(listed.stdout)
        assert len(posts) == 1, listed.stdout
        moved = datetime.fromisoformat(posts[0]["scheduled_at"].replace("Z", "+00:00")).astimezone(zone)
        assert moved.date() == now.date() and moved.strftime("%H:%M") == target.strftime("%H:%M"), (
            f"the drop did not land on today at {target:%H:%M}: {moved}")
        xdotool(display, "key", "ctrl+w")  # to the tray, the details still open
        deadline = time.monotonic() + 10
        while xdotool(display, "search", "--onlyvisible", "--name", "^Outpost$") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not xdotool(display, "search", "--onlyvisible", "--name", "^Outpost$"), "the window did not close"
        feed = data_dir / "sandbox" / "feed.html"
        deadline = time.monotonic() + (target - datetime.now(zone)).total_seconds() + 30
        while time.monotonic() < deadline:
            if feed.exists() and "Dragged then sent from the tray" in feed.read_text(encoding="utf-8"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the dragged post did not go out today: was the drop on today's cell?\n"
                                 + (tmp_path / "app.log").read_text())
        time.sleep(1.0)  # the window hears of the publish while hidden
        _click_tray_icon(display)
        main = visible_window(display, "^Outpost$", timeout=10)
        time.sleep(0.8)
        after = _screenshot(display, main, tmp_path / "4-reopened.png")
        colour, share = _commonest(after, 10, 200, 150, after.height() - 60)
        assert colour == sidebar_colour and share > 0.5, f"the sidebar is gone; see {tmp_path / '4-reopened.png'}"
        assert app.poll() is None
    finally:
        from app.ui.single_instance import send_to_running

        if app.poll() is None and not send_to_running(data_dir, "quit"):
            app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
    assert app.returncode == 0, (tmp_path / "app.log").read_text()


def _click_tray_icon(display: str) -> None:
    """Click Outpost's icon where the tray host embedded it (a small window named Outpost)."""
    for window in xdotool(display, "search", "--class", "Outpost").split():
        shell = xdotool(display, "getwindowgeometry", "--shell", window)
        geo = dict(line.split("=", 1) for line in shell.splitlines() if "=" in line)
        width, height = int(geo.get("WIDTH", "0")), int(geo.get("HEIGHT", "0"))
        if 8 <= width <= 64 and 8 <= height <= 64:
            x, y = int(geo["X"]) + width // 2, int(geo["Y"]) + height // 2
            xdotool(display, "mousemove", "--sync", str(x), str(y))
            xdotool(display, "click", "1")
            return
    raise AssertionError("Outpost's tray icon is not in the tray host")
