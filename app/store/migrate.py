"""Bring a database file to the current schema. An existing file is backed up first (S8)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.store.backup import backup_database
from app.store.db import Database
from app.store.migrations import HEAD

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    from alembic.config import Config  # alembic costs ~0.3 s to import: only when migrating

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:  # no table yet: a new database
            return None


def migrate(db: Database, backup_dir: Path) -> Path | None:
    """Upgrade to head; returns the backup written before the upgrade, if any."""
    current = current_revision(db)
    if current == HEAD:  # the usual start: already current, no alembic at all
        return None
    head = head_revision()
    if current == head:
        return None
    backup = None
    if current is not None:
        backup = backup_database(db.path, backup_dir, f"before-{head}")
        log.info("backed up the database before migrating %s -> %s: %s", current, head, backup.name)
    from alembic import command

    cfg = _config()
    with db.engine.execution_options(outpost_immediate=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return backup
