"""One publisher per data dir: a lock every process that opens the store takes (reliability.md P2)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from filelock import FileLock, Timeout

from app.core.errors import OutpostError
from app.store.private import PRIVATE_FILE, tighten, write_private_text

LOCK_NAME = "outpost.lock"


class DataDirLocked(OutpostError):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._lock = FileLock(str(self.path), timeout=0, mode=PRIVATE_FILE)

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except Timeout:
            raise DataDirLocked(
                f"Another Outpost is already running on {self.path.parent} (the window or `outpost run`). "
                "Close it first, or use another --data-dir."
            ) from None
        except OSError as exc:  # a read-only or full disk, or no permission
            raise OutpostError(
                f"Outpost cannot write to its data folder {self.path.parent} ({exc.strerror or exc}). "
                "Make it writable (or free some space), or use another --data-dir."
            ) from None
        tighten(self.path)
        with contextlib.suppress(OSError):
            write_private_text(self.path.with_suffix(".pid"), str(os.getpid()))

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)
