"""A second launch hands over to the running window through QLocalServer, and never publishes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.ui.single_instance import InstanceServer

ROOT = Path(__file__).resolve().parents[2]


def _launch(data_dir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="PySide6",
               PYTHON_KEYRING_BACKEND="tests.support.memkeyring.InMemoryKeyring")
    return subprocess.Popen([sys.executable, "-m", "app.ui", "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_launch_raises_the_running_window_and_exits(qtbot, window, data_dir) -> None:
    server = InstanceServer(data_dir)
    assert server.listen()
    received: list[str] = []
    server.messageReceived.connect(received.append)
    server.messageReceived.connect(lambda _m: window.bring_to_front())
    window.hide()
    second = _launch(data_dir)
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=20_000)
    _out, err = second.communicate()
    server.close()
    assert second.returncode == 0, err
    assert received == ["show"]
    assert window.isVisible()
    assert "already running" in err


def test_a_data_dir_held_by_a_headless_run_is_explained(qtbot, runtime, data_dir) -> None:
    # `runtime` holds the data-dir lock the way `outpost run` does, with no window to hand over to.
    second = _launch(data_dir)
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=20_000)
    _out, err = second.communicate()
    assert second.returncode == 3
    assert "outpost run" in err and "stop it first" in err
    assert runtime.lock.held
