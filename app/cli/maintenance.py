"""`outpost restore-backup`: put a verified automatic backup back in place of a damaged database.

The damaged file is never deleted: it moves, with its `-wal` and `-shm` beside it, into
`<data dir>/damaged/<time>/`, so nothing SQLite may still need is lost and the stale WAL cannot
be replayed into the restored file (reliability.md S6, S9). The backup is verified with
`PRAGMA quick_check` and copied through SQLite's backup API, never as raw bytes of a live file.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cli import print_json
from app.core.errors import OutpostError
from app.store.backup import quick_check
from app.store.lock import DataDirLock
from app.store.paths import backup_dir, db_path

SIDE_FILES = ("-wal", "-shm", "-journal")


def register(sub: Any) -> None:
    p = sub.add_parser("restore-backup", help="replace a damaged database with a verified backup",
                       description="Without arguments, lists the backups and whether each is intact.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--latest", action="store_true", help="restore the newest intact backup")
    which.add_argument("file", nargs="?", help="a backup file to restore")
    p.add_argument("--force", action="store_true", help="replace the database even though it is not damaged")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_restore_backup)


def backups(data_dir: Path) -> list[Path]:
    """Backup files, newest first."""
    folder = backup_dir(data_dir)
    found = folder.glob("outpost-*.sqlite3") if folder.exists() else []
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def cmd_restore_backup(args: argparse.Namespace, data_dir: Path) -> int:
    if not args.latest and not args.file:
        return _list(data_dir, args.json)
    lock = DataDirLock(data_dir)
    lock.acquire()  # nothing may have the database open while it is replaced
    try:
        source = _choose(data_dir, args.file)
        current = db_path(data_dir)
        verdict = quick_check(current) if current.exists() else "missing"
        if verdict == "ok" and not args.force:
            raise OutpostError(f"The database {current} is not damaged; restoring would drop what changed since "
                               f"the backup. Add --force to restore {source.name} anyway.")
        kept = _set_aside(data_dir) if current.exists() else None
        _copy(source, current)
    finally:
        lock.release()
    result = {"restored": str(source), "damaged_kept_in": str(kept) if kept else None, "previous_state": verdict}
    if args.json:
        print_json(result)
    else:
        print(f"Restored {source.name}.")
        if kept:
            print(f"The previous database ({verdict}) was kept in {kept}.")
        print("Posts created or changed after that backup was made are not in it; check the calendar.")
    return 0


def _list(data_dir: Path, as_json: bool) -> int:
    rows = [{"file": str(p), "taken": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds"),
             "check": quick_check(p)} for p in backups(data_dir)]
    if as_json:
        print_json({"database": quick_check(db_path(data_dir)) if db_path(data_dir).exists() else "missing",
                    "backups": rows})
        return 0
    if not rows:
        print(f"There are no backups in {backup_dir(data_dir)} yet.")
        return 0
    for row in rows:
        print(f"{row['taken']}  {'intact ' if row['check'] == 'ok' else 'DAMAGED'}  {row['file']}")
    print("Restore one with `outpost restore-backup --latest` or `outpost restore-backup FILE`.")
    return 0


def _choose(data_dir: Path, file: str | None) -> Path:
    if file:
        path = Path(file).expanduser().resolve()
        if not path.is_file():
            raise OutpostError(f"There is no backup file {path}.")
        verdict = quick_check(path)
        if verdict != "ok":
            raise OutpostError(f"The backup {path.name} is damaged too ({verdict}); choose another one.")
        return path
    for path in backups(data_dir):
        if quick_check(path) == "ok":
            return path
    raise OutpostError(f"There is no intact backup in {backup_dir(data_dir)}.")


def _set_aside(data_dir: Path) -> Path:
    """Move the database and its side files (never deleted) into damaged/<time>/."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = data_dir / "damaged" / stamp
    folder.mkdir(parents=True)
    current = db_path(data_dir)
    for suffix in ("", *SIDE_FILES):
        path = Path(f"{current}{suffix}")
        if path.exists():
            os.replace(path, folder / path.name)
    return folder


def _copy(source: Path, target: Path) -> None:
    """Copy through SQLite's backup API into a temporary file, verify it, then move it in place."""
    from app.store.backup import CopyCheckFailed, copy_verified

    try:
        copy_verified(source, target, target.with_name(target.name + ".restoring"))
    except CopyCheckFailed as exc:
        raise OutpostError(f"The copy of {source.name} failed its check ({exc.result}); nothing was replaced.") from None
