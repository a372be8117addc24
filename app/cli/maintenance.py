"""`outpost restore-backup`: put a verified automatic backup back in place of a damaged or missing
database, or start empty on purpose (app/store/restore.py does the work; the window uses it too).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cli import print_json
from app.core.errors import OutpostError
from app.store.backup import quick_check
from app.store.paths import backup_dir, db_path
from app.store.restore import backups, restore_backup, start_empty


def register(sub: Any) -> None:
    p = sub.add_parser("restore-backup", help="replace a damaged or missing database with a verified backup",
                       description="Without arguments, lists the backups and whether each is intact.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--latest", action="store_true", help="restore the newest intact backup")
    which.add_argument("--start-empty", action="store_true",
                       help="the database is missing: start with an empty one instead (the backups stay)")
    which.add_argument("file", nargs="?", help="a backup file to restore")
    p.add_argument("--force", action="store_true", help="replace the database even though it is not damaged")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_restore_backup)


def cmd_restore_backup(args: argparse.Namespace, data_dir: Path) -> int:
    if args.start_empty:
        created = start_empty(data_dir)
        if args.json:
            print_json({"created": str(created)})
        else:
            print(f"Started an empty database at {created}; the backups stay in {backup_dir(data_dir)}.")
        return 0
    if not args.latest and not args.file:
        return _list(data_dir, args.json)
    source = None
    if args.file:
        source = Path(args.file).expanduser().resolve()
        if not source.is_file():
            raise OutpostError(f"There is no backup file {source}.")
    done = restore_backup(data_dir, source, force=args.force)
    kept = done.damaged_kept_in
    result = {"restored": str(done.source), "damaged_kept_in": str(kept) if kept else None,
              "previous_state": done.previous_state}
    if args.json:
        print_json(result)
    else:
        print(f"Restored {done.source.name}.")
        if kept:
            print(f"The previous database ({done.previous_state}) was kept in {kept}.")
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
