"""One window per data dir: a second launch hands over to the running one through QLocalServer.

The data-dir file lock (app.store.lock) is what guarantees a single publisher; this socket only
carries messages ("show") from a second launch to the running window.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:  # QtNetwork is imported only when a socket is needed (it costs the first paint)
    from PySide6.QtNetwork import QLocalSocket

TIMEOUT_MS = 1500


def _user() -> str:
    for key in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if os.environ.get(key):
            return os.environ[key]
    try:
        import getpass

        return getpass.getuser()
    except (ImportError, KeyError, OSError):
        return "user"


def server_name(data_dir: Path) -> str:
    """A per-user, per-data-dir name (a named pipe on Windows, a socket file elsewhere)."""
    path = str(data_dir.resolve()).encode("utf-8")
    digest = f"{zlib.crc32(path):08x}{zlib.adler32(path):08x}"
    safe_user = "".join(c for c in _user() if c.isalnum())[:24] or "user"
    return f"outpost-{safe_user}-{digest}"


def _surely_nobody_listens(name: str) -> bool:
    """True when no server can be listening: on Unix, QLocalServer's socket file is missing.

    Qt puts a plain-named socket in $TMPDIR (else /tmp). Windows pipes are always asked.
    """
    if sys.platform == "win32":
        return False
    folder = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - Qt's own default, only looked at
    return not os.path.exists(os.path.join(folder, name))


def send_to_running(data_dir: Path, message: str = "show", timeout_ms: int = TIMEOUT_MS) -> bool:
    """Give `message` to the Outpost already running on `data_dir`; False when none answers."""
    name = server_name(data_dir)
    if _surely_nobody_listens(name):
        return False
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write((message + "\n").encode("utf-8"))
    socket.waitForBytesWritten(timeout_ms)  # False when flushed already; the answer is what counts
    answered = socket.waitForReadyRead(timeout_ms) and bytes(socket.readAll().data()).startswith(b"ok")
    socket.disconnectFromServer()
    return answered


class InstanceServer(QObject):
    """Listens for later launches; each line they send is re-emitted as `messageReceived`."""

    messageReceived = Signal(str)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        from PySide6.QtNetwork import QLocalServer

        super().__init__(parent)
        self.name = server_name(data_dir)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        # A crashed run can leave a stale socket file behind; we hold the data-dir lock, so remove it.
        self.server.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                return
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read(socket)  # a line may have arrived before readyRead was connected

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
            if line:
                self.messageReceived.emit(line)
                socket.write(b"ok\n")
                socket.flush()
