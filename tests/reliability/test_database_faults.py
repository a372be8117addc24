"""Database faults: a full disk and a read-only data folder (at start and mid-write), a corrupted
file and a leftover WAL at start, a second process and a long transaction contending for the lock,
and the daily backups end to end. The rule: publishing pauses rather than going ahead without a
journal, and nothing is lost or sent twice when the fault clears.

Two kinds of disk fault: injected (`database or disk is full` raised at the commit boundary, on
every machine) and real (a size-limited tmpfs mounted under the test's folder, where the test may
mount: root on Linux; skipped elsewhere).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.core.models import PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store.backup import KEEP_DAILY, backup_database, quick_check
from app.store.db import Database
from app.store.paths import backup_dir, db_path
from tests.engine.harness import FAST
from tests.reliability.processes import ROOT, Outpost, wait_for
from tests.reliability.support import install_recorder, logical_dump, record_figures

FIGURES: dict[str, object] = {}
SETTINGS = replace(FAST, database_retry=timedelta(seconds=0.5))


@contextmanager
def failing_commits(db: Database, message: str = "database or disk is full", after: int = 0) -> Iterator[list[int]]:
    """Every write transaction's COMMIT after the first `after` fails as SQLite fails on a full disk."""
    seen = [0]

    def fail(conn: Any) -> None:
        if not conn.get_execution_options().get("outpost_immediate"):
            return  # a read transaction: nothing to write
        seen[0] += 1
        if seen[0] > after:
            raise sqlite3.OperationalError(message)

    event.listen(db.engine, "commit", fail)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", fail)


def _post(runtime: Runtime, text: str, seconds: float = 0.3) -> int:
    account = runtime.planner.default_account_id()
    assert account is not None
    return runtime.planner.create_post(PostSpec(text=text, account_ids=(account,), timezone="UTC",
                                                scheduled_at=utcnow() + timedelta(seconds=seconds)))


def _status(runtime: Runtime, post_id: int) -> TargetStatus:
    return runtime.planner.post(post_id).targets[0].status


# ---- injected: database or disk is full at the commit boundary ------------------------------

@pytest.mark.parametrize("message", ["database or disk is full", "attempt to write a readonly database"])
async def test_a_failing_disk_at_claim_time_pauses_publishing_then_it_resumes(tmp_path, message):
    runtime = Runtime.open(tmp_path / "data", settings=SETTINGS)
    recorder = install_recorder(runtime)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    await runtime.start()
    try:
        post_id = _post(runtime, "waits for disk space")
        with failing_commits(runtime.db, message):
            await asyncio.sleep(1.5)
            assert recorder.record == []  # nothing went out without a journal
        assert [n[1] for n in notices] == ["Outpost cannot save to its database"]  # said once
        assert "Publishing is paused" in notices[0][2]
        ok = await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 15)
        FIGURES[f"injected '{message}' at claim time"] = {"sent_during_fault": 0, "published_after": ok,
                                                          "notice": notices[0][2][:160]}
        assert ok, runtime.planner.post(post_id).targets[0]
        assert len(recorder.record) == 1
    finally:
        await runtime.stop()


async def test_a_full_disk_when_journaling_sends_nothing_and_a_restart_publishes_once(tmp_path):
    runtime = _counting_commits(Runtime.open(tmp_path / "data", settings=SETTINGS))
    recorder = install_recorder(runtime)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    await runtime.start()
    post_id = _post(runtime, "journal first", seconds=3.0)  # (its wake-up, arm_lead ahead, comes after _quiet)
    await _quiet(runtime)  # the change's handoff check is committed: the next commits are the post's
    try:
        with failing_commits(runtime.db, after=1):  # the claim commits, the journal does not
            assert await _wait(lambda: bool(notices), 5)
            assert recorder.record == []
    finally:
        await runtime.stop()
    assert any("could not save" in n[1] for n in notices)
    runtime = Runtime.open(tmp_path / "data", settings=SETTINGS)
    recorder = install_recorder(runtime)
    await runtime.start()
    try:
        assert await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 10)
    finally:
        await runtime.stop()
    assert len(recorder.record) == 1


async def test_a_full_disk_when_journaling_publishes_once_in_place_when_the_disk_recovers(tmp_path):
    runtime = _counting_commits(Runtime.open(tmp_path / "data", settings=SETTINGS))
    recorder = install_recorder(runtime)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    await runtime.start()
    post_id = _post(runtime, "journal first, no restart", seconds=3.0)
    await _quiet(runtime)
    try:
        with failing_commits(runtime.db, after=1):  # the claim commits, the journal does not
            assert await _wait(lambda: bool(notices), 5)
            await asyncio.sleep(1.5)  # past its time: nothing goes out without a journal
            assert recorder.record == []
        assert await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 10)
    finally:
        await runtime.stop()
    assert len(recorder.record) == 1


async def test_a_full_disk_after_the_answer_keeps_the_journal_and_reconciles_without_a_repost(tmp_path):
    runtime = _counting_commits(Runtime.open(tmp_path / "data", settings=SETTINGS))
    recorder = install_recorder(runtime)
    await runtime.start()
    post_id = _post(runtime, "answered, not recorded", seconds=3.0)  # (its wake-up, arm_lead ahead, comes after _quiet)
    await _quiet(runtime)
    try:
        with failing_commits(runtime.db, after=2):  # claim and journal commit; the outcome does not
            assert await _wait(lambda: len(recorder.record) == 1, 5)
            await asyncio.sleep(0.3)
    finally:
        await runtime.stop()
    runtime = Runtime.open(tmp_path / "data", settings=SETTINGS)
    second = install_recorder(runtime)
    second._by_key = recorder._by_key  # the same platform, which remembers the first call
    await runtime.start()
    try:
        assert await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 10)
    finally:
        await runtime.stop()
    assert second.record == []  # found by reconciliation, not sent again


async def test_a_full_disk_after_the_answer_is_saved_in_place_once_the_disk_recovers(tmp_path):
    """No restart: the live process keeps the answer and writes it when the database accepts writes."""
    runtime = _counting_commits(Runtime.open(tmp_path / "data", settings=SETTINGS))
    recorder = install_recorder(runtime)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    await runtime.start()
    post_id = _post(runtime, "answered while the disk was full", seconds=3.0)  # (its wake-up, arm_lead ahead, comes after _quiet)
    await _quiet(runtime)
    try:
        with failing_commits(runtime.db, after=2):  # claim and journal commit; the outcome does not
            assert await _wait(lambda: len(recorder.record) == 1, 5)
            assert await _wait(lambda: bool(notices), 5)
            await asyncio.sleep(1.2)  # two more tries of the write fail meanwhile
            assert _status(runtime, post_id) is TargetStatus.PUBLISHING
        assert await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 5)
        assert [n[1] for n in notices] == ["Outpost could not save a result"]
        assert "saves it as soon as the database accepts writes" in notices[0][2]
        # the loop drops the kept outcome once the writer thread reports the commit (a moment later)
        assert await _wait(lambda: runtime.publisher._stuck == set(), 5)
    finally:
        await runtime.stop()
    assert len(recorder.record) == 1  # written, never sent again


def _counting_commits(runtime: Runtime) -> Runtime:
    """No account here schedules natively: the handoff checks (which a change may start more than
    once, and late) are switched off, so the commits a test counts are its post's."""
    runtime.publisher.hand_off = lambda: None  # type: ignore[method-assign]
    return runtime


async def _quiet(runtime: Runtime) -> None:
    """Wait until the publisher has had no task running for 0.2 s (the change's handoff checks,
    which the change channel may start twice, are committed), well before the post's wake-up."""
    deadline = time.monotonic() + 1.5
    idle_since: float | None = None
    while idle_since is None or time.monotonic() - idle_since < 0.2:
        assert time.monotonic() < deadline, "the publisher stayed busy"
        if runtime.publisher._tasks:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        await asyncio.sleep(0.005)


async def _wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


# ---- a real small disk and a read-only data folder ------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs under the test's folder (root on Linux), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a small filesystem")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


def _remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def test_a_full_disk_at_start_gives_a_clear_message(small_disk: Path) -> None:
    _fill(small_disk)
    outpost = Outpost(small_disk.parent, OUTPOST_DATA_DIR=str(small_disk / "data"))
    done = outpost("run", timeout=30)
    FIGURES["full disk at start"] = done.stderr.strip().splitlines()[-1:]
    assert done.returncode == 2, done.stderr
    assert "full" in done.stderr and "Traceback" not in done.stderr


def test_a_read_only_data_folder_at_start_gives_a_clear_message(small_disk: Path) -> None:
    outpost = Outpost(small_disk.parent, OUTPOST_DATA_DIR=str(small_disk / "data"))
    assert outpost("accounts", "list").returncode == 0  # creates the data folder
    _remount(small_disk, "ro")
    try:
        done = outpost("run", timeout=30)
    finally:
        _remount(small_disk, "rw")
    FIGURES["read-only data folder at start"] = done.stderr.strip().splitlines()[-1:]
    assert done.returncode == 2, done.stderr
    assert "not writable" in done.stderr.lower() and "Traceback" not in done.stderr


async def test_the_disk_filling_up_mid_run_pauses_publishing_then_it_resumes(small_disk: Path) -> None:
    fault = "full"  # (a read-only remount is refused while SQLite has the file open: injected above)
    runtime = Runtime.open(small_disk / "data", settings=SETTINGS)
    recorder = install_recorder(runtime)
    await runtime.start()
    try:
        post_id = _post(runtime, f"disk {fault}", seconds=0.5)
        filler = _fill(small_disk)
        await asyncio.sleep(1.5)
        sent_during_fault = len(recorder.record)
        filler.unlink()
        ok = await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 15)
        FIGURES[f"disk {fault} mid-run"] = {"sent_during_fault": sent_during_fault, "published_after": ok}
        assert sent_during_fault == 0
        assert ok
        assert len(recorder.record) == 1
    finally:
        await runtime.stop()
        record_figures("database_faults", FIGURES)


# ---- corruption, leftover WAL and restore-backup ----------------------------------------------

def _corrupt(path: Path, where: str) -> None:
    data = bytearray(path.read_bytes())
    if where == "header":
        data[0:16] = b"not a database!!"
    else:  # scribble over every page after the first: tables and indexes
        for i in range(4096 + 100, len(data), 97):
            data[i] = (data[i] + 91) % 256
    path.write_bytes(bytes(data))


async def _runtime_with_a_backup(data_dir: Path) -> tuple[int, int]:
    """A data folder with one post, a daily backup of it, then a second post the backup lacks."""
    runtime = Runtime.open(data_dir, settings=SETTINGS)
    before = _post(runtime, "in the backup", seconds=3600)
    await runtime.start()  # the daily backup is made at start
    await runtime.stop()
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        after = _post(runtime, "after the backup", seconds=3600)
    finally:
        runtime.close()
    return before, after


@pytest.mark.parametrize("where", ["header", "pages"])
async def test_a_corrupted_database_is_reported_and_restore_backup_puts_the_latest_back(tmp_path, where):
    outpost = Outpost(tmp_path)
    await _runtime_with_a_backup(outpost.data_dir)
    _corrupt(db_path(outpost.data_dir), where)
    refused = outpost("run", timeout=30)
    assert refused.returncode == 2
    assert "is damaged" in refused.stderr and "outpost restore-backup" in refused.stderr
    assert "Traceback" not in refused.stderr
    listed = outpost("restore-backup")
    assert listed.returncode == 0 and "intact" in listed.stdout
    restored = outpost("restore-backup", "--latest")
    assert restored.returncode == 0, restored.stderr
    damaged = list((outpost.data_dir / "damaged").glob("*/outpost.sqlite3"))
    assert len(damaged) == 1  # kept aside, never deleted
    assert quick_check(db_path(outpost.data_dir)) == "ok"
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        texts = [p.text for p in runtime.planner.posts()]
    finally:
        runtime.close()
    assert texts == ["in the backup"]  # the post made after the backup is, honestly, gone
    FIGURES[f"corrupted ({where})"] = {"message": refused.stderr.strip()[:200], "restore": restored.stdout.strip()}
    record_figures("database_faults", FIGURES)


def test_restore_backup_refuses_a_healthy_database_and_a_damaged_backup(tmp_path):
    outpost = Outpost(tmp_path)
    asyncio.run(_runtime_with_a_backup(outpost.data_dir))
    dump = logical_dump(db_path(outpost.data_dir))
    healthy = outpost("restore-backup", "--latest")
    assert healthy.returncode == 2 and "not damaged" in healthy.stderr
    [backup] = list(backup_dir(outpost.data_dir).glob("outpost-daily-*.sqlite3"))
    _corrupt(backup, "header")
    bad = outpost("restore-backup", str(backup), "--force")
    assert bad.returncode == 2 and "damaged too" in bad.stderr
    assert logical_dump(db_path(outpost.data_dir)) == dump  # nothing changed


_WRITER = """
import os, signal, sys
from datetime import timedelta
from app.core.models import PostSpec
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
rt = Runtime.open(__import__("pathlib").Path(sys.argv[1]), exclusive=False)
acc = rt.planner.default_account_id()
# An open connection means no writer's close is the last one: SQLite leaves its WAL unmerged.
keeper = rt.db.raw_connection(); keeper.execute("SELECT count(*) FROM post").fetchall()
for i in range(20):
    rt.planner.create_post(PostSpec(text=f"committed {i}", account_ids=(acc,), timezone="UTC",
                                    scheduled_at=utcnow() + timedelta(days=1)))
# Die without closing anything.
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_leftover_wal_after_a_kill_is_replayed_and_never_deleted_by_outpost(tmp_path):
    data = tmp_path / "data"
    Runtime.open(data, exclusive=False).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _WRITER, str(data)], env=env, cwd=ROOT, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    wal = Path(f"{db_path(data)}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    wal_bytes = wal.stat().st_size  # (SQLite itself merges and removes it when the last connection closes)
    runtime = Runtime.open(data, exclusive=False)
    try:
        texts = sorted(p.text for p in runtime.planner.posts())
    finally:
        runtime.close()
    assert texts == sorted(f"committed {i}" for i in range(20))
    FIGURES["leftover WAL"] = {"wal_bytes_at_start": wal_bytes, "rows_recovered": len(texts), "of": 20}
    record_figures("database_faults", FIGURES)


def test_no_app_code_deletes_a_wal_or_touches_the_live_file_outside_sqlite() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            lowered = line.lower()
            if "wal" in lowered and any(x in lowered for x in ("unlink(", "os.remove", "rmtree")):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
            if "shutil.copy" in lowered and "db" in lowered:
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


# ---- lock contention ------------------------------------------------------------------------

def test_a_second_outpost_run_is_refused_while_the_first_publishes(tmp_path):
    outpost = Outpost(tmp_path)
    first = outpost.run()
    try:
        assert wait_for(lambda: outpost.running(first), 30)
        second = outpost("run", timeout=30)
        assert second.returncode == 2 and "already running" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0


async def test_a_long_write_transaction_elsewhere_delays_a_publish_but_does_not_fail_it(tmp_path):
    runtime = Runtime.open(tmp_path / "data", settings=SETTINGS)
    recorder = install_recorder(runtime)
    await runtime.start()
    try:
        post_id = _post(runtime, "waits out the lock", seconds=0.3)
        holding = threading.Event()

        def hold() -> None:  # the window's long transaction, on another connection
            conn = sqlite3.connect(db_path(runtime.data_dir), timeout=5)
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            time.sleep(2.0)
            conn.rollback()
            conn.close()

        thread = threading.Thread(target=hold)
        thread.start()
        holding.wait(5)
        started = time.monotonic()
        assert await _wait(lambda: _status(runtime, post_id) is TargetStatus.PUBLISHED, 10)
        waited = time.monotonic() - started
        thread.join()
    finally:
        await runtime.stop()
    assert len(recorder.record) == 1
    FIGURES["2 s write lock held elsewhere"] = {"published_after_s": round(waited, 2)}
    record_figures("database_faults", FIGURES)


# ---- daily backups --------------------------------------------------------------------------

async def test_daily_backups_are_made_at_start_verified_and_only_the_last_seven_kept(tmp_path):
    data = tmp_path / "data"
    made = []
    for day in range(KEEP_DAILY + 3):
        runtime = Runtime.open(data, settings=SETTINGS)
        _post(runtime, f"day {day}", seconds=3600)
        await runtime.start()
        await runtime.stop()
        daily = sorted(backup_dir(data).glob("outpost-daily-*.sqlite3"))
        newest = daily[-1]
        made.append(newest.name)
        yesterday = time.time() - 86400 * (KEEP_DAILY + 3 - day)
        os.utime(newest, (yesterday, yesterday))  # as if taken a day earlier: the next start makes one
    daily = sorted(backup_dir(data).glob("outpost-daily-*.sqlite3"))
    assert len(set(made)) == KEEP_DAILY + 3
    assert [p.name for p in daily] == made[-KEEP_DAILY:]
    assert all(quick_check(p) == "ok" for p in daily)
    conn = sqlite3.connect(f"file:{daily[-1]}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT count(*) FROM post").fetchone()[0] == KEEP_DAILY + 3
    finally:
        conn.close()
    FIGURES["daily backups"] = {"starts": KEEP_DAILY + 3, "kept": len(daily), "all_quick_check_ok": True}
    record_figures("database_faults", FIGURES)


def test_a_backup_taken_while_writes_run_is_intact(tmp_path):
    runtime = Runtime.open(tmp_path / "data", exclusive=False)
    stop = threading.Event()

    def write() -> None:
        account = runtime.planner.default_account_id()
        i = 0
        while not stop.is_set():
            runtime.planner.create_post(PostSpec(text=f"w{i}", account_ids=(account,) if account else (),
                                                 timezone="UTC", scheduled_at=utcnow() + timedelta(days=2)))
            i += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        backups = [backup_database(db_path(runtime.data_dir), tmp_path / "b", f"t{i}") for i in range(5)]
    finally:
        stop.set()
        thread.join()
        runtime.close()
    assert all(quick_check(b) == "ok" for b in backups)


async def test_restore_backup_keeps_a_leftover_wal_with_the_damaged_file_and_never_replays_it(tmp_path):
    outpost = Outpost(tmp_path)
    await _runtime_with_a_backup(outpost.data_dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _WRITER, str(outpost.data_dir)], env=env, cwd=ROOT,
                          capture_output=True)
    assert done.returncode == -signal.SIGKILL
    wal = Path(f"{db_path(outpost.data_dir)}-wal")
    wal_bytes = wal.read_bytes()  # (the test reads it to compare; Outpost never does)
    assert wal_bytes
    _corrupt(db_path(outpost.data_dir), "header")
    restored = outpost("restore-backup", "--latest")
    assert restored.returncode == 0, restored.stderr
    [kept] = list((outpost.data_dir / "damaged").iterdir())
    assert (kept / "outpost.sqlite3-wal").read_bytes() == wal_bytes  # moved aside intact, not deleted
    assert not wal.exists() or wal.stat().st_size == 0
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        texts = sorted(p.text for p in runtime.planner.posts())
    finally:
        runtime.close()
    assert texts == ["in the backup"]  # the backup's content, with nothing from the stale WAL
