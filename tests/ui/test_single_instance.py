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


def test_the_quick_no_instance_check_looks_where_qt_puts_the_socket(qtbot, data_dir) -> None:
    """Before the first paint a launch only checks for the socket file; it must be Qt's own path."""
    from app.ui.single_instance import _surely_nobody_listens, server_name

    name = server_name(data_dir)
    assert _surely_nobody_listens(name) or sys.platform == "win32"
    server = InstanceServer(data_dir)
    assert server.listen()
    try:
        assert Path(server.server.fullServerName()).exists() or sys.platform == "win32"
        assert not _surely_nobody_listens(name)  # the file Qt made is the one we look for
    finally:
        server.close()


def test_a_launch_with_nothing_running_does_not_load_qt_networking(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from app.ui.single_instance import send_to_running; "
            f"print(send_to_running(Path({str(tmp_path)!r})), 'PySide6.QtNetwork' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), check=True)
    assert done.stdout.split() == ["False", "False" if sys.platform != "win32" else "True"]
