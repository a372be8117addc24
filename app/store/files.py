"""Reading files other programs wrote (spreadsheets, pictures, videos) without trusting their names.

A path may name a FIFO (open() blocks until a writer comes), a device such as /dev/zero (read()
never ends), a symlink to /proc/self/mem, or a file that grows while we read it. Every read of a
file a person chose goes through here: opened without blocking, accepted only when fstat() of the
opened descriptor says it is a regular file, and never read past `max_bytes`, whatever stat() said.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileRefused", "bounded_reader", "open_regular_file", "read_head", "read_regular_file"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class FileRefused(OSError):
    """The path exists but is not a file Outpost will read; `str()` says why, for a person."""


def open_regular_file(path: Path | str, max_bytes: int | None = None) -> BinaryIO:
    """Open `path` for reading; FileRefused when it is not a regular file (or is over `max_bytes`),
    OSError (FileNotFoundError, PermissionError, ...) as open() raises it otherwise.

    The check is made on the opened descriptor, so a path swapped for a FIFO in between is caught."""
    name = Path(path).name or str(path)
    fd = os.open(os.fspath(Path(path).expanduser()), _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a pipe" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a file")
            raise FileRefused(f"{name} is {kind}, not a regular file: choose the file itself.")
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileRefused(f"{name} is {_size(info.st_size)}, over the {_size(max_bytes)} Outpost reads.")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: Path | str, max_bytes: int) -> bytes:
    """The whole file, refused (FileRefused) when it is not a regular file or holds more than
    `max_bytes`. The cap counts what is read, not what stat() reported (/proc files say 0)."""
    with open_regular_file(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"{Path(path).name} is over the {_size(max_bytes)} Outpost reads.")
    return data


def read_head(path: Path | str, n: int = 64) -> tuple[bytes, int]:
    """The first `n` bytes of a regular file and its size (for sniffing its type)."""
    with open_regular_file(path) as fh:
        head = fh.read(n)
        size = os.fstat(fh.fileno()).st_size
    return head, size


def bounded_reader(fh: BinaryIO, max_bytes: int, name: str = "the file") -> io.RawIOBase:
    """`fh` wrapped so that reading past `max_bytes` raises FileRefused instead of going on."""
    return _Bounded(fh, max_bytes, name)


class _Bounded(io.RawIOBase):
    def __init__(self, fh: BinaryIO, max_bytes: int, name: str) -> None:
        self._fh, self._left, self._name, self._max = fh, max_bytes, name, max_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fh.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise FileRefused(f"{self._name} is over the {_size(self._max)} Outpost reads.")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.0f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return f"{n} bytes"
