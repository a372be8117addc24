"""Bring a database file to the current schema. An existing file is backed up first (S8)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.store.backup import backup_database
from app.store.db import Database

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database, backup_dir: Path) -> Path | None:
    """Upgrade to head; returns the backup written before the upgrade, if any."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return None
    backup = None
    if current is not None:
        backup = backup_database(db.path, backup_dir, f"before-{head}")
        log.info("backed up the database before migrating %s -> %s: %s", current, head, backup.name)
    cfg = _config()
    with db.engine.execution_options(outpost_immediate=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return backup
