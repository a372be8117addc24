"""The running Outpost: one data dir, its lock, database, adapters, planner and publisher.

The window, the tray, `outpost run` and the self-test all use this one object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from app.core.errors import OutpostError
from app.core.models import Platform
from app.core.timeutil import iso_utc, local_zone_name, utcnow
from app.engine.logsetup import setup_logging
from app.engine.planner import Planner
from app.engine.publisher import Publisher, PublisherSettings
from app.platforms.base import Adapter, AdapterContext, Secrets
from app.platforms.registry import api_base_overrides, create_adapter
from app.store import repo
from app.store.backup import daily_backup_due, latest_backup, make_daily_backup, quick_check
from app.store.db import Database, DatabaseError
from app.store.lock import DataDirLock, DataDirLocked
from app.store.migrate import migrate
from app.store.paths import backup_dir, db_path, location_warning, log_dir, poke_path, state_path

log = logging.getLogger("outpost.runtime")

__all__ = ["DataDirLocked", "Runtime"]

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
                                      api_base=api_base_overrides())
        self.planner = Planner(db, self.adapter, clock, on_change=self._changed)
        self.publisher = Publisher(db, self.adapter, clock, settings, on_change=self._publisher_changed,
                                   notify=self._notice, on_wakeup=self._check_poke)
        self._poke_seen = self._poke_stamp()
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
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutpostError(f"Cannot create the data folder {data_dir}: {exc.strerror}. "
                               "Choose another folder with --data-dir.") from exc
        lock = DataDirLock(data_dir)
        if exclusive:
            lock.acquire()
        try:
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
        await self.publisher.start()
        self.publisher.hand_off()
        self.started = True
        self._write_state()
        if daily_backup_due(backup_dir(self.data_dir)):
            try:
                await asyncio.to_thread(make_daily_backup, self.db.path, backup_dir(self.data_dir))
            except (OSError, ValueError) as exc:
                log.warning("daily backup failed: %s", exc)

    async def stop(self) -> None:
        """Drain in-flight publishes, close adapters and the database, release the lock."""
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
                self.publisher.hand_off()
                self.publisher.rearm()
            else:
                _poke(self.data_dir)
        self._emit(kind)

    def _poke_stamp(self) -> int:
        try:
            return poke_path(self.data_dir).stat().st_mtime_ns
        except OSError:
            return 0

    def _check_poke(self) -> None:
        """Another process (the CLI) changed posts: re-read the schedule. A stat(), no SQL."""
        stamp = self._poke_stamp()
        if stamp != self._poke_seen:
            self._poke_seen = stamp
            self.publisher.hand_off()
            self.publisher.rearm()

    def _publisher_changed(self, kind: str) -> None:
        if kind == "publisher":
            self._write_state()
        self._emit(kind)

    def _write_state(self) -> None:
        state = self.publisher.state()
        data = {
            "running": state.running,
            "paused": state.paused,
            "next_wakeup": iso_utc(state.next_wakeup),
            "paused_platforms": {p.value: reason for p, reason in state.paused_platforms.items()},
        }
        path = state_path(self.data_dir)
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write %s: %s", path.name, exc)

    def _emit(self, kind: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind)
            except Exception:
                log.exception("a listener failed")

    def _notice(self, level: str, title: str, message: str) -> None:
        for listener in list(self._notice_listeners):
            try:
                listener(level, title, message)
            except Exception:
                log.exception("a notice listener failed")


def _open_database(data_dir: Path) -> Database:
    path = db_path(data_dir)
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


def _poke(data_dir: Path) -> None:
    try:
        poke_path(data_dir).touch()
    except OSError as exc:
        log.warning("could not tell a running publisher about the change: %s", exc)
