"""The X, TikTok, LinkedIn and Pinterest fakes run as subprocesses too (for `outpost run` tests)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module,setting", [("x", "timeline_readable"), ("tiktok", "audited"),
                                            ("linkedin", "can_read_posts"), ("pinterest", "video_fails")])
def test_a_fake_runs_as_a_subprocess_and_takes_settings_and_faults(module: str, setting: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", f"tests.fakes.{module}", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert httpx.post(f"{url}/__fake__/config", json={setting: True}, timeout=5).status_code == 200
        assert httpx.post(f"{url}/__fake__/fault", json={"path": "/probe", "method": "GET", "status": 503},
                          timeout=5).status_code == 200
        assert httpx.get(f"{url}/probe", timeout=5).status_code == 503
        assert isinstance(httpx.get(f"{url}/__fake__/state", timeout=5).json(), dict)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert process.returncode == 0
