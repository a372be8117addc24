"""End to end on a real X display with a real tray host: Xvfb + trayer, driven by xdotool.

Launch Outpost, write a sandbox post that is due a few seconds later, close the window to the
tray, and find the post in the sandbox feed. Skips where Xvfb, trayer or xdotool is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

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


def test_a_post_written_in_the_window_goes_out_from_the_tray(display: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    now = datetime.now()
    # The editor's time field has minutes: aim at the first minute at least 8 s away, today.
    target = (now + timedelta(seconds=8)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    if target.date() != now.date() or now.hour >= 22:
        pytest.skip("the default date is tomorrow this late; run it before 22:00")
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_API="PySide6",
               PYTHON_KEYRING_BACKEND="tests.support.memkeyring.InMemoryKeyring")
    env.pop("WAYLAND_DISPLAY", None)
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen([sys.executable, "-m", "app.ui", "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
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
        deadline = time.monotonic() + (target - datetime.now()).total_seconds() + 30
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
        log.close()
    assert app.returncode == 0, (tmp_path / "app.log").read_text()
