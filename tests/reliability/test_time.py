"""Time: DST for recurring posts, wall-clock jumps, suspend and resume.

How time is simulated, honestly:
- The engine reads the instant through its injected `clock`; tests give it a `SimClock` they move.
- APScheduler reads `datetime.now`, which a test cannot move without patching the interpreter;
  so the DST tests do not wait on APScheduler's timer: they move the SimClock to each instant and
  run the publisher's cycle directly (`publish_due_now`, the same code the armed job runs).
- The jump and suspend tests do go through `PublisherScheduler._process_jobs`, with `time.time`
  and `time.monotonic` patched in the scheduler module only (its jump detector reads them), and
  check that the detector re-arms and that the database, not the timer, decides what is due.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.core.models import PostStatus, TargetStatus
from app.engine.runtime import Runtime
from app.store.schema import Target
from tests.engine.harness import FAST
from tests.reliability.support import install_recorder


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def _settle(runtime: Runtime, rounds: int = 40) -> None:
    """Let spawned publish tasks run to completion."""
    for _ in range(rounds):
        if not runtime.publisher._tasks:
            return
        await asyncio.sleep(0.02)


async def test_posts_handed_to_the_platform_scheduler_are_not_missed_after_a_week_off(tmp_path):
    clock = SimClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    runtime = Runtime.open(tmp_path / "data", clock=clock, settings=replace(FAST))
    install_recorder(runtime)
    account = runtime.planner.default_account_id()
    assert account is not None
    from app.core.models import PostSpec

    when = clock.now + timedelta(hours=2)
    post_id = runtime.planner.create_post(PostSpec(text="handed off", account_ids=(account,),
                                                   scheduled_at=when, timezone="UTC"))
    with runtime.db.write() as s:
        s.execute(update(Target).where(Target.post_id == post_id).values(
            natively_scheduled=True, external_id="scheduled:42"))
    clock.advance(timedelta(days=7))  # the computer was off; the platform published it at `when`
    await runtime.start()
    try:
        await runtime.publisher.publish_due_now()
        await _settle(runtime)
        post = runtime.planner.post(post_id)
    finally:
        await runtime.stop()
    assert post.targets[0].status is TargetStatus.PUBLISHED, post.targets[0].last_error
    assert post.status is PostStatus.PUBLISHED
