"""Help › Report a problem: a zip a person can attach to a bug report, with no secret in it.

It holds the versions, the self-test's lines (run as a separate `outpost self-test` process, so
it cannot disturb the running app), the end of the log and the publisher's state. Every text
goes through app.core.redact, after the accounts' stored secrets were registered with it, so a
token is scrubbed even where it appears without a telling name around it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import app
from app.core.errors import OutpostError
from app.core.redact import redact, register_secret
from app.store.paths import log_dir, state_path

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

LOG_LINES = 500
SELF_TEST_TIMEOUT_S = 120.0


def versions() -> dict[str, str]:
    """Outpost's, Python's, the OS's and the main libraries' versions."""
    from importlib import metadata

    out = {
        "outpost": app.__version__,
        "build": "frozen" if getattr(sys, "frozen", False) else "from source",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "os_version": platform.version(),
    }
    for dist in ("PySide6_Essentials", "PySide6", "qasync", "SQLAlchemy", "alembic", "httpx", "keyring",
                 "openpyxl", "APScheduler"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist.lower()] = metadata.version(dist)
    return out


def self_test_command(report: Path) -> list[str]:
    """How to run `outpost self-test` as its own process: the frozen executable, or this Python.
    The lines go to `report` too: the windowed Windows build has no stdout."""
    base = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app"]
    return [*base, "self-test", "--allow-no-keyring", "--report", str(report)]


def run_self_test(timeout: float = SELF_TEST_TIMEOUT_S) -> str:
    """The self-test's output (it works in a throw-away folder, never the person's data)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix="outpost-report-") as tmp:
        report = Path(tmp) / "self-test.txt"
        try:
            done = subprocess.run(self_test_command(report), capture_output=True, text=True, timeout=timeout,
                                  env=env, check=False, stdin=subprocess.DEVNULL)
            ending = f"(exit status {done.returncode})"
            stderr = done.stderr
        except subprocess.TimeoutExpired:
            ending, stderr = f"(the self-test did not finish within {timeout:g} s)", ""
        except OSError as exc:
            return f"(the self-test could not start: {exc})\n"
        try:
            lines = report.read_text(encoding="utf-8")
        except OSError:
            lines = "(the self-test wrote no report)\n"
    return lines + (f"\n--- stderr ---\n{stderr}" if stderr.strip() else "") + f"\n{ending}\n"


def last_log_lines(data_dir: Path, count: int = LOG_LINES) -> str:
    """The last `count` lines of the log, across its rotation (outpost.log.1 holds the older ones)."""
    folder = log_dir(data_dir)
    chunks: list[list[str]] = []
    for name in ("outpost.log", "outpost.log.1"):  # newest first
        try:
            chunks.insert(0, (folder / name).read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            continue
        if sum(len(c) for c in chunks) >= count:
            break
    lines = [line for chunk in chunks for line in chunk][-count:]
    return "\n".join(lines) + "\n" if lines else "(no log yet)\n"


def register_account_secrets(runtime: Runtime) -> int:
    """Teach the redactor every stored secret of the connected accounts; returns how many."""
    found = 0
    for account in runtime.planner.accounts():
        try:
            stored = runtime.secrets.get(account.id) or {}
        except OutpostError:  # no keyring: nothing stored to leak either
            return found
        for value in stored.values():
            if isinstance(value, str) and len(value) >= 6:
                register_secret(value)
                found += 1
    return found


def build_report(data_dir: Path, target: Path, *, self_test: str, settings: Mapping[str, object] | None = None,
                 now: datetime | None = None) -> Path:
    """Write the diagnostics zip to `target` (moved into place when complete); returns it.

    Raises OutpostError with what to do when it cannot be written.
    """
    now = now or datetime.now(UTC)
    try:
        state = state_path(data_dir).read_text(encoding="utf-8")
    except OSError:
        state = "(no publisher state file)"
    members = {
        "README.txt": (f"Outpost diagnostics, made {now.isoformat(timespec='seconds')}.\n"
                       "Versions, the self-test, the end of the log and the publisher's state. Passwords, tokens "
                       "and post texts in secret-looking fields were replaced by [redacted].\n"),
        "versions.json": json.dumps(versions(), indent=2),
        "self-test.txt": self_test,
        "log-tail.txt": last_log_lines(data_dir),
        "publisher-state.json": state,
        "settings.json": json.dumps({k: str(v) for k, v in (settings or {}).items()}, indent=2),
    }
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, text in members.items():
                zf.writestr(name, redact(text))
        os.replace(partial, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OutpostError(f"Could not write {target}: {exc.strerror or exc}. Choose a folder you can write to, "
                           "such as Documents.") from exc
    return target


def default_name(now: datetime | None = None) -> str:
    return f"outpost-diagnostics-{(now or datetime.now()).strftime('%Y%m%d-%H%M')}.zip"


def collect(runtime: Runtime, target: Path, settings: Mapping[str, object] | None = None,
            self_test: Callable[[], str] = run_self_test) -> Path:
    """Everything Report a problem does after the person chose where: slow (the self-test runs)."""
    register_account_secrets(runtime)
    return build_report(runtime.data_dir, target, self_test=self_test(), settings=settings)
