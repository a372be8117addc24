"""Lateness: from a post's scheduled instant to its adapter's publish call.

Two runs in one process, 200 posts each:
  spread  - one post every 50 ms (the everyday case);
  burst   - all 200 due at the same instant (a catch-up or a busy campaign).
The platform answers like an HTTP platform, without blocking the loop, after `--round-trip-ms`
(default 0: the engine's lateness alone; a round trip holds one of the 16 call slots meanwhile).
`--sandbox` uses the sandbox adapter instead, whose fsync per post on the loop makes a burst's
200th call wait for 199 fsyncs: the adapter's cost, not the engine's.
Baseline: bare asyncio timers (loop.call_at) firing at the same instants in the same run: the
floor any in-process scheduler on this machine can reach.
Goals: spread p99 <= 5 ms; burst: every call within 100 ms of the instant (max <= 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

from _common import percentile, scratch_data_dir

from app.core.models import Platform, PostSpec
from app.core.timeutil import utcnow
from app.engine.publisher import PublisherSettings
from app.engine.runtime import Runtime
from app.platforms.base import PublishResult
from app.platforms.sandbox import SandboxAdapter


class RecordingSandbox(SandboxAdapter):
    def __init__(self, context, record, round_trip: float | None):  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.record = record
        self.round_trip = round_trip  # seconds; None: the sandbox's own publish

    async def publish(self, job, journal):  # type: ignore[no-untyped-def]
        self.record.append((utcnow() - job.scheduled_at).total_seconds() * 1000)
        if self.round_trip is not None:
            await asyncio.sleep(self.round_trip)
            return PublishResult(external_id=f"bench-{job.idempotency_key}")
        return await super().publish(job, journal)


async def run_outpost(count: int, spacing_ms: float, lead_s: float, round_trip: float | None) -> list[float]:
    data = scratch_data_dir("lateness")
    runtime = Runtime.open(data, settings=PublisherSettings(max_concurrency=16))
    record: list[float] = []
    runtime._adapters[Platform.SANDBOX] = RecordingSandbox(runtime.context, record, round_trip)
    account = runtime.planner.default_account_id()
    assert account is not None
    start = utcnow() + timedelta(seconds=lead_s)
    specs = [PostSpec(text=f"post {i}", account_ids=(account,), timezone="UTC",
                      scheduled_at=start + timedelta(milliseconds=spacing_ms * i)) for i in range(count)]
    runtime.planner.create_posts(specs)
    await runtime.start()
    deadline = time.monotonic() + lead_s + count * spacing_ms / 1000 + 30
    while len(record) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await runtime.stop()
    return record


async def run_baseline(count: int, spacing_ms: float, lead_s: float) -> list[float]:
    loop = asyncio.get_running_loop()
    record: list[float] = []
    done = asyncio.Event()
    start = utcnow() + timedelta(seconds=lead_s)

    def fire(due):  # type: ignore[no-untyped-def]
        record.append((utcnow() - due).total_seconds() * 1000)
        if len(record) == count:
            done.set()

    for i in range(count):
        due = start + timedelta(milliseconds=spacing_ms * i)
        loop.call_at(loop.time() + (due - utcnow()).total_seconds(), fire, due)
    await done.wait()
    return record


def report(name: str, outpost: list[float], baseline: list[float], goal: str, limit: float) -> float:
    p50, p99, worst = (percentile(outpost, 50), percentile(outpost, 99), max(outpost))
    b99 = max(percentile(baseline, 99), 0.1)
    print(f"{name:<7} outpost  p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   max {worst:7.2f} ms   (n={len(outpost)})")
    print(f"{'':<7} baseline p50 {percentile(baseline, 50):7.2f} ms   p99 {percentile(baseline, 99):7.2f} ms   "
          f"max {max(baseline):7.2f} ms")
    measured = p99 if goal == "p99" else worst
    print(f"{'':<7} p99 ratio outpost/baseline-floor: {p99 / b99:.1f}x   goal {goal} <= {limit:.0f} ms: "
          f"{'met' if measured <= limit else 'NOT met'}")
    return p99


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--round-trip-ms", type=float, default=0.0, help="the fake platform's answer time")
    parser.add_argument("--sandbox", action="store_true", help="publish to the sandbox adapter (an fsync per post)")
    args = parser.parse_args()
    round_trip = None if args.sandbox else args.round_trip_ms / 1000
    spread = await run_outpost(args.posts, 50, 3, round_trip)
    spread_base = await run_baseline(args.posts, 50, 1)
    report("spread", spread, spread_base, "p99", 5)
    burst = await run_outpost(args.posts, 0, 3, round_trip)
    burst_base = await run_baseline(args.posts, 0, 1)
    report("burst", burst, burst_base, "max", 100)


if __name__ == "__main__":
    asyncio.run(main())
