"""Attempts are journaled at the wake-up, ahead of their instant, so the call starts on time; a
row whose instant had not come when Outpost stopped is known not sent."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from app.core.models import AttemptOutcome, PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.outcomes import NOT_SENT
from app.engine.runtime import Runtime
from app.platforms.base import Reconciliation
from app.platforms.sandbox import SandboxAdapter
from app.store.schema import Attempt, Target
from tests.engine.harness import FAST, EngineHarness


def _attempts(h: EngineHarness) -> list[tuple[int, datetime, str]]:
    with h.runtime.db.read() as s:
        return [(a.target.post_id, a.started_at, a.outcome) for a in s.query(Attempt).order_by(Attempt.id)]


async def test_a_wake_up_journals_its_posts_before_their_instants_and_calls_each_at_its_instant(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        first = h.add_post(h.sandbox(), "first", in_seconds=1.5)
        second = h.add_post(h.sandbox(), "second, claimed by the same wake-up", in_seconds=3.5)
        second_at = h.post(second).scheduled_at
        assert second_at is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while len(_attempts(h)) < 2:
            assert loop.time() < deadline, _attempts(h)
            await asyncio.sleep(0.01)
        seen_at = utcnow()
        assert seen_at < second_at  # journaled while its instant was still to come
        assert all(i["post_id"] != second for i in h.sandbox_items())
        rows = {post_id: (started, outcome) for post_id, started, outcome in _attempts(h)}
        assert rows[second] == (second_at, AttemptOutcome.IN_FLIGHT.value)  # the row carries its instant
        for post_id in (first, second):
            assert (await h.wait_settled(post_id)).status is TargetStatus.PUBLISHED
        for item in h.sandbox_items():  # never called before its instant
            assert datetime.fromisoformat(item["published_at"]) >= datetime.fromisoformat(item["scheduled_at"])


def _crashed_before_the_instant(data_dir: Any, seconds: float) -> int:
    """The database as a kill leaves it between the early journal row and the instant."""
    runtime = Runtime.open(data_dir, settings=FAST)
    try:
        account = runtime.planner.find_account("sandbox").id
        due = utcnow() + timedelta(seconds=seconds)
        post_id = runtime.planner.create_post(PostSpec(text="journaled ahead", account_ids=(account,),
                                                       scheduled_at=due, timezone="UTC"))
        with runtime.db.write() as s:
            target = s.query(Target).filter_by(post_id=post_id).one()
            target.status = TargetStatus.PUBLISHING.value
            target.attempts = 1
            s.add(Attempt(target_id=target.id, idempotency_key="ahead0123456789", outcome="in_flight",
                          started_at=due))
        return post_id
    finally:
        runtime.close()


async def test_an_attempt_whose_instant_had_not_come_is_known_not_sent_and_publishes_once_on_time(tmp_path, monkeypatch):
    checks: list[int] = []

    async def reconcile(self: SandboxAdapter, job: Any) -> Reconciliation:
        checks.append(job.target_id)
        raise AssertionError("a post whose instant had not come needs no check")

    monkeypatch.setattr(SandboxAdapter, "reconcile", reconcile)
    post_id = _crashed_before_the_instant(tmp_path / "data", seconds=2.5)
    async with EngineHarness.start(tmp_path) as h:
        target = await h.wait_settled(post_id)
        attempts = h.planner.attempts(post_id)
        items = h.sandbox_items()
    assert target.status is TargetStatus.PUBLISHED and len(items) == 1
    assert target.attempts == 1  # the unsent row does not count as an attempt
    assert (attempts[0].outcome, attempts[0].error) == (AttemptOutcome.FAILED, NOT_SENT)
    assert checks == []
    assert datetime.fromisoformat(items[0]["published_at"]) >= datetime.fromisoformat(items[0]["scheduled_at"])


async def test_an_attempt_whose_instant_had_passed_is_checked_before_anything_is_sent(tmp_path):
    post_id = _crashed_before_the_instant(tmp_path / "data", seconds=0.05)
    await asyncio.sleep(0.2)  # restarted after the instant: it may have gone out
    async with EngineHarness.start(tmp_path) as h:
        target = await h.wait_settled(post_id)
        outcomes = [a.outcome for a in h.planner.attempts(post_id)]
        assert len(h.sandbox_items()) == 1
    assert target.status is TargetStatus.PUBLISHED
    assert outcomes == [AttemptOutcome.FAILED, AttemptOutcome.SUCCEEDED]  # checked: never arrived, then sent
