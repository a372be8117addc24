"""`outpost run` killed (SIGKILL) right after a wake-up journaled its posts ahead of their instants:
the restart knows the rows whose instant had not come were never sent, and each post goes out once."""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.models import AttemptOutcome, PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.outcomes import NOT_SENT
from app.engine.runtime import Runtime
from tests.reliability.processes import Outpost, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _schedule(data_dir: Path, seconds: list[float]) -> list[int]:
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        account = runtime.planner.find_account("sandbox").id
        now = utcnow()
        return [runtime.planner.create_post(PostSpec(text=f"ahead {i}", account_ids=(account,), timezone="UTC",
                                                     scheduled_at=now + timedelta(seconds=s)))
                for i, s in enumerate(seconds)]
    finally:
        runtime.close()


def test_a_kill_between_the_early_journal_and_the_instant_sends_each_post_once(tmp_path):
    outpost = Outpost(tmp_path)
    assert outpost("accounts", "list").returncode == 0  # creates the data folder and its sandbox
    # One wake-up (1 s before the first) claims and journals both; the second's instant is 4 s later.
    first, second = _schedule(outpost.data_dir, [3.0, 7.0])
    proc = outpost.run(OUTPOST_CRASH_AT="journaled_ahead:1")
    assert proc.wait(timeout=30) == -signal.SIGKILL  # killed at the first journaled-ahead attempt
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        assert all(len(runtime.planner.attempts(p)) == 1 for p in (first, second))  # both rows were committed
        sandbox = outpost.data_dir / "sandbox"
        assert not sandbox.exists() or not list(sandbox.glob("*/*.json"))  # nothing was sent
    finally:
        runtime.close()
    proc = outpost.run()
    try:
        def settled() -> bool:
            runtime = Runtime.open(outpost.data_dir, exclusive=False)
            try:
                return all(runtime.planner.post(p).targets[0].status is TargetStatus.PUBLISHED for p in (first, second))
            finally:
                runtime.close()

        assert wait_for(settled, 30, interval=0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    items = [json.loads(p.read_text()) for p in (outpost.data_dir / "sandbox").glob("*/*.json")]
    assert Counter(i["post_id"] for i in items) == {first: 1, second: 1}
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        attempts = runtime.planner.attempts(second)
        target = runtime.planner.post(second).targets[0]
    finally:
        runtime.close()
    # Its instant had not come at the restart: closed as not sent, no check, not counted.
    assert [(a.outcome, a.error) for a in attempts] == [(AttemptOutcome.FAILED, NOT_SENT),
                                                       (AttemptOutcome.SUCCEEDED, "")]
    assert target.attempts == 1
