"""`outpost run` in its own process publishing to a fake server, including a SIGKILL while the
platform holds the answer: the restart reconciles by replaying the idempotency key, never reposts.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.timeutil import iso_utc, utcnow
from app.engine.runtime import Runtime
from tests.cli.conftest import ROOT
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Fault

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    import os

    e = dict(os.environ)
    e.update({"PYTHONPATH": str(ROOT), "OUTPOST_DATA_DIR": str(tmp_path / "data"),
              "PYTHON_KEYRING_BACKEND": "tests.fakes.filekeyring.FileKeyring",
              "OUTPOST_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
              "OUTPOST_TUNING": "read_timeout=0.5,poll_interval=0.02,backoff_base=0.02"})
    return e


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def _outpost(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=60)


def _run(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", "run"], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _target(data_dir: Path):  # type: ignore[no-untyped-def]
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        return next(t for p in runtime.planner.posts() for t in p.targets if t.platform.value == "mastodon")
    finally:
        runtime.close()


def _prepare(env: dict[str, str], fake: FakeMastodon) -> None:
    added = _outpost(env, "accounts", "add", "mastodon", "--server", fake.url, "--token-stdin",
                     stdin=fake.issue_token() + "\n")
    assert added.returncode == 0, added.stderr
    at = iso_utc(utcnow() + timedelta(seconds=2))
    posted = _outpost(env, "post", "add", "--account", "@alice@127.0.0.1", "--at", at, "--text", "from run")
    assert posted.returncode == 0, posted.stderr


def test_run_publishes_with_the_secret_added_by_another_process(env, fake, tmp_path) -> None:
    _prepare(env, fake)
    process = _run(env)
    try:
        _wait(lambda: len(fake.published()) == 1)
        _wait(lambda: _target(tmp_path / "data").status.value == "published")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert _target(tmp_path / "data").external_id == fake.published()[0]["id"]


def test_sigkill_while_the_platform_holds_the_answer_reconciles_to_one_post(env, fake, tmp_path) -> None:
    _prepare(env, fake)
    fake.inject(Fault("/api/v1/statuses", kind="hang_after", hang_seconds=30))
    process = _run({**env, "OUTPOST_TUNING": "read_timeout=30"})  # still waiting when killed
    _wait(lambda: len(fake.published()) == 1)  # created on the platform; the answer never comes
    process.kill()
    process.wait(10)
    fake.faults.clear()
    restarted = _run(env)
    try:
        _wait(lambda: _target(tmp_path / "data").status.value == "published")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(20)
    assert len(fake.published()) == 1
    assert _target(tmp_path / "data").external_id == fake.published()[0]["id"]
