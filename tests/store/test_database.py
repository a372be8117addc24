"""The store on real SQLite files (reliability.md §2, cases 11-16)."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from app.engine.runtime import Runtime
from app.store.backup import make_daily_backup, quick_check
from app.store.db import Database, DatabaseError
from app.store.lock import DataDirLocked
from app.store.migrate import current_revision, head_revision, migrate
from app.store.schema import Account, Post, Target


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "outpost.sqlite3")
    migrate(database, tmp_path / "backups")
    yield database
    database.dispose()


def test_every_connection_has_the_durability_pragmas(db):
    for _ in range(3):  # NullPool: each check is a fresh connection
        assert db.pragmas() == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 5000}


def test_a_foreign_key_violation_is_refused(db):
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(Target(post_id=999, account_id=999))


def test_rolling_back_undoes_a_released_savepoint(db):
    with db.write() as s:
        s.add(Account(platform="sandbox", handle="keep"))
    with pytest.raises(RuntimeError), db.write() as s:
        with s.begin_nested():
            s.add(Account(platform="sandbox", handle="gone"))
        raise RuntimeError("abort the outer transaction")
    with db.read() as s:
        assert [a.handle for a in s.query(Account).all()] == ["keep"]


def test_a_writer_waits_out_another_writer_instead_of_failing(db):
    holder = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        time.sleep(1.0)
        holder.execute("COMMIT")

    threading.Thread(target=release).start()
    started = time.monotonic()
    with db.write() as s:
        s.add(Account(platform="sandbox", handle="patient"))
    assert time.monotonic() - started >= 0.9
    holder.close()


def test_instants_come_back_aware_in_utc(db):
    when = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)
    with db.write() as s:
        s.add(Post(text="x", scheduled_at=when))
    with db.read() as s:
        got = s.query(Post).one().scheduled_at
    assert got == when and got.tzinfo is UTC


def test_a_naive_datetime_is_refused(db):
    with pytest.raises(Exception, match="naive"), db.write() as s:
        s.add(Post(text="x", scheduled_at=datetime(2026, 1, 1)))
        s.flush()


def test_migrations_reach_head_and_a_second_run_does_nothing(db, tmp_path):
    assert current_revision(db) == head_revision()
    assert migrate(db, tmp_path / "backups") is None


def test_an_existing_database_is_backed_up_before_an_upgrade(tmp_path, monkeypatch):
    import shutil

    import app.store.migrate as migrate_module

    database = Database(tmp_path / "old.sqlite3")
    migrate(database, tmp_path / "backups")
    with database.write() as s:
        s.add(Account(platform="sandbox", handle="precious"))
    ladder = tmp_path / "migrations"
    shutil.copytree(migrate_module.MIGRATIONS, ladder)
    (ladder / "versions" / "0003_test.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n'
        'revision = "0003"\ndown_revision = "0002"\nbranch_labels = None\ndepends_on = None\n'
        'def upgrade():\n    op.add_column("account", sa.Column("colour", sa.String(20), nullable=True))\n'
        'def downgrade():\n    op.drop_column("account", "colour")\n')
    monkeypatch.setattr(migrate_module, "MIGRATIONS", ladder)
    monkeypatch.setattr(migrate_module, "HEAD", "0003")  # as a developer adding 0003 would
    backup = migrate(database, tmp_path / "backups")
    assert backup is not None and backup.name.startswith("outpost-before-0003-")
    assert current_revision(database) == "0003"
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT handle FROM account").fetchall() == [("precious",)]
    assert "colour" not in [r[1] for r in conn.execute("PRAGMA table_info(account)")]
    conn.close()
    database.dispose()


def test_daily_backups_keep_the_last_seven(db, tmp_path):
    for _ in range(9):
        make_daily_backup(db.path, tmp_path / "backups")
    kept = sorted((tmp_path / "backups").glob("outpost-daily-*.sqlite3"))
    assert len(kept) == 7
    assert all(quick_check(p) == "ok" for p in kept)


def test_a_corrupted_database_gives_a_clear_message_and_names_the_backup(tmp_path):
    data = tmp_path / "data"
    Runtime.open(data).close()
    make_daily_backup(data / "outpost.sqlite3", data / "backups")
    raw = bytearray((data / "outpost.sqlite3").read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page
    (data / "outpost.sqlite3").write_bytes(bytes(raw))
    with pytest.raises(DatabaseError, match=r"damaged .*latest backup is .*outpost-daily-"):
        Runtime.open(data)
    assert (data / "outpost.sqlite3").exists()  # never deleted


def test_a_second_publisher_on_the_same_data_dir_is_refused(tmp_path):
    first = Runtime.open(tmp_path / "data")
    try:
        with pytest.raises(DataDirLocked, match="already running"):
            Runtime.open(tmp_path / "data")
    finally:
        first.close()
    Runtime.open(tmp_path / "data").close()  # free again once closed


def test_no_code_copies_or_opens_the_live_database_file():
    """reliability.md S6: the live file is touched only through SQLite."""
    offenders = []
    for path in Path("app").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if re.search(r"shutil\.copy\w*\(", source) or re.search(r"open\([^)]*sqlite3", source):
            offenders.append(str(path))
    assert offenders == []


def test_the_head_constant_matches_the_migration_ladder():
    from app.store.migrations import HEAD

    assert head_revision() == HEAD
