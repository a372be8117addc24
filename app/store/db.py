"""The SQLite database: one file, WAL, synchronous=FULL, IMMEDIATE write transactions.

Every rule here has a reason in reliability.md §2: pragmas on every connection (S1), explicit
BEGIN because Python 3.11's sqlite3 legacy mode does not (S2), BEGIN IMMEDIATE for writers so
a read-then-write never fails at once with SQLITE_BUSY (S3), NullPool for a file database (S4).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.core.errors import OutpostError
from app.store.private import create_private_file, tighten

BUSY_TIMEOUT_MS = 5000
SIDE_FILES = ("-wal", "-shm", "-journal")


class DatabaseError(OutpostError):
    """The database cannot be used; the message says why and what to do."""


class Database:
    """One SQLite file. A missing file is created here, owner-only (SQLite gives its -wal and -shm
    the same mode); every later connection opens it read-write without creating: a database deleted
    under a running Outpost fails loudly instead of coming back empty."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.statements = 0  # every SQL statement sent; bench/idle.py reads it
        if not path.exists():
            create_private_file(path)  # an empty file is an empty SQLite database
        for suffix in ("", *SIDE_FILES):
            tighten(Path(f"{path}{suffix}"))
        self.identity = file_identity(path)
        self._uri = path.absolute().as_uri() + "?mode=rw"
        self.engine: Engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, creator=self._connect)
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        event.listen(self.engine, "before_cursor_execute", self._count)
        self._writer = self.engine.execution_options(outpost_immediate=True)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)

    def lost(self) -> str | None:
        """Why the file opened at start is no longer at its path ("missing", "replaced"), else None.
        One stat(), no SQL: the publisher's wake-ups call it."""
        now = file_identity(self.path)
        if now == self.identity:
            return None
        return "missing" if now is None else "replaced"

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
        return sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)

    def pragmas(self) -> dict[str, object]:
        with self.engine.connect() as conn:
            return {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }

    def dispose(self) -> None:
        self.engine.dispose()


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


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
