"""Load: a year of scheduled posts, and the catch-up after a week with the computer off.

Correctness only (each overdue post published once, the rate limit held, work claimed in
bounded batches); the time the window stays blocked is measured by bench/catchup.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from app.core.models import Platform, PostStatus, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store import repo
from tests.engine.harness import FAST
from tests.reliability.support import busiest_window, install_recorder, year_of_posts

RATE = 100  # calls per second for the catch-up's platform


async def _catch_up(tmp_path, monkeypatch, *, total: int, due_now: int, window: timedelta):  # type: ignore[no-untyped-def]
    runtime = Runtime.open(tmp_path / "data", settings=replace(FAST, catchup_window=window))
    recorder = install_recorder(runtime)
    runtime.publisher.gates.rates[Platform.SANDBOX] = (RATE, 1.0)
    now = utcnow()
    ids = year_of_posts(runtime, total=total, due_now=due_now, now=now)
    batches: list[int] = []
    real = repo.due_targets

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = real(*args, **kwargs)
        batches.append(len(rows))
        return rows

    monkeypatch.setattr(repo, "due_targets", spy)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    started = time.monotonic()
    await runtime.start()
    try:
        deadline = time.monotonic() + 60 + due_now / RATE
        while True:
            counts = runtime.planner.counts()
            if counts[PostStatus.PUBLISHED] + counts[PostStatus.MISSED] >= due_now:
                break
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.3)  # anything extra would show up now
    finally:
        await runtime.stop()
    return runtime, recorder, ids, batches, notices, elapsed


async def _run_catch_up(tmp_path, monkeypatch, total: int, due_now: int) -> None:  # type: ignore[no-untyped-def]
    runtime, recorder, ids, batches, notices, elapsed = await _catch_up(
        tmp_path, monkeypatch, total=total, due_now=due_now, window=timedelta(days=8))
    overdue, ahead = ids[:due_now], ids[due_now:]
    counts = recorder.counts()
    assert len(recorder.record) == due_now, "a post was published twice or lost"
    assert max(counts.values()) == 1
    runtime = Runtime.open(runtime.data_dir, exclusive=False)
    try:
        by_post = {p.id: p for p in runtime.planner.posts(limit=total + 10)}
    finally:
        runtime.close()
    assert all(by_post[i].status is PostStatus.PUBLISHED for i in overdue)
    assert all(by_post[i].status is PostStatus.SCHEDULED for i in ahead)
    assert {by_post[i].targets[0].id for i in overdue} == set(counts)
    # The platform's rate limit held: a leaky bucket of RATE per second admits at most 2 x RATE
    # in any one second, and the whole catch-up cannot be faster than the rate allows.
    assert busiest_window([p.monotonic for p in recorder.record], 1.0) <= 2 * RATE
    assert elapsed >= (due_now - RATE) / RATE
    # Claimed in bounded batches, never all at once.
    assert max(batches) <= FAST.claim_batch
    assert notices == []


async def test_a_week_offline_catches_up_each_post_once_within_the_rate_limit(tmp_path, monkeypatch):
    await _run_catch_up(tmp_path, monkeypatch, total=2000, due_now=300)


@pytest.mark.slow
async def test_ten_thousand_posts_a_thousand_due_after_a_week_offline(tmp_path, monkeypatch):
    await _run_catch_up(tmp_path, monkeypatch, total=10_000, due_now=1000)


async def test_with_the_default_window_older_posts_are_missed_with_one_notice(tmp_path, monkeypatch):
    runtime, recorder, ids, _batches, notices, _elapsed = await _catch_up(
        tmp_path, monkeypatch, total=400, due_now=140, window=timedelta(hours=24))
    runtime = Runtime.open(runtime.data_dir, exclusive=False)
    try:
        overdue = [runtime.planner.post(i) for i in ids[:140]]
    finally:
        runtime.close()
    now = utcnow()
    for post in overdue:
        target = post.targets[0]
        assert post.scheduled_at is not None
        if now - post.scheduled_at > timedelta(hours=24, minutes=1):
            assert target.status is TargetStatus.MISSED
            assert "was not running at the scheduled time" in target.last_error
        elif now - post.scheduled_at < timedelta(hours=23, minutes=59):
            assert target.status is TargetStatus.PUBLISHED
    assert max(recorder.counts().values()) == 1
    assert sum(t.status is TargetStatus.PUBLISHED for p in overdue for t in p.targets) == len(recorder.record)
    missed = sum(t.status is TargetStatus.MISSED for p in overdue for t in p.targets)
    assert missed > 100
    # One notice per cycle, not one per post.
    assert 1 <= len(notices) <= missed // 10
    assert any("posts were missed" in n[1] for n in notices)
