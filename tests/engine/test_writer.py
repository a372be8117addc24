"""The engine's writer thread, on a real SQLite file: one write at a time, off the loop, in order;
nothing queued is lost at shutdown; a group commit shares one transaction; the journal is on disk
before the platform is called and leaves no open attempt when a publish is cancelled."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.models import AttemptOutcome, Platform, PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.journal import JournalWriter
from app.engine.outcomes import NOT_SENT, Claim, content_for
from app.engine.runtime import Runtime
from app.engine.writer import DatabaseWriter, GroupCommit
from app.platforms.base import PublishJob, PublishResult, StepJournal
from app.store import repo
from app.store.db import Database
from app.store.paths import db_path
from app.store.schema import Target
from tests.engine.harness import FAST
from tests.reliability.support import RecordingPlatform


@pytest.fixture
def runtime(tmp_path: Path):  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


def _settings(db: Database) -> dict[str, Any]:
    """Every setting, read on another connection (what is committed)."""
    conn = sqlite3.connect(db.path)
    try:
        return dict(conn.execute("SELECT key, value FROM setting").fetchall())
    finally:
        conn.close()


def _set(key: str, value: int, pause: float = 0.0) -> Any:
    def work(session: Session) -> tuple[int, float, float]:
        started = time.monotonic()
        repo.set_setting(session, key, value)
        session.flush()
        time.sleep(pause)  # inside the transaction: a second writer thread would overlap here
        return threading.get_ident(), started, time.monotonic()
    return work


async def test_writes_run_one_at_a_time_on_one_thread_that_is_not_the_loop(runtime):
    writer = DatabaseWriter(runtime.db)
    try:
        done = await asyncio.gather(*(writer.write(_set(f"w{i}", i, pause=0.01)) for i in range(12)))
    finally:
        await writer.close()
    threads = {thread for thread, _start, _end in done}
    assert len(threads) == 1 and threading.get_ident() not in threads
    spans = sorted((start, end) for _thread, start, end in done)
    assert all(prev_end <= start for (_s, prev_end), (start, _e) in itertools.pairwise(spans))
    assert [k for k in _settings(runtime.db) if k.startswith("w")] == [f"w{i}" for i in range(12)]  # in order


async def test_writes_still_queued_at_close_are_committed_even_if_their_callers_were_cancelled(runtime):
    writer = DatabaseWriter(runtime.db)
    callers = [asyncio.create_task(writer.write(_set(f"q{i}", i, pause=0.02))) for i in range(10)]
    await asyncio.sleep(0)  # every caller has queued its write; the first is being committed
    for caller in callers[5:]:
        caller.cancel()
    await writer.close()
    committed = _settings(runtime.db)
    assert all(f"q{i}" in committed for i in range(10))
    assert all(c.done() for c in callers)
    assert sum(c.cancelled() for c in callers) == 5


async def test_a_failed_write_reaches_its_caller_and_leaves_nothing_behind(runtime):
    writer = DatabaseWriter(runtime.db)

    def half_then_fail(session: Session) -> None:
        repo.set_setting(session, "half", 1)
        session.flush()
        raise sqlite3.OperationalError("database or disk is full")

    try:
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            await writer.write(half_then_fail)
        await writer.write(_set("after", 2))
    finally:
        await writer.close()
    committed = _settings(runtime.db)
    assert "half" not in committed and "after" in committed


async def test_items_queued_during_a_commit_share_the_next_transaction(runtime):
    writer = DatabaseWriter(runtime.db)
    release = threading.Event()

    def write_all(session: Session, items: list[int]) -> list[str]:
        for item in items:
            repo.set_setting(session, f"g{item}", item)
        if items == [0]:
            release.wait(5)  # the first batch is being committed while the others arrive
        return [f"ok {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(writer, write_all)
    first = asyncio.create_task(group.write(0))
    await asyncio.sleep(0.05)
    others = [asyncio.create_task(group.write(i)) for i in range(1, 11)]
    await asyncio.sleep(0.05)
    release.set()
    results = await asyncio.gather(first, *others)
    await group.idle()
    await writer.close()
    assert results == [f"ok {i}" for i in range(11)]
    assert writer.transactions == 2
    assert all(f"g{i}" in _settings(runtime.db) for i in range(11))


def _claims(runtime: Runtime, count: int) -> list[Claim]:
    account = runtime.planner.default_account_id()
    assert account is not None
    ids = runtime.planner.create_posts([PostSpec(text=f"c{i}", account_ids=(account,), timezone="UTC",
                                                 scheduled_at=utcnow() + timedelta(days=1)) for i in range(count)])
    claims = []
    with runtime.db.read() as s:
        for post_id in ids:
            target = s.scalars(select(Target).where(Target.post_id == post_id)).one()
            assert target.due_at is not None and target.scheduled_at is not None
            claims.append(Claim(target.id, post_id, Platform.SANDBOX, target.due_at, target.scheduled_at,
                                repo.account_info(target.account), content_for(target.post, account)))
    return claims


def _attempts(runtime: Runtime, target_id: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(runtime.db.path)
    try:
        return conn.execute("SELECT outcome, error FROM attempt WHERE target_id = ?", (target_id,)).fetchall()
    finally:
        conn.close()


async def test_a_cancelled_publish_leaves_no_open_attempt_whether_or_not_its_batch_had_started(runtime):
    writer = DatabaseWriter(runtime.db)
    journal = JournalWriter(writer, utcnow)
    writing, sent, queued = _claims(runtime, 3)
    release = threading.Event()
    blocker = asyncio.create_task(writer.write(lambda _s: release.wait(5)))  # holds the writer thread
    await asyncio.sleep(0.02)
    first = asyncio.create_task(journal.begin(writing))  # its batch goes to the writer, behind the blocker
    second = asyncio.create_task(journal.begin(sent))
    await asyncio.sleep(0.02)
    third = asyncio.create_task(journal.begin(queued))  # the flusher is busy: this one waits for the next batch
    await asyncio.sleep(0.02)
    second.cancel()
    third.cancel()
    release.set()
    journaled = await first
    await asyncio.gather(blocker, second, third, return_exceptions=True)
    await journal.idle()
    await writer.close()
    assert second.cancelled() and third.cancelled()
    assert _attempts(runtime, writing.target_id) == [(AttemptOutcome.IN_FLIGHT.value, "")]
    assert journaled.job.attempt_id and journaled.attempts == 1
    assert _attempts(runtime, sent.target_id) == [(AttemptOutcome.FAILED.value, NOT_SENT)]  # written, then closed
    assert _attempts(runtime, queued.target_id) == []  # never written


# --- the publisher on the writer thread ---------------------------------------------------------


class JournalChecking(RecordingPlatform):
    """Reads, on its own connection, what the database holds for the attempt at the moment it is called."""

    seen: list[str | None]

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        conn = sqlite3.connect(self.context.data_dir / "outpost.sqlite3")
        try:
            row = conn.execute("SELECT outcome FROM attempt WHERE id = ?", (job.attempt_id,)).fetchone()
        finally:
            conn.close()
        self.seen.append(row[0] if row else None)
        return await super().publish(job, journal)


async def test_every_attempt_is_committed_before_its_platform_call(tmp_path):
    runtime = Runtime.open(tmp_path / "data", settings=FAST)
    platform = JournalChecking(runtime)
    platform.seen = []
    runtime._adapters[Platform.SANDBOX] = platform
    account = runtime.planner.default_account_id()
    assert account is not None
    runtime.planner.create_posts([PostSpec(text=f"p{i}", account_ids=(account,), timezone="UTC",
                                           scheduled_at=utcnow() + timedelta(seconds=0.3)) for i in range(40)])
    await runtime.start()
    try:
        deadline = time.monotonic() + 15
        while len(platform.seen) < 40 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
    assert platform.seen == [AttemptOutcome.IN_FLIGHT.value] * 40


class HalfSlow(RecordingPlatform):
    """Answers the odd posts 50 ms later than the even ones."""

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        if int(job.content.text[1:]) % 2:
            await asyncio.sleep(0.05)
        return await super().publish(job, journal)


async def test_quitting_while_outcomes_wait_for_the_writer_records_every_one_of_them(tmp_path):
    runtime = Runtime.open(tmp_path / "data", settings=replace(FAST, drain_timeout=0.05))
    platform = HalfSlow(runtime)
    runtime._adapters[Platform.SANDBOX] = platform
    account = runtime.planner.default_account_id()
    assert account is not None
    ids = runtime.planner.create_posts([PostSpec(text=f"q{i}", account_ids=(account,), timezone="UTC",
                                                 scheduled_at=utcnow() + timedelta(seconds=0.3)) for i in range(6)])
    await runtime.start()
    successes = runtime.publisher._successes
    write_all, release = successes.write_all, threading.Event()

    def held(session: Session, items: list[Any]) -> list[None]:
        release.wait(5)  # the even posts' outcomes are being committed; the odd ones queue behind them
        return write_all(session, items)

    successes.write_all = held
    deadline = time.monotonic() + 10
    while len(platform.record) < 6 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    assert len(platform.record) == 6
    stopping = asyncio.create_task(runtime.stop())  # drains for 50 ms, then cancels the publish tasks
    await asyncio.sleep(0.2)
    assert not stopping.done()
    release.set()
    await stopping
    conn = sqlite3.connect(db_path(runtime.data_dir))
    try:
        targets = [conn.execute("SELECT status FROM target WHERE post_id = ?", (i,)).fetchone() for i in ids]
        attempts = conn.execute("SELECT outcome FROM attempt").fetchall()
    finally:
        conn.close()
    assert targets == [(TargetStatus.PUBLISHED.value,)] * 6
    assert attempts == [(AttemptOutcome.SUCCEEDED.value,)] * 6


def test_no_thread_is_started_by_opening_the_data_folder(tmp_path):
    before = threading.active_count()
    runtime = Runtime.open(tmp_path / "data", exclusive=False)
    try:
        runtime.planner.create_post(PostSpec(text="x", account_ids=(runtime.planner.default_account_id() or 0,),
                                             timezone="UTC", scheduled_at=utcnow() + timedelta(days=1)))
        assert threading.active_count() == before
    finally:
        runtime.close()

