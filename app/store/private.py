"""Files only their owner may read: the data folder 0700, everything Outpost writes in it 0600.

Posts, account names and logs are nobody else's business on a shared computer. The modes are
set explicitly (not left to the umask), and folders made before this rule are tightened on open.
Windows has no POSIX modes: there the user profile's ACLs already keep the data private.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
POSIX = sys.platform != "win32"


def make_private_dir(path: Path) -> None:
    """Create `path` (and its parents) if needed; the folder itself ends up 0700."""
    path.mkdir(parents=True, exist_ok=True)
    tighten(path, PRIVATE_DIR)


def tighten(path: Path, mode: int = PRIVATE_FILE) -> None:
    """chmod `path` to `mode` if it exists and is more open; never follows a symlink's target."""
    if not POSIX:
        return
    try:
        st = path.lstat()
    except OSError:
        return
    if os.path.islink(path) or (st.st_mode & 0o777) == mode:
        return
    with contextlib.suppress(OSError):  # a file another user owns is their business, not a reason to stop
        os.chmod(path, mode)


def create_private_file(path: Path) -> None:
    """Make sure `path` exists as an owner-only file (an existing one is tightened, not emptied)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    try:
        if POSIX:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def write_private_text(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, owner-only from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    try:
        if POSIX:
            os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text)
    finally:
        if fd != -1:
            os.close(fd)
    os.replace(tmp, path)


# What Outpost keeps in its data folder: only these are ever tightened, so a folder a person chose
# for other things too (--data-dir ~/Documents) keeps the modes of everything else in it.
OWN_ENTRIES = ("outpost.sqlite3", "outpost.sqlite3-wal", "outpost.sqlite3-shm", "outpost.sqlite3-journal",
               "outpost.lock", "outpost.pid", "schedule-changed", "publisher-state.json",
               "publisher-endpoint.json", "media-host.json", "window.ini", "logs", "backups", "sandbox", "damaged")


def make_private_data_dir(root: Path) -> None:
    """Create the data folder 0700. In one made by an older version (group or others could enter
    it), Outpost's own files and folders are tightened once; after that, opening costs one stat()."""
    existed = root.exists()
    root.mkdir(parents=True, exist_ok=True)
    if not POSIX:
        return
    if not existed:
        tighten(root, PRIVATE_DIR)
        return
    if not root.stat().st_mode & 0o077:
        return
    ours = [root / name for name in OWN_ENTRIES if (root / name).exists()]
    for path in ours:
        if path.is_dir() and not path.is_symlink():
            tighten_tree(path)
        else:
            tighten(path, PRIVATE_FILE)
    if all(name.startswith(OWN_ENTRIES) for name in os.listdir(root)):  # Outpost's alone: not a shared folder
        tighten(root, PRIVATE_DIR)


def tighten_tree(root: Path) -> None:
    """`root` and the folders under it 0700, the files 0600 (one of Outpost's own folders)."""
    if not POSIX:
        return
    tighten(root, PRIVATE_DIR)
    try:
        walk = list(os.walk(root))
    except OSError:
        return
    for folder, dirs, files in walk:
        for name in dirs:
            tighten(Path(folder, name), PRIVATE_DIR)
        for name in files:
            tighten(Path(folder, name), PRIVATE_FILE)
