"""Outpost and the platform fakes as separate processes, as a person would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]

# Adapters with tiny timeouts (the fakes answer in milliseconds) and an engine that retries fast.
ADAPTER_TUNING = "connect_timeout=1,read_timeout=2,write_timeout=2,pool_timeout=2,poll_interval=0.02,backoff_base=0.02"
ENGINE_TUNING = "backoff_base=0.05,backoff_cap=0.3,rate_scale=100,reconcile_timeout=10,publish_timeout=20,drain_timeout=2"


class FakeProcess:
    """`python -m tests.fakes.<name> --port 0`, controlled through its /__fake__/ endpoints."""

    def __init__(self, name: str, config: dict[str, Any] | None = None) -> None:
        args = [sys.executable, "-m", f"tests.fakes.{name}", "--port", "0"]
        if config:
            args += ["--config", json.dumps(config)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url
        self.http = httpx.Client(base_url=self.url, timeout=10, trust_env=False)

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/__fake__/state").json()
        return data

    def configure(self, **values: Any) -> None:
        self.http.post("/__fake__/config", json=values).raise_for_status()

    def fault(self, **fault: Any) -> None:
        self.http.post("/__fake__/fault", json=fault).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


class Outpost:
    """The `outpost` command against one data dir, with the file keyring other processes share."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.data_dir = tmp / "data"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "OUTPOST_DATA_DIR": str(self.data_dir),
                    "PYTHON_KEYRING_BACKEND": "tests.fakes.filekeyring.FileKeyring",
                    "OUTPOST_TEST_KEYRING_FILE": str(tmp / "keyring.json"),
                    "OUTPOST_TUNING": ADAPTER_TUNING, "OUTPOST_ENGINE_TUNING": ENGINE_TUNING, **env}
        self.env.pop("OUTPOST_CRASH_AT", None)

    def __call__(self, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=self.env, cwd=ROOT, input=stdin, text=True,
                              capture_output=True, timeout=timeout)

    def run(self, **extra_env: str) -> subprocess.Popen[str]:
        """`outpost run` in the background (its log goes to a file, so no pipe can fill up)."""
        (self.data_dir / "publisher-state.json").unlink(missing_ok=True)
        log = open(self.data_dir.parent / "run-stderr.log", "a")  # noqa: SIM115 - owned by the process
        return subprocess.Popen([sys.executable, "-m", "app", "run"], env={**self.env, **extra_env}, cwd=ROOT,
                                text=True, stdout=subprocess.DEVNULL, stderr=log)

    def running(self, proc: subprocess.Popen[str]) -> bool:
        """True once the publisher has started (recovered and armed)."""
        path = self.data_dir / "publisher-state.json"
        try:
            return bool(json.loads(path.read_text(encoding="utf-8")).get("running"))
        except (OSError, ValueError):
            return False


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
