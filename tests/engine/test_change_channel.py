"""The change channel on a real loopback socket and real SQLite files, inside one process.

The subprocess tests (tests/cli/test_change_channel_cli.py) drive the same paths between processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.models import PostSpec
from app.core.timeutil import utcnow
from app.engine import changes
from app.engine.changes import ChangeListener, read_endpoint, tell_publisher
from app.engine.runtime import DatabaseMissing, Runtime
from app.store.backup import make_daily_backup
from app.store.paths import backup_dir, db_path, endpoint_path
from app.store.restore import missing_database
from tests.support.memkeyring import InMemoryKeyring


@pytest.fixture(autouse=True)
def _memory_keyring() -> None:
    import keyring

    keyring.set_keyring(InMemoryKeyring())


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _spec(account: int, minutes: float) -> PostSpec:
    return PostSpec(text=f"in {minutes} min", account_ids=(account,), timezone="UTC",
                    scheduled_at=utcnow() + timedelta(minutes=minutes))


async def test_a_post_added_by_another_runtime_re_arms_the_idle_publisher(tmp_path: Path) -> None:
    publisher = Runtime.open(tmp_path)
    await publisher.start()
    heard: list[str] = []
    publisher.subscribe(heard.append)
    try:
        assert publisher.publisher.state().next_due is None  # nothing scheduled: idle, no timer at all
        cli = Runtime.open(tmp_path, exclusive=False)  # what `outpost post add` opens
        account = cli.planner.default_account_id()
        assert account is not None
        cli.planner.create_post(_spec(account, 60))
        cli.close()
        await _until(lambda: publisher.publisher.state().next_due is not None)
        assert "posts" in heard  # the window refreshes its views and tray on this
        state = json.loads((tmp_path / "publisher-state.json").read_text())
        assert state["next_wakeup"] is not None  # `outpost status` sees the new wake-up too
    finally:
        await publisher.stop()


async def test_datagrams_without_the_token_are_ignored(tmp_path: Path) -> None:
    got: list[set[str]] = []
    listener = ChangeListener(tmp_path, got.append)
    await listener.start()
    try:
        assert listener.port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for forged in (b"outpost-changed wrongtoken posts", b"posts", b"", b"outpost-changed " + b"x" * 5000,
                           b"outpost-changed " + listener.token.encode() + b" drop-tables"):
                sock.sendto(forged, ("127.0.0.1", listener.port))
        assert tell_publisher(tmp_path, "accounts") is not None
        await _until(lambda: bool(got))
        assert got == [{"accounts"}]
        assert listener.heard == 1
    finally:
        listener.close()


async def test_a_burst_of_changes_is_acted_on_at_once_then_gathered(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "COALESCE_S", 0.5)  # wide enough that a loaded machine cannot split it
    got: list[set[str]] = []
    listener = ChangeListener(tmp_path, got.append)
    await listener.start()
    try:
        tell_publisher(tmp_path, "accounts")
        await _until(lambda: bool(got))  # the first change: no waiting for a window to close
        assert got == [{"accounts"}]
        for i in range(200):
            tell_publisher(tmp_path, "posts" if i % 2 else "accounts")
        await _until(lambda: listener.heard == 201)
        await _until(lambda: len(got) == 2)
        await asyncio.sleep(0.6)
        assert got == [{"accounts"}, {"posts", "accounts"}]  # the 200 that followed: one re-plan
    finally:
        listener.close()


async def test_a_stale_endpoint_from_a_killed_process_breaks_nothing(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    Runtime.open(tmp_path, exclusive=False).close()
    endpoint_path(tmp_path).write_text(json.dumps({"pid": 999999, "port": dead_port, "token": "stale"}))
    cli = Runtime.open(tmp_path, exclusive=False)
    account = cli.planner.default_account_id()
    assert account is not None
    cli.planner.create_post(_spec(account, 60))  # tells a dead port: no error, no wait
    cli.close()
    endpoint_path(tmp_path).write_text("{not json")
    cli = Runtime.open(tmp_path, exclusive=False)
    cli.planner.create_post(_spec(account, 61))
    cli.close()

    publisher = Runtime.open(tmp_path)
    await publisher.start()
    announced = read_endpoint(tmp_path)
    assert announced is not None and announced.pid == os.getpid() and announced.port == publisher.listening_port
    await publisher.stop()
    assert not endpoint_path(tmp_path).exists()  # withdrawn on stop


async def test_the_database_deleted_under_a_running_publisher_stops_publishing_once(tmp_path: Path) -> None:
    publisher = Runtime.open(tmp_path)
    account = publisher.planner.default_account_id()
    assert account is not None
    publisher.planner.create_post(_spec(account, 60))
    await publisher.start()
    notices: list[tuple[str, str, str]] = []
    publisher.on_notice(lambda *n: notices.append(n))
    try:
        statements = publisher.db.statements
        publisher._check_poke()  # the timer's wake-up hook: nothing lost yet, and no SQL spent on asking
        assert publisher.database_problem is None and publisher.db.statements == statements
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path(tmp_path)}{suffix}").unlink(missing_ok=True)
        for _ in range(3):  # three wake-ups: one error, one notice
            publisher._check_poke()
        assert publisher.publisher.state().paused
        assert publisher.publisher.state().next_wakeup is None
        assert len(notices) == 1 and notices[0][0] == "error"
        assert "was deleted while Outpost was running" in notices[0][2]
        state = json.loads((tmp_path / "publisher-state.json").read_text())
        assert "deleted" in state["database_problem"] and state["paused"]
        assert not db_path(tmp_path).exists()  # nothing re-created an empty file behind our back
    finally:
        await publisher.stop()


async def test_a_database_replaced_by_another_file_is_noticed(tmp_path: Path) -> None:
    publisher = Runtime.open(tmp_path)
    await publisher.start()
    try:
        other = tmp_path / "other.sqlite3"
        other.write_bytes(b"")
        os.replace(other, db_path(tmp_path))
        publisher._check_poke()
        assert publisher.database_problem is not None and "replaced" in publisher.database_problem
        assert publisher.publisher.state().paused
    finally:
        await publisher.stop()


def test_a_missing_database_with_a_backup_is_refused_not_recreated_empty(tmp_path: Path) -> None:
    runtime = Runtime.open(tmp_path, exclusive=False)
    runtime.close()
    assert missing_database(tmp_path) is None  # the database is there
    backup = make_daily_backup(db_path(tmp_path), backup_dir(tmp_path))
    db_path(tmp_path).unlink()
    with pytest.raises(DatabaseMissing) as refused:
        Runtime.open(tmp_path)
    assert backup.name in str(refused.value) and "outpost restore-backup --latest" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not db_path(tmp_path).exists()
    assert refused.value.missing.newest == backup
    fresh = tmp_path / "new"
    Runtime.open(fresh, exclusive=False).close()  # a new folder (no backups) is created as before
    assert db_path(fresh).exists()
