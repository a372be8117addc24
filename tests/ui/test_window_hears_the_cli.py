"""The window (qasync loop, real publisher) hears a post added by `outpost post add` in a terminal:
its calendar shows the post at once and the publisher sends it on time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.models import PostStatus
from app.core.timeutil import utcnow
from tests.ui.conftest import ZONE

TZ = ZoneInfo(ZONE)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli_add(data_dir: str, at: str) -> int:
    env = {**os.environ, "PYTHONPATH": ROOT, "PYTHON_KEYRING_BACKEND": "tests.support.memkeyring.InMemoryKeyring"}
    done = subprocess.run([sys.executable, "-m", "app", "--data-dir", data_dir, "post", "add", "--account", "sandbox",
                           "--text", "typed in a terminal", "--at", at, "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["id"])


def test_a_post_added_in_a_terminal_appears_in_the_window_and_goes_out(qloop, qtbot, window, runtime) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    if (now + timedelta(seconds=30)).astimezone(TZ).date() != now.astimezone(TZ).date():
        pytest.skip("too close to midnight for today's cell")

    async def scenario() -> int:
        await runtime.start()  # nothing scheduled: the publisher has no timer armed
        window.set_view("month")
        window.month.go_today()
        window.reload()
        at = (utcnow() + timedelta(seconds=4)).isoformat()
        post_id = await asyncio.to_thread(_cli_add, str(runtime.data_dir), at)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while window.month.chip_rect(post_id) is None:  # the window refreshed on the change it heard
            assert loop.time() < deadline, "the window never showed the post added in the terminal"
            await asyncio.sleep(0.05)
        while runtime.planner.post(post_id).status is not PostStatus.PUBLISHED:
            assert loop.time() < deadline + 10, runtime.planner.post(post_id).status
            await asyncio.sleep(0.05)
        await runtime.stop()
        return post_id

    qloop.run_until_complete(scenario())
    feed = (runtime.data_dir / "sandbox" / "feed.html").read_text(encoding="utf-8")
    assert "typed in a terminal" in feed
