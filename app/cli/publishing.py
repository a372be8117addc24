"""`outpost post publish-now ID` and friends: who publishes it, said truthfully.

When a window or `outpost run` holds the data folder, the change goes to it over the change
channel (app/engine/changes.py) and it publishes within milliseconds. When nobody does, this
command takes the data-folder lock itself, publishes the post and says what happened: a command
that reports "done" while nothing will go out would lose the post in practice.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import open_runtime
from app.core.models import TargetStatus
from app.core.timeutil import zone
from app.store.lock import DataDirLock, DataDirLocked
from app.store.paths import state_path
from app.store.views import PostView, TargetView

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

WAIT_BOUND_S = 300.0  # a video upload can take minutes; past this, the next start checks the outcome
NOT_RUNNING = "No Outpost is running: start it or run `outpost run`."


def publisher_pid(data_dir: Path) -> int | None:
    """The pid of the process holding the data folder, or None when nobody does."""
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except DataDirLocked:
        try:
            return int(lock.path.with_suffix(".pid").read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return 0  # running, pid unknown
    lock.release()
    return None


def publish_now(post_id: int, data_dir: Path) -> int:
    """Publish `post_id` now: through the running Outpost if there is one, else in this process."""
    from app.engine.runtime import Runtime

    try:
        runtime = Runtime.open(data_dir)  # exclusive: nobody else is publishing from this folder
    except DataDirLocked:
        return _through_running_publisher(post_id, data_dir)
    return asyncio.run(_publish_here(runtime, post_id))


def _through_running_publisher(post_id: int, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        count = rt.planner.publish_now(post_id)
        told = rt.publisher_told
    pid = told.pid if told is not None else publisher_pid(data_dir)
    who = f"Outpost (pid {pid})" if pid else "The running Outpost"
    state = _running_state(data_dir)
    if state.get("database_problem") or state.get("paused"):
        print(f"Post {post_id}: scheduled for now, but {who} has paused publishing; it goes out when "
              "publishing resumes (the tray's Resume, or restart it).", file=sys.stderr)
        return 1
    if told is not None:
        print(f"Post {post_id}: {who} is publishing it now on {count} account(s); "
              f"`outpost post show {post_id}` shows how it went.")
    else:  # it listens on no channel (an older version): the poke file reaches it within a minute
        print(f"Post {post_id}: {who} publishes it at its next wake-up, within a minute, on {count} account(s).")
    return 0


def _running_state(data_dir: Path) -> dict[str, object]:
    """What the running publisher last wrote about itself (paused?), or {} when unreadable."""
    try:
        value = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


async def _publish_here(runtime: Runtime, post_id: int) -> int:
    loop = asyncio.get_running_loop()
    try:
        runtime.planner.publish_now(post_id)  # refused (nothing changed) before anything starts
        watched = {t.id for t in runtime.planner.post(post_id).targets
                   if t.status is TargetStatus.SCHEDULED and not t.natively_scheduled}
        started_at = runtime.clock()
        print(f"{NOT_RUNNING[:-1]}; publishing post {post_id} from here.", file=sys.stderr)
        await runtime.start()
        deadline = loop.time() + WAIT_BOUND_S
        while True:
            view = runtime.planner.post(post_id)
            pending = [t for t in view.targets if t.id in watched and not _settled(t, started_at)]
            if not pending or loop.time() > deadline:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()  # lets a publish in flight finish, then releases the data folder
    return _report(view, watched, timed_out=bool(pending))


def _settled(target: TargetView, started_at: datetime) -> bool:
    """Published, failed, needs review...; or tried and put back for a later retry."""
    if target.status is TargetStatus.PUBLISHING:
        return False
    if target.status is TargetStatus.SCHEDULED:
        return target.attempts > 0 and target.due_at is not None and target.due_at > started_at
    return True


def _report(view: PostView, watched: set[int], *, timed_out: bool) -> int:
    ok = True
    for t in (t for t in view.targets if t.id in watched):
        if t.status is TargetStatus.PUBLISHED:
            print(f"Post {view.id} published on {t.account_label}{': ' + t.external_url if t.external_url else ''}.")
            continue
        ok = False
        if t.status is TargetStatus.SCHEDULED and t.due_at is not None and not timed_out:
            local = t.due_at.astimezone(zone(view.timezone))
            print(f"Post {view.id} on {t.account_label}: not published yet ({t.last_error or 'no reason given'}); "
                  f"the next try is at {local:%Y-%m-%d %H:%M} {view.timezone}, while Outpost runs "
                  "(open it, or `outpost run`).", file=sys.stderr)
        elif timed_out:
            print(f"Post {view.id} on {t.account_label}: still {t.status.value} after {WAIT_BOUND_S:.0f} s; "
                  "Outpost checks what happened when it next starts.", file=sys.stderr)
        else:
            print(f"Post {view.id} on {t.account_label}: {t.status.value.replace('_', ' ')}"
                  f"{' (' + t.last_error + ')' if t.last_error else ''}.", file=sys.stderr)
    return 0 if ok else 1
