"""Putting a backup back, or starting empty on purpose, when the database is damaged or missing.

The damaged file is never deleted: it moves, with its `-wal` and `-shm` beside it, into
`<data dir>/damaged/<time>/`, so nothing SQLite may still need is lost and the stale WAL cannot
be replayed into the restored file (reliability.md S6, S9). The backup is verified with
`PRAGMA quick_check` and copied through SQLite's backup API, never as raw bytes of a live file.
Each function takes the data-folder lock: nothing may have the database open meanwhile.

`missing_database` is what the window and the CLI ask before opening: a database that vanished
while backups remain is never silently replaced by an empty one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import OutpostError
from app.store.backup import CopyCheckFailed, copy_verified, quick_check
from app.store.db import SIDE_FILES
from app.store.lock import DataDirLock
from app.store.paths import backup_dir, db_path
from app.store.private import create_private_file, make_private_dir


@dataclass(frozen=True)
class MissingDatabase:
    """The database file is gone but `backups/` holds `newest` (taken at `taken`, UTC)."""

    database: Path
    newest: Path
    taken: datetime

    def message(self) -> str:
        """One line: what is wrong and the two ways on."""
        return (f"The database {self.database} is missing, but there is a backup from "
                f"{self.taken:%Y-%m-%d %H:%M} UTC ({self.newest.name}). Put it back with "
                "`outpost restore-backup --latest`, or start with an empty database with "
                "`outpost restore-backup --start-empty`.")


@dataclass(frozen=True)
class Restored:
    source: Path
    damaged_kept_in: Path | None
    previous_state: str  # "ok", "missing", or SQLite's words for the damage


def backups(data_dir: Path) -> list[Path]:
    """Backup files, newest first."""
    folder = backup_dir(data_dir)
    found = folder.glob("outpost-*.sqlite3") if folder.exists() else []
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def missing_database(data_dir: Path) -> MissingDatabase | None:
    """The newest backup, when the database file is missing and a backup exists; None otherwise
    (the database is there, or this is a new data folder: creating it empty is then right)."""
    database = db_path(data_dir)
    if database.exists():
        return None
    found = backups(data_dir)
    if not found:
        return None
    newest = found[0]
    return MissingDatabase(database, newest, datetime.fromtimestamp(newest.stat().st_mtime, UTC))


def newest_intact_backup(data_dir: Path) -> Path:
    for path in backups(data_dir):
        if quick_check(path) == "ok":
            return path
    raise OutpostError(f"There is no intact backup in {backup_dir(data_dir)}.")


def restore_backup(data_dir: Path, source: Path | None = None, *, force: bool = False) -> Restored:
    """Put `source` (default: the newest intact backup) in place of the database.

    Refused (OutpostError, nothing changed) when the database is intact and `force` is False, or when
    another Outpost holds the data folder."""
    lock = DataDirLock(data_dir)
    lock.acquire()
    try:
        if source is None:
            source = newest_intact_backup(data_dir)
        else:
            verdict = quick_check(source)
            if verdict != "ok":
                raise OutpostError(f"The backup {source.name} is damaged too ({verdict}); choose another one.")
        current = db_path(data_dir)
        verdict = quick_check(current) if current.exists() else "missing"
        if verdict == "ok" and not force:
            raise OutpostError(f"The database {current} is not damaged; restoring would drop what changed since "
                               f"the backup. Add --force to restore {source.name} anyway.")
        kept = set_aside(data_dir) if current.exists() else None
        try:
            copy_verified(source, current, current.with_name(current.name + ".restoring"))
        except CopyCheckFailed as exc:
            raise OutpostError(f"The copy of {source.name} failed its check ({exc.result}); "
                               "nothing was replaced.") from None
    finally:
        lock.release()
    return Restored(source, kept, verdict)


def start_empty(data_dir: Path) -> Path:
    """Create an empty database where the missing one was (the backups stay where they are).
    Refused when a database is there: this never replaces one."""
    lock = DataDirLock(data_dir)
    lock.acquire()
    try:
        current = db_path(data_dir)
        if current.exists():
            raise OutpostError(f"The database {current} is there; --start-empty only replaces a missing one.")
        for suffix in SIDE_FILES:  # a -wal left from the lost file must not be replayed into the new one
            side = Path(f"{current}{suffix}")
            if side.exists():
                set_aside(data_dir)
                break
        create_private_file(current)  # an empty SQLite database; the next open creates the tables
    finally:
        lock.release()
    return current


def set_aside(data_dir: Path) -> Path:
    """Move the database and its side files (never deleted) into damaged/<time>/."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    make_private_dir(data_dir / "damaged")
    folder = data_dir / "damaged" / stamp
    make_private_dir(folder)
    current = db_path(data_dir)
    for suffix in ("", *SIDE_FILES):
        path = Path(f"{current}{suffix}")
        if path.exists():
            os.replace(path, folder / path.name)
    return folder
