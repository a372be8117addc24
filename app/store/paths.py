"""Where Outpost keeps its data: --data-dir, else OUTPOST_DATA_DIR, else the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

DB_NAME = "outpost.sqlite3"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        path = Path(explicit)
    elif os.environ.get("OUTPOST_DATA_DIR"):
        path = Path(os.environ["OUTPOST_DATA_DIR"])
    else:
        path = Path(user_data_dir("Outpost", appauthor=False, roaming=False))
    return path.expanduser().resolve()


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def poke_path(data_dir: Path) -> Path:
    """Touched by a process that changed posts, so the running publisher re-reads the schedule."""
    return data_dir / "schedule-changed"


def endpoint_path(data_dir: Path) -> Path:
    """Where the publishing process says how to reach it: its pid, loopback port and a secret token."""
    return data_dir / "publisher-endpoint.json"


def state_path(data_dir: Path) -> Path:
    """The running publisher's state (paused platforms, next wake-up) for `outpost status`."""
    return data_dir / "publisher-state.json"


def log_dir(data_dir: Path) -> Path:
    return data_dir / "logs"


def backup_dir(data_dir: Path) -> Path:
    return data_dir / "backups"


# Folders that sync tools mirror file by file: SQLite's -wal would be copied apart from the database.
_SYNCED_MARKERS = ("dropbox", "onedrive", "google drive", "googledrive", "icloud", "mobile documents", "nextcloud")


def location_warning(data_dir: Path) -> str | None:
    """Why this folder is a risky home for a SQLite database, or None (reliability.md S5)."""
    lowered = str(data_dir).lower()
    for marker in _SYNCED_MARKERS:
        if marker in lowered:
            return (f"The data folder {data_dir} looks like a cloud-synced folder; sync tools can corrupt "
                    "the database. Choose a local folder with --data-dir.")
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    best = ("", "")
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and str(data_dir).startswith(parts[1]) and len(parts[1]) > len(best[0]):
            best = (parts[1], parts[2])
    if best[1] in {"nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "fuse.sshfs", "9p"}:
        return (f"The data folder {data_dir} is on a network share ({best[1]}); SQLite's locking does not "
                "work there. Choose a local folder with --data-dir.")
    return None
