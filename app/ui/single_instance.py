"""One window per data dir: a second launch hands over to the running one through QLocalServer.

The data-dir file lock (app.store.lock) is what guarantees a single publisher; this socket only
carries messages ("show") from a second launch to the running window.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

TIMEOUT_MS = 1500


def server_name(data_dir: Path) -> str:
    """A per-user, per-data-dir name (a named pipe on Windows, a socket file elsewhere)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:12]
    safe_user = "".join(c for c in user if c.isalnum())[:24] or "user"
    return f"outpost-{safe_user}-{digest}"


def send_to_running(data_dir: Path, message: str = "show", timeout_ms: int = TIMEOUT_MS) -> bool:
    """Give `message` to the Outpost already running on `data_dir`; False when none answers."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(data_dir))
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
        super().__init__(parent)
        self.name = server_name(data_dir)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        # A crashed run can leave a stale socket file behind; we hold the data-dir lock, so remove it.
        QLocalServer.removeServer(self.name)
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
