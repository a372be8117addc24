"""`outpost run` killed with SIGKILL mid-publishing, then restarted: nothing twice, nothing lost."""

from __future__ import annotations

import json
import random
import signal
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

from app.core.models import PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

SETTLED = {"published", "failed", "needs_review", "missed", "cancelled"}


def _targets(data_dir):  # type: ignore[no-untyped-def]
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        return [t for p in runtime.planner.posts() for t in p.targets]
    finally:
        runtime.close()


def _wait_for_run(proc, data_dir, timeout=20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (data_dir / "publisher-state.json").exists() and json.loads(
                (data_dir / "publisher-state.json").read_text()).get("running"):
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    raise AssertionError("outpost run did not start")


def _published_count(data_dir):  # type: ignore[no-untyped-def]
    return sum(1 for _ in (data_dir / "sandbox").glob("*/*.json")) if (data_dir / "sandbox").exists() else 0


def test_sigkill_during_publishing_then_restart_publishes_each_post_exactly_once(cli):
    data = cli.data_dir
    assert cli("accounts", "add", "sandbox", "--name", "Slow", "--latency-ms", "150").returncode == 0
    runtime = Runtime.open(data, exclusive=False)
    start = utcnow() + timedelta(seconds=2)
    account = runtime.planner.find_account("slow").id
    ids = [runtime.planner.create_post(PostSpec(text=f"post {i}", account_ids=(account,), timezone="UTC",
                                                scheduled_at=start + timedelta(milliseconds=100 * i)))
           for i in range(40)]
    runtime.close()
    rng = random.Random(7)
    kills = 0
    # Kill at moments defined by progress, not by the clock: after a random number of posts went out.
    for threshold in sorted(rng.sample(range(3, 35), 3)):
        proc = cli.popen("run")
        _wait_for_run(proc, data)
        deadline = time.monotonic() + 30
        while _published_count(data) < threshold and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.15))  # land anywhere: journaling, sending, recording
        proc.kill()  # SIGKILL: no cleanup at all
        proc.wait(timeout=10)
        (data / "publisher-state.json").unlink(missing_ok=True)
        kills += 1
    proc = cli.popen("run")
    _wait_for_run(proc, data)
    deadline = time.monotonic() + 40
    while not all(t.status.value in SETTLED for t in _targets(data)):
        assert time.monotonic() < deadline, [t.status for t in _targets(data)]
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert kills == 3
    targets = _targets(data)
    assert len(targets) == len(ids)
    items = [json.loads(p.read_text()) for p in (data / "sandbox").glob("*/*.json")]
    published_counts = Counter(i["post_id"] for i in items)
    assert max(published_counts.values()) == 1, "a post was published twice"
    for t in targets:
        assert t.status.value in SETTLED
        if t.status is TargetStatus.PUBLISHED:
            assert published_counts[t.post_id] == 1
        else:
            assert t.last_error, f"{t.status} without a reason"
    assert sum(published_counts.values()) == sum(t.status is TargetStatus.PUBLISHED for t in targets)
    # The sandbox can always tell, so every post ends published: nothing lost.
    assert all(t.status is TargetStatus.PUBLISHED for t in targets)
