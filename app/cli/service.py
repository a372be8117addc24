"""`outpost run` (publish headless until SIGINT/SIGTERM) and `outpost status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.cli import open_runtime, print_json
from app.core.models import AccountStatus, PostStatus, TargetStatus
from app.core.redact import for_terminal
from app.core.timeutil import iso_utc, local_zone_name, utcnow, zone
from app.store import repo
from app.store.lock import DataDirLock, DataDirLocked
from app.store.paths import state_path

log = logging.getLogger("outpost.run")


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="publish without a window until stopped (Ctrl+C or SIGTERM)")
    run.add_argument("--verbose", action="store_true", help="log debug details too")
    run.set_defaults(handler=cmd_run)
    status = sub.add_parser("status", help="next wake-up, due, overdue and held posts, failures, paused platforms")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)


def cmd_run(args: argparse.Namespace, data_dir: Path) -> int:
    from app.engine.logsetup import set_log_level
    from app.engine.runtime import Runtime

    async def serve() -> None:
        runtime = Runtime.open(data_dir, log_to_stderr=True)
        if args.verbose:
            set_log_level(logging.DEBUG)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        try:
            await runtime.start()
            state = runtime.publisher.state()
            nxt = iso_utc(state.next_due) or "nothing scheduled"
            log.info("Outpost is publishing from %s; next post: %s", data_dir, nxt)
            log.debug("publisher settings: %s", runtime.publisher.settings)
            await stop.wait()
            log.info("stopping: letting posts in flight finish")
        finally:
            await runtime.stop()
        log.info("stopped")

    asyncio.run(serve())
    return 0


def cmd_status(args: argparse.Namespace, data_dir: Path) -> int:
    running = _publisher_running(data_dir)
    now = utcnow()
    with open_runtime(data_dir) as rt:
        counts = rt.planner.counts()
        per_target = rt.planner.posts_per_target_status()
        held = rt.planner.held()
        waiting = rt.planner.checking()
        with rt.db.read() as s:
            next_due = repo.next_due_instant(s)
            due = sum(1 for t in repo.due_targets(s, now))
            overdue = sum(1 for t in repo.due_targets(s, now - timedelta(minutes=1)))
    state: dict[str, Any] = {}
    if running:
        try:
            state = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
    held_posts = sum(h.posts for h in held)
    result = {
        "running": running,
        "paused": bool(state.get("paused", False)),
        "next_wakeup": state.get("next_wakeup") if running else None,
        "next_due": iso_utc(next_due),
        "due": due,
        "overdue": overdue,
        # a post counts here when any of its accounts is in that state (a partly failed post is failed)
        "needs_review": per_target[TargetStatus.NEEDS_REVIEW],
        "failed": per_target[TargetStatus.FAILED],
        "missed": per_target[TargetStatus.MISSED],
        "partial": counts[PostStatus.PARTIAL],
        "scheduled": counts[PostStatus.SCHEDULED],
        "held": {
            "count": held_posts,
            "accounts": [{"account_id": h.account_id, "account": h.label, "platform": h.platform.value,
                          "reason": _held_reason(h.status), "detail": h.reason or None, "posts": h.posts}
                         for h in held],
        },
        "paused_platforms": state.get("paused_platforms", {}) if running else {},
        # posts whose answer was lost while the platform could not be reached: checked again later
        "checking": {"count": waiting.posts, "next_check": iso_utc(waiting.next_check)},
        # the running publisher saw its database deleted or replaced and stopped publishing
        "database_problem": state.get("database_problem") if running else None,
    }
    if args.json:
        print_json(result)
        return 0
    print(f"Publisher: {'running' if running else 'not running'}{' (paused)' if result['paused'] else ''}")
    if result["database_problem"]:
        print(f"Stopped publishing: {for_terminal(str(result['database_problem']))}")
    if result["next_due"]:
        print(f"Next post due: {result['next_due']}")
    else:
        print("Next post due: nothing can go out now" + (f" ({held_posts} held, below)" if held_posts else
                                                           "; nothing scheduled"))
    print(f"Scheduled {result['scheduled']} · due now {due} · overdue {overdue} · needs review "
          f"{result['needs_review']} · failed {result['failed']} · missed {result['missed']}")
    if waiting.posts:
        when = waiting.next_check.astimezone(zone(local_zone_name())) if waiting.next_check else None
        print(f"Checking again: {waiting.posts} post(s) whose answer was lost; the platform could not be asked yet"
              + (f", next check at {when:%H:%M}" if when else "") + ". Nothing is sent twice.")
    if result["partial"]:
        print(f"Partly published: {result['partial']} post(s) went out on some accounts but not all; "
              "`outpost post list --status partial` shows them.")
    for h in held:
        detail = f" ({for_terminal(h.reason)})" if h.reason else ""
        print(f"{h.posts} post{'s' if h.posts != 1 else ''} held: {for_terminal(h.label)} "
              f"{_held_reason(h.status)}{detail}.")
    paused: dict[str, str] = result["paused_platforms"]
    for platform, reason in paused.items():
        print(f"Paused: {for_terminal(str(platform))}: {for_terminal(str(reason))}")
    if not running and (due or overdue):
        print("Nothing publishes while Outpost is closed: open it, or run `outpost run`.", file=sys.stderr)
    return 0


def _held_reason(status: AccountStatus) -> str:
    if status is AccountStatus.NEEDS_RECONNECT:
        return "needs reconnecting"
    return "is turned off" if status is AccountStatus.DISABLED else f"is {status.value.replace('_', ' ')}"


def _publisher_running(data_dir: Path) -> bool:
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except DataDirLocked:
        return True
    lock.release()
    return False
