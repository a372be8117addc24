"""Idle cost: SQL statements and timer wake-ups while nothing is due (the next post a week away).

Baseline, in the same run and the same process: a polling publisher of the kind server-based
schedulers use (a query every POLL_S seconds for due posts) on its own copy of the database.
Goal: 0 statements and <= 5 wake-ups over 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from _common import scratch_data_dir

from app.core.models import PostSpec
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store import repo
from app.store.db import Database
from app.store.migrate import migrate

POLL_S = 1.0


async def polling_baseline(seconds: float) -> tuple[int, int]:
    data = scratch_data_dir("idle-baseline")
    db = Database(data / "poll.sqlite3")
    migrate(db, data / "backups")
    start = db.statements
    wakeups = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        await asyncio.sleep(POLL_S)
        wakeups += 1
        with db.read() as s:
            repo.due_targets(s, utcnow())
    db.dispose()
    return db.statements - start, wakeups


async def outpost(seconds: float) -> tuple[int, int]:
    data = scratch_data_dir("idle")
    runtime = Runtime.open(data)
    account = runtime.planner.default_account_id()
    assert account is not None
    runtime.planner.create_post(PostSpec(text="next week", account_ids=(account,), timezone="UTC",
                                         scheduled_at=utcnow() + timedelta(days=7)))
    await runtime.start()
    await asyncio.sleep(1)  # let start-up (recovery, first arming, daily backup) finish
    scheduler = runtime.publisher.scheduler
    assert scheduler is not None
    statements, wakeups = runtime.db.statements, scheduler.wakeups
    await asyncio.sleep(seconds)
    result = runtime.db.statements - statements, scheduler.wakeups - wakeups
    await runtime.stop()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    seconds = args.minutes * 60
    (o_sql, o_wake), (b_sql, b_wake) = await asyncio.gather(outpost(seconds), polling_baseline(seconds))
    print(f"idle for {args.minutes:g} min with the next post 7 days away")
    print(f"  outpost : {o_sql:5d} SQL statements, {o_wake:4d} timer wake-ups")
    print(f"  polling : {b_sql:5d} SQL statements, {b_wake:4d} timer wake-ups (a query every {POLL_S:g} s)")
    print(f"  ratio   : statements {o_sql / max(b_sql, 1):.3f}x, wake-ups {o_wake / max(b_wake, 1):.3f}x")
    goal_wakeups = 5 * args.minutes / 5
    met = o_sql == 0 and o_wake <= goal_wakeups
    print(f"  goal (0 statements, <= {goal_wakeups:g} wake-ups): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
