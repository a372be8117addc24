"""The fakes themselves: usable from another process, controllable over HTTP, clean to stop."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes.mastodon import FakeMastodon

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["mastodon", "bluesky", "threads"])
def test_a_fake_runs_as_a_subprocess_and_takes_faults_over_http(module: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", f"tests.fakes.{module}", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        fault = httpx.post(f"{url}/__fake__/fault", json={"path": "/anything", "kind": "status", "status": 503,
                                                           "method": "GET"}, timeout=5)
        assert fault.status_code == 200
        assert httpx.get(f"{url}/anything", timeout=5).status_code == 503
        assert httpx.get(f"{url}/anything", timeout=5).status_code == 404  # the fault was used up
        state = httpx.get(f"{url}/__fake__/state", timeout=5).json()
        assert isinstance(state, dict)
        assert httpx.post(f"{url}/__fake__/config", json={"no_such_setting": 1}, timeout=5).status_code == 400
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert process.returncode == 0


def test_config_on_the_command_line_is_applied() -> None:
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.mastodon", "--port", "0", "--config",
                                json.dumps({"max_characters": 42})], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        instance = httpx.get(f"{url}/api/v2/instance", timeout=5).json()
        assert instance["configuration"]["statuses"]["max_characters"] == 42
    finally:
        process.terminate()
        process.wait(10)


def test_stopping_with_idle_and_hanging_connections_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    from tests.fakes.server import Fault

    fake = FakeMastodon()
    fake.start()
    fake.inject(Fault("/api/v2/instance", kind="hang", method="GET", hang_seconds=30))
    idle = httpx.Client()
    idle.get(f"{fake.url}/oauth/authorize")  # leaves a keep-alive connection open
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{fake.url}/api/v2/instance", timeout=0.2)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        fake.stop()
    idle.close()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
