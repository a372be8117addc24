"""The SQLite database: one file, WAL, synchronous=FULL, IMMEDIATE write transactions.

Every rule here has a reason in reliability.md §2: pragmas on every connection (S1), explicit
BEGIN because Python 3.11's sqlite3 legacy mode does not (S2), BEGIN IMMEDIATE for writers so
a read-then-write never fails at once with SQLITE_BUSY (S3), NullPool for a file database (S4).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.core.errors import OutpostError

BUSY_TIMEOUT_MS = 5000


class DatabaseError(OutpostError):
    """The database cannot be used; the message says why and what to do."""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.statements = 0  # every SQL statement sent; bench/idle.py reads it
        self.engine: Engine = create_engine(
            f"sqlite:///{path}",
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        event.listen(self.engine, "before_cursor_execute", self._count)
        self._writer = self.engine.execution_options(outpost_immediate=True)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed on success, rolled back on error."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read transaction; keep it short so the WAL can checkpoint (S10)."""
        with self._read_sessions() as session, session.begin():
            yield session

    def raw_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        return conn

    def pragmas(self) -> dict[str, object]:
        with self.engine.connect() as conn:
            return {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }

    def dispose(self) -> None:
        self.engine.dispose()


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (S2)
    cursor = dbapi_connection.cursor()
    try:
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseError(f"The database could not switch to WAL mode (it reports {mode!r}); "
                                "move the data folder to a local disk.")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("outpost_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
