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
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from app.core.models import PostSpec, PostStatus, TargetStatus
from app.core.recurrence import Recurrence, RepeatKind
from app.core.timeutil import is_ambiguous, wall_time_exists
from app.engine.runtime import Runtime
from app.store.schema import Target
from tests.engine.harness import FAST
from tests.reliability.support import install_recorder, record_figures


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


# ---- a simulated wall clock and monotonic clock, for the engine and APScheduler alike ---------

class SimTime:
    """Wall time (what the engine's clock and APScheduler's `datetime.now` return) and a monotonic
    clock (what the jump detector compares it with). Suspend = wall moves, monotonic does not."""

    def __init__(self, wall: datetime) -> None:
        self.wall = wall
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.wall

    def run(self, delta: timedelta) -> None:
        """Time passes normally: both clocks move."""
        self.wall += delta
        self.mono += delta.total_seconds()

    def jump(self, delta: timedelta) -> None:
        """The wall clock is set (or the machine slept): only the wall clock moves."""
        self.wall += delta

    def time(self) -> float:
        return self.wall.timestamp()

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimTime]:
    import apscheduler.schedulers.base as aps_base

    import app.engine.scheduler as engine_scheduler

    clock = SimTime(datetime(2027, 1, 4, 12, 0, tzinfo=UTC))

    class SimDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return clock.wall.astimezone(tz) if tz else clock.wall.replace(tzinfo=None)

    monkeypatch.setattr(aps_base, "datetime", SimDatetime)
    monkeypatch.setattr(engine_scheduler, "time", clock)
    yield clock


async def _tick(runtime: Runtime) -> None:
    """One scheduler wake-up at the simulated instant (what the loop's timer would do), then let
    the spawned cycle and publishes finish."""
    scheduler = runtime.publisher.scheduler
    assert scheduler is not None
    for _ in range(2):  # a wake-up, then another 50 ms later (a re-arm "at once" is 1 ms ahead)
        scheduler._process_jobs()
        for _ in range(3):
            await asyncio.sleep(0.02)
        await _settle(runtime)
        runtime.clock.run(timedelta(milliseconds=50))  # type: ignore[attr-defined]


# ---- DST ----------------------------------------------------------------------------------------

DST_CASES = [
    # zone, first local day, wall time, the day whose wall time falls in a gap or fold
    ("America/New_York", date(2027, 3, 12), time(2, 30), "gap"),
    ("America/New_York", date(2027, 11, 5), time(1, 30), "fold"),
    ("Europe/Berlin", date(2027, 3, 26), time(2, 30), "gap"),
    ("Europe/Berlin", date(2027, 10, 29), time(2, 30), "fold"),
    ("Australia/Sydney", date(2027, 4, 2), time(2, 30), "fold"),
    ("Australia/Sydney", date(2027, 10, 1), time(2, 30), "gap"),
    ("Asia/Kolkata", date(2027, 3, 12), time(2, 30), "none"),
]
DAYS = 5
DST_FIGURES: dict[str, Any] = {}


@pytest.mark.parametrize(("zone", "first", "at", "edge"), DST_CASES,
                         ids=[f"{z}-{e}-{d:%m-%d}" for z, d, _t, e in DST_CASES])
async def test_a_daily_post_across_a_dst_change_publishes_once_a_day_at_the_right_instant(
        tmp_path, sim: SimTime, zone: str, first: date, at: time, edge: str) -> None:
    tz = ZoneInfo(zone)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    walls = [datetime.combine(d, at) for d in days]
    edges = {"gap": sum(not wall_time_exists(w, tz) for w in walls),
             "fold": sum(is_ambiguous(w, tz) for w in walls)}
    assert edges.get(edge, 0) == (1 if edge != "none" else 0), "the case must cross the change it names"
    # PEP 495 fold=0: a wall time in a gap keeps the offset from before it (02:30 -> 03:30), and a
    # time in a fold is its first occurrence: the policies Outpost promises, computed independently.
    expected = [w.replace(tzinfo=tz, fold=0).astimezone(UTC) for w in walls]

    sim.wall = expected[0] - timedelta(hours=1)
    runtime = Runtime.open(tmp_path / "data", clock=sim, settings=replace(FAST))
    recorder = install_recorder(runtime)
    account = runtime.planner.default_account_id()
    assert account is not None
    runtime.planner.create_post(PostSpec(
        text=f"daily in {zone}", account_ids=(account,), timezone=zone, scheduled_at=expected[0],
        recurrence=Recurrence(RepeatKind.DAILY, until=days[-1]).to_dict()))
    await runtime.start()
    try:
        for _ in range(DAYS * 3):
            state = runtime.publisher.state()
            if state.next_due is None:
                break
            sim.run(state.next_due - timedelta(seconds=10) - sim.wall)
            await _tick(runtime)  # 10 s early: nothing may go out yet
            assert len(recorder.record) == len([e for e in expected if e <= sim.wall])
            sim.run(state.next_due - sim.wall)
            await _tick(runtime)
    finally:
        await runtime.stop()
    published = [p.at for p in recorder.record]
    DST_FIGURES[f"{zone} {edge} {first:%Y-%m-%d}"] = {
        "published_utc": [p.strftime("%m-%d %H:%M") for p in published],
        "local": [p.astimezone(tz).strftime("%m-%d %H:%M %Z") for p in published]}
    record_figures("time", {"dst": DST_FIGURES})
    assert published == expected  # once a day, each at its instant, none twice, none skipped
    assert max(recorder.counts().values()) == 1


# ---- wall-clock jumps and suspend/resume ---------------------------------------------------------

def _one_post(runtime: Runtime, text: str, at: datetime) -> int:
    account = runtime.planner.default_account_id()
    assert account is not None
    return runtime.planner.create_post(PostSpec(text=text, account_ids=(account,), timezone="UTC",
                                                scheduled_at=at))


async def test_wall_clock_jumps_forward_and_back_publish_each_post_once(tmp_path, sim: SimTime) -> None:
    runtime = Runtime.open(tmp_path / "data", clock=sim, settings=replace(FAST))
    recorder = install_recorder(runtime)
    jumps: list[float] = []
    start = sim.wall
    first = _one_post(runtime, "before the jumps", start + timedelta(minutes=5))
    second = _one_post(runtime, "after the jump back", start + timedelta(minutes=40))
    await runtime.start()
    scheduler = runtime.publisher.scheduler
    assert scheduler is not None
    original = scheduler.on_clock_jump
    scheduler.on_clock_jump = lambda drift: (jumps.append(drift), original and original(drift))  # type: ignore[func-returns-value]
    try:
        await _tick(runtime)
        sim.run(timedelta(minutes=2))
        await _tick(runtime)
        assert recorder.record == []
        sim.jump(timedelta(minutes=30))  # the clock is set 30 min ahead: the first post is now due
        await _tick(runtime)
        assert [p.post_id for p in recorder.record] == [first]
        sim.jump(timedelta(minutes=-45))  # and set back again, before the first post's time
        await _tick(runtime)
        sim.run(timedelta(minutes=10))  # the first post's instant comes round again
        await _tick(runtime)
        assert [p.post_id for p in recorder.record] == [first]  # the state machine, not the clock
        sim.run(runtime.publisher.state().next_due - sim.wall)  # type: ignore[operator]
        await _tick(runtime)
        statuses = [runtime.planner.post(i).status for i in (first, second)]
    finally:
        await runtime.stop()
    assert [round(j / 60) for j in jumps] == [30, -45]
    assert [p.post_id for p in recorder.record] == [first, second]
    assert recorder.record[1].at == start + timedelta(minutes=40)  # on time after the jump back
    assert statuses == [PostStatus.PUBLISHED, PostStatus.PUBLISHED]
    record_figures("time", {"jumps": {"detected_minutes": [round(j / 60) for j in jumps],
                                      "published": len(recorder.record), "duplicates": 0}})


async def test_suspend_and_resume_publishes_posts_inside_the_window_once_and_marks_older_ones_missed(
        tmp_path, sim: SimTime) -> None:
    runtime = Runtime.open(tmp_path / "data", clock=sim, settings=replace(FAST, catchup_window=timedelta(hours=24)))
    recorder = install_recorder(runtime)
    notices: list[tuple[str, str, str]] = []
    runtime.on_notice(lambda *n: notices.append(n))
    start = sim.wall
    ids = [_one_post(runtime, f"due while asleep {i}", start + timedelta(minutes=10 * (i + 1))) for i in range(3)]
    await runtime.start()
    try:
        await _tick(runtime)
        sim.jump(timedelta(hours=24, minutes=15))  # asleep: the monotonic clock stood still
        await _tick(runtime)  # the first wake-up after resuming
        statuses = [runtime.planner.post(i).targets[0] for i in ids]
    finally:
        await runtime.stop()
    assert statuses[0].status is TargetStatus.MISSED  # 24 h 5 min late: outside the window
    assert "was not running" in statuses[0].last_error
    assert [t.status for t in statuses[1:]] == [TargetStatus.PUBLISHED, TargetStatus.PUBLISHED]
    assert sorted(p.post_id for p in recorder.record) == ids[1:]  # once each, within one wake-up
    assert any("missed" in n[1] for n in notices)
    record_figures("time", {"suspend": {"asleep": "24 h 15 min", "published_on_wake": len(recorder.record),
                                        "missed_with_notice": 1}})
