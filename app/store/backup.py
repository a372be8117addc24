"""Backups through SQLite's online backup API, never by copying the live file (reliability.md S6, S7)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.store.private import create_private_file, make_private_dir

KEEP_DAILY = 7


class CopyCheckFailed(OSError):
    """The copy did not pass `PRAGMA quick_check`; it was removed and nothing was replaced."""

    def __init__(self, source: Path, result: str) -> None:
        super().__init__(f"backup of {source.name} failed its integrity check: {result}")
        self.result = result


def copy_verified(source: Path, target: Path, partial: Path) -> None:
    """Copy `source` through SQLite's backup API into `partial`, check it, then move it to `target`."""
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
    try:
        create_private_file(partial)  # owner-only from the start; the copy keeps the mode when moved
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if ok != "ok":
        partial.unlink(missing_ok=True)
        raise CopyCheckFailed(source, ok)
    partial.replace(target)


def backup_database(source: Path, target_dir: Path, label: str) -> Path:
    """Write a verified copy of `source` into `target_dir`; returns its path."""
    make_private_dir(target_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = target_dir / f"outpost-{label}-{stamp}.sqlite3"
    copy_verified(source, final, final.with_suffix(".partial"))
    return final


def daily_backup_due(target_dir: Path, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    newest = latest_backup(target_dir, "daily")
    if newest is None:
        return True
    return now - datetime.fromtimestamp(newest.stat().st_mtime, UTC) >= timedelta(hours=23)


def make_daily_backup(source: Path, target_dir: Path) -> Path:
    path = backup_database(source, target_dir, "daily")
    daily = sorted(target_dir.glob("outpost-daily-*.sqlite3"))
    for old in daily[:-KEEP_DAILY]:
        old.unlink(missing_ok=True)
    return path


def latest_backup(target_dir: Path, label: str = "*") -> Path | None:
    found = sorted(target_dir.glob(f"outpost-{label}-*.sqlite3")) if target_dir.exists() else []
    return found[-1] if found else None


def quick_check(path: Path) -> str:
    """'ok', or SQLite's description of what is wrong with the file."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return str(conn.execute("PRAGMA quick_check").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    except UnicodeDecodeError:  # SQLite quoted damaged bytes (a scribbled schema) in its message
        return "the database schema is damaged"
