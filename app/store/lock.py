"""One publisher per data dir: a lock every process that opens the store takes (reliability.md P2)."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from app.core.errors import OutpostError

LOCK_NAME = "outpost.lock"


class DataDirLocked(OutpostError):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._lock = FileLock(str(self.path), timeout=0)

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
        try:
            info = self.path.with_suffix(".pid")
            info.write_text(str(os.getpid()), encoding="utf-8")
        except OSError:
            pass

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)
