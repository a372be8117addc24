"""Outpost's data is its owner's alone: the data folder 0700, every file in it 0600, whatever the umask."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.timeutil import utcnow
from tests.cli.conftest import ROOT, Cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files 0644 and folders 0755 unless the program says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def _too_open(root: Path) -> dict[str, str]:
    return {name: oct(mode) for name, mode in _modes(root).items()
            if mode != (0o700 if (root / name).is_dir() else 0o600)}


def _run_and_publish(cli: Cli) -> None:
    log = open(cli.data_dir.parent / "run.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "app", "run"], env=cli.env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        add = cli("post", "add", "--account", "sandbox", "--text", "private",
                  "--at", (utcnow() + timedelta(seconds=1)).isoformat(timespec="seconds"))
        assert add.returncode == 0, add.stderr
        feed = cli.data_dir / "sandbox" / "feed.html"
        deadline = time.monotonic() + 30
        while not feed.exists():
            assert time.monotonic() < deadline, (cli.data_dir.parent / "run.log").read_text()
            time.sleep(0.05)
        state = json.loads((cli.data_dir / "publisher-state.json").read_text())
        assert state["running"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.close()


def test_every_file_outpost_writes_is_owner_only(cli: Cli, open_umask: None) -> None:
    assert cli("accounts", "list").returncode == 0
    _run_and_publish(cli)  # database, -wal/-shm, lock, pid, state, endpoint, log, backup, sandbox feed
    names = set(_modes(cli.data_dir))
    for expected in ("outpost.sqlite3", "logs/outpost.log", "publisher-state.json", "sandbox/feed.html",
                     "schedule-changed", "outpost.pid"):
        assert expected in names, sorted(names)
    assert any(n.startswith("backups/outpost-daily-") for n in names), sorted(names)
    assert any(n.startswith("sandbox/1-sandbox/") and n.endswith(".json") for n in names), sorted(names)
    assert _too_open(cli.data_dir) == {}


def test_a_data_folder_from_an_older_version_is_tightened_on_open(cli: Cli, open_umask: None) -> None:
    assert cli("accounts", "list").returncode == 0
    _run_and_publish(cli)
    for path in [cli.data_dir, *cli.data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # what the old version left
    assert len(_too_open(cli.data_dir)) > 5
    assert cli("post", "list").returncode == 0
    assert _too_open(cli.data_dir) == {}


def test_a_shared_folder_chosen_as_data_folder_keeps_everything_else_as_it_was(tmp_path: Path, open_umask: None) -> None:
    shared = tmp_path / "Documents"
    (shared / "project").mkdir(parents=True)
    script = shared / "project" / "build.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    shared.chmod(0o755)
    cli = Cli(shared)
    assert cli("accounts", "list").returncode == 0  # Outpost's files appear beside the person's own
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "project").stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "outpost.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((shared / "logs").stat().st_mode) == 0o700
    assert cli("post", "list").returncode == 0  # opened again: the person's folder is still theirs
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755 and stat.S_IMODE(script.stat().st_mode) == 0o755


def test_log_files_after_a_rollover_and_the_media_host_settings_are_owner_only(tmp_path: Path, open_umask) -> None:
    import logging

    from app.engine.logsetup import setup_logging
    from app.platforms.mediahost import CONFIG_FILE, MediaHostConfig, save_config

    logs = tmp_path / "logs"
    setup_logging(logs)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_outpost", False))
    try:
        logging.getLogger("outpost.test").warning("first line")
        handler.doRollover()  # type: ignore[attr-defined]
        logging.getLogger("outpost.test").warning("after the rollover")
    finally:
        setup_logging(None)
    files = sorted(logs.iterdir())
    assert len(files) >= 2
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
    save_config(tmp_path, MediaHostConfig(endpoint="https://s3.example.com", bucket="b",
                                          public_base_url="https://cdn.example.com"), "key-id", "key-secret")
    assert stat.S_IMODE((tmp_path / CONFIG_FILE).stat().st_mode) == 0o600
