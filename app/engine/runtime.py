"""The running Outpost: one data dir, its lock, database, adapters, planner and publisher.

The window, the tray, `outpost run` and the self-test all use this one object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from app.core.errors import OutpostError
from app.core.models import Platform
from app.core.timeutil import iso_utc, local_zone_name, utcnow
from app.engine.changes import ChangeListener, Endpoint, tell_publisher
from app.engine.logsetup import setup_logging
from app.engine.planner import Planner
from app.engine.publisher import Publisher, PublisherSettings
from app.platforms.base import Adapter, AdapterContext, Secrets, computer_language
from app.platforms.registry import api_base_overrides, create_adapter
from app.store import repo
from app.store.backup import daily_backup_due, latest_backup, make_daily_backup, quick_check
from app.store.db import Database, DatabaseError
from app.store.lock import DataDirLock, DataDirLocked
from app.store.migrate import migrate
from app.store.paths import backup_dir, db_path, location_warning, log_dir, poke_path, state_path
from app.store.private import create_private_file, make_private_data_dir, make_private_dir, write_private_text
from app.store.restore import MissingDatabase, missing_database

log = logging.getLogger("outpost.runtime")

__all__ = ["DataDirLocked", "DatabaseMissing", "Runtime"]


class DatabaseMissing(DatabaseError):
    """The database file is gone but a backup exists: never start empty without being asked."""

    def __init__(self, missing: MissingDatabase) -> None:
        super().__init__(missing.message())
        self.missing = missing

Listener = Callable[[str], None]
NoticeListener = Callable[[str, str, str], None]


class Runtime:
    def __init__(self, data_dir: Path, db: Database, lock: DataDirLock, secrets: Secrets,
                 clock: Callable[[], datetime], settings: PublisherSettings) -> None:
        self.data_dir = data_dir
        self.db = db
        self.lock = lock
        self.secrets = secrets
        self.clock = clock
        self._adapters: dict[Platform, Adapter] = {}
        self._listeners: list[Listener] = []
        self._notice_listeners: list[NoticeListener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.context = AdapterContext(data_dir=data_dir, secrets=secrets, clock=clock,
                                      api_base=api_base_overrides(), post_language=self.post_language)
        self._post_language: tuple[float, str] | None = None
        self.planner = Planner(db, self.adapter, clock, on_change=self._changed)
        self.publisher = Publisher(db, self.adapter, clock, settings, on_change=self._publisher_changed,
                                   notify=self._notice, on_wakeup=self._check_poke)
        self._poke_seen = self._poke_stamp()
        self._listener: ChangeListener | None = None
        self.publisher_told: Endpoint | None = None  # the publishing process this one last told of a change
        self.database_problem: str | None = None  # set when the database file vanished or was replaced
        self.started = False

    # --- opening and closing -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        secrets: Secrets | None = None,
        clock: Callable[[], datetime] = utcnow,
        settings: PublisherSettings | None = None,
        log_to_stderr: bool = False,
        exclusive: bool = True,
    ) -> Runtime:
        """Open (creating or migrating) the data dir. Raises OutpostError with a clear message.

        `exclusive` takes the data-dir lock that a publishing process must hold; CLI commands that
        only edit posts open without it and poke the running publisher instead.
        """
        try:
            make_private_data_dir(data_dir)
        except OSError as exc:
            raise OutpostError(f"Cannot create the data folder {data_dir}: {exc.strerror}. "
                               "Choose another folder with --data-dir.") from exc
        lock = DataDirLock(data_dir)
        if exclusive:
            lock.acquire()
        try:
            _private_log_file(log_dir(data_dir))
            setup_logging(log_dir(data_dir), stderr=log_to_stderr)
            warning = location_warning(data_dir)
            if warning:
                log.warning(warning)
            db = _open_database(data_dir)
            if secrets is None:
                from app.auth.secrets import KeyringSecrets

                secrets = KeyringSecrets()
            publisher_settings = settings or PublisherSettings.from_env()
            with db.read() as s:
                hours = repo.get_setting(s, "catchup_window_hours")
            if isinstance(hours, int | float) and settings is None:
                publisher_settings.catchup_window = timedelta(hours=hours)
            runtime = cls(data_dir, db, lock, secrets, clock, publisher_settings)
            runtime._first_run_setup()
            return runtime
        except BaseException:
            lock.release()
            raise

    def _first_run_setup(self) -> None:
        with self.db.write() as s:
            if repo.get_setting(s, "initialized"):
                return
            repo.set_setting(s, "initialized", True)
        self.planner.add_account(Platform.SANDBOX, "sandbox", display_name="Sandbox", timezone=local_zone_name(),
                                 make_default=True)
        log.info("new data folder at %s with a sandbox account", self.data_dir)

    async def start(self) -> None:
        """Recover, catch up and arm the publisher. Call with the event loop running."""
        if not self.lock.held:
            raise OutpostError("Only the process holding the data-folder lock may publish.")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        listener = ChangeListener(self.data_dir, self._heard)
        try:
            await listener.start()  # before the first arming: a change made meanwhile is heard
            self._listener = listener
        except OSError as exc:
            listener.close()
            log.warning("cannot listen for changes from other Outpost commands (%s); they are noticed "
                        "at the next wake-up instead", exc)
        await self.publisher.start()
        self.publisher.hand_off()
        self.started = True
        self._write_state()
        if daily_backup_due(backup_dir(self.data_dir)):
            try:
                await asyncio.to_thread(make_daily_backup, self.db.path, backup_dir(self.data_dir))
            except (OSError, ValueError, sqlite3.Error) as exc:
                log.warning("daily backup failed: %s", exc)

    async def stop(self) -> None:
        """Drain in-flight publishes, close adapters and the database, release the lock."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self.started:
            await self.publisher.stop()
            self.started = False
        for adapter in list(self._adapters.values()):
            try:
                await adapter.aclose()
            except Exception:
                log.exception("closing the %s adapter failed", adapter.platform.value)
        self._adapters.clear()
        self.close()

    def close(self) -> None:
        self.db.dispose()
        self.lock.release()

    def post_language(self) -> str:
        """The "post_language" setting (Settings > Language of posts), else the computer's language.
        Read at most every 10 s: adapters ask once per record they write."""
        now = time.monotonic()
        if self._post_language is None or now - self._post_language[0] > 10:
            with self.db.read() as s:
                value = repo.get_setting(s, "post_language")
            self._post_language = (now, value if isinstance(value, str) and value.strip() else computer_language())
        return self._post_language[1]

    # --- adapters ------------------------------------------------------------------------------

    def adapter(self, platform: Platform) -> Adapter:
        if platform not in self._adapters:
            self._adapters[platform] = create_adapter(platform, self.context)
        return self._adapters[platform]

    # --- change notification ----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(kind)` on the loop after changes ("posts", "accounts", "publisher")."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def on_notice(self, listener: NoticeListener) -> None:
        """Call `listener(level, title, message)` for things a person should be told about."""
        self._notice_listeners.append(listener)

    def _changed(self, kind: str) -> None:
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._changed, kind)
            return
        if kind == "posts" or kind == "accounts":
            if self.started:
                self._replan()
            else:
                _poke(self.data_dir)  # the fallback, read at the publisher's next wake-up
                self.publisher_told = tell_publisher(self.data_dir, kind) or self.publisher_told
        self._emit(kind)

    def _heard(self, kinds: set[str]) -> None:
        """Another process changed the store: re-plan at once and let the window refresh."""
        if not self._database_still_there():
            return
        self._poke_seen = self._poke_stamp()  # this change is handled: the wake-up need not re-plan it
        if self.started:
            self._replan()
        for kind in sorted(kinds):
            self._emit(kind)

    @property
    def listening_port(self) -> int | None:
        """The loopback port the change channel listens on (None when it does not)."""
        return self._listener.port if self._listener is not None else None

    def _poke_stamp(self) -> int:
        try:
            return poke_path(self.data_dir).stat().st_mtime_ns
        except OSError:
            return 0

    def _check_poke(self) -> None:
        """Every timer wake-up: is the database still the file we opened, and did another process
        (the CLI, its datagram lost) change posts? Two stat() calls, no SQL."""
        if not self._database_still_there():
            return
        stamp = self._poke_stamp()
        if stamp != self._poke_seen:
            self._poke_seen = stamp
            self._replan()

    def _replan(self) -> None:
        """Posts changed: hand off what platforms schedule themselves, re-arm the one wake-up (one
        query), and keep `outpost status`'s view of the next wake-up true."""
        self.publisher.hand_off()
        self.publisher.rearm()
        self._write_state()

    def _database_still_there(self) -> bool:
        """False once the database file was deleted or replaced under us: publishing then stops,
        with one error logged and one notice, instead of failing on an empty file every cycle."""
        if self.database_problem is not None:
            return False
        why = self.db.lost()
        if why is None:
            return True
        what = "deleted" if why == "missing" else "replaced by another file"
        self.database_problem = (
            f"The database {self.db.path} was {what} while Outpost was running. Publishing has stopped, "
            "so nothing goes out without a record. Quit Outpost and start it again: it offers the newest "
            "backup (or `outpost restore-backup --latest`).")
        log.error(self.database_problem)
        self.publisher.pause()  # writes the state file through _publisher_changed
        self._tell_listeners("error", "Outpost's database is gone", self.database_problem)
        self._write_state()
        return False

    def _publisher_changed(self, kind: str) -> None:
        if kind == "publisher":
            self._database_still_there()  # a failing claim may be the first sign of a vanished file
            self._write_state()
        self._emit(kind)

    def _write_state(self) -> None:
        state = self.publisher.state()
        data = {
            "running": state.running,
            "paused": state.paused,
            "next_wakeup": iso_utc(state.next_wakeup),
            "paused_platforms": {p.value: reason for p, reason in state.paused_platforms.items()},
            "pid": os.getpid(),
        }
        if self.database_problem:
            data["database_problem"] = self.database_problem
        path = state_path(self.data_dir)
        try:
            write_private_text(path, json.dumps(data))
        except OSError as exc:
            log.warning("could not write %s: %s", path.name, exc)

    def _emit(self, kind: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind)
            except Exception:
                log.exception("a listener failed")

    def _notice(self, level: str, title: str, message: str) -> None:
        if level == "error" and not self._database_still_there():
            return  # the vanished database explains this error; that notice was given once
        self._tell_listeners(level, title, message)

    def _tell_listeners(self, level: str, title: str, message: str) -> None:
        for listener in list(self._notice_listeners):
            try:
                listener(level, title, message)
            except Exception:
                log.exception("a notice listener failed")


def _open_database(data_dir: Path) -> Database:
    path = db_path(data_dir)
    missing = missing_database(data_dir)
    if missing is not None:
        raise DatabaseMissing(missing)
    if path.exists():
        verdict = quick_check(path)
        if verdict != "ok":
            backup = latest_backup(backup_dir(data_dir))
            hint = (f" The latest backup is {backup}; `outpost restore-backup` puts it back." if backup
                    else " There is no backup yet.")
            raise DatabaseError(f"The database {path} is damaged ({verdict}).{hint}")
    db = Database(path)
    try:
        migrate(db, backup_dir(data_dir))
    except Exception as exc:
        db.dispose()
        if isinstance(exc, OutpostError):
            raise
        reason = getattr(exc, "orig", None) or exc  # SQLite's words, without SQLAlchemy's wrapping
        raise DatabaseError(f"Cannot open the database {path}: {reason}. If the disk is full or read-only, "
                            "free some space or make it writable, then start Outpost again.") from exc
    return db


def _private_log_file(folder: Path) -> None:
    """The log folder 0700 and the log file 0600 before the handler appends to it."""
    try:
        make_private_dir(folder)
        create_private_file(folder / "outpost.log")
    except OSError:
        pass  # setup_logging says what is wrong with the folder


def _poke(data_dir: Path) -> None:
    try:
        path = poke_path(data_dir)
        if not path.exists():
            create_private_file(path)
        os.utime(path)
    except OSError as exc:
        log.warning("could not tell a running publisher about the change: %s", exc)
