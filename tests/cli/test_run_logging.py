"""`outpost run --verbose` logs DEBUG lines, and a log line names its post and target once (item 15)."""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.timeutil import iso_utc, utcnow
from app.engine.logsetup import set_log_level, setup_logging
from tests.cli.conftest import Cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")


def _stderr_after_publishing(cli: Cli, *run_args: str) -> str:
    """Add a post due in a moment, start `outpost run`, wait until it is published, stop; its stderr."""
    at = iso_utc(utcnow() + timedelta(seconds=2))
    assert cli("post", "add", "--account", "sandbox", "--at", at or "", "--text", "now").returncode == 0
    proc = cli.popen("run", *run_args)
    feed = cli.data_dir / "sandbox" / "feed.html"
    try:
        deadline = time.monotonic() + 30
        while not (feed.exists() and "now" in feed.read_text(encoding="utf-8")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # the "published" log line follows the feed write
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    return err


def test_run_verbose_shows_debug_lines_and_each_context_field_once(cli: Cli) -> None:
    err = _stderr_after_publishing(cli, "--verbose")
    lines = err.splitlines()
    assert any(" DEBUG " in line for line in lines), err
    with_fields = [line for line in lines if " post=" in line]
    assert with_fields, err
    for line in with_fields:
        assert line.count(" post=") == 1 and line.count(" target=") <= 1, line


def test_run_without_verbose_has_no_debug_lines(cli: Cli) -> None:
    err = _stderr_after_publishing(cli)
    assert " INFO " in err and " DEBUG " not in err


def test_set_log_level_lowers_the_handlers_too(tmp_path: Path) -> None:
    before = logging.getLogger().level
    setup_logging(tmp_path, stderr=True)
    try:
        set_log_level(logging.DEBUG)
        logging.getLogger("outpost.test").debug("a debug detail", extra={"post": 7})
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = (tmp_path / "outpost.log").read_text(encoding="utf-8")
        assert "a debug detail post=7" in text and "post=7 post=7" not in text
    finally:
        setup_logging(None)
        logging.getLogger().setLevel(before)
