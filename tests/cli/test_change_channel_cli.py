"""Between real processes: `outpost run` hears every CLI change at once, and says the truth.

Each test runs `outpost run` as a subprocess against a tmp data folder and changes posts from
other `outpost` processes, as a person with two terminals would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.timeutil import utcnow
from app.store.lock import DataDirLock
from tests.cli.conftest import ROOT, Cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")

TUNING = "backoff_base=0.05,backoff_cap=0.3,drain_timeout=2"


@pytest.fixture(autouse=True)
def _fast_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_ENGINE_TUNING", TUNING)


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.05)


def _at(seconds: float) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _published(data: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in (data / "sandbox").glob("*/*.json")] if (data / "sandbox").exists() else []


def _state(data: Path) -> dict[str, object]:
    try:
        value: dict[str, object] = json.loads((data / "publisher-state.json").read_text())
        return value
    except (OSError, ValueError):
        return {}


class Run:
    """`outpost run` in the background, its log in a file (no pipe to fill up)."""

    def __init__(self, cli: Cli) -> None:
        self.log = cli.data_dir.parent / "run.log"
        self.data = cli.data_dir
        (self.data / "publisher-state.json").unlink(missing_ok=True)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", "run"], env=cli.env(), cwd=ROOT,
                                         stdout=subprocess.DEVNULL, stderr=log, text=True)
        _until(lambda: self.proc.poll() is not None or bool(_state(self.data).get("running")), 30, "run started")
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def run(cli: Cli):  # type: ignore[no-untyped-def]
    runs: list[Run] = []

    def start() -> Run:
        runs.append(Run(cli))
        return runs[-1]

    yield start
    for r in runs:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait(timeout=10)


def _add(cli: Cli, *args: str) -> int:
    result = cli("post", "add", "--account", "sandbox", "--text", "from the terminal", *args, "--json")
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def test_a_post_added_from_the_cli_goes_out_from_an_idle_outpost_run(cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    cli("accounts", "list")  # creates the data folder with its sandbox account
    r = run()  # nothing scheduled: no timer is armed at all
    post = _add(cli, "--at", _at(2))
    _until(lambda: len(_published(cli.data_dir)) == 1, 20, "the post was published")  # was: never
    assert _published(cli.data_dir)[0]["post_id"] == post
    assert r.stop() == 0


def test_a_post_added_from_the_cli_goes_out_while_run_is_armed_for_a_later_one(cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    later = _add(cli, "--at", _at(3600))
    r = run()  # armed for the post in an hour; its timer wakes at most every 60 s
    soon = _add(cli, "--at", _at(2))
    _until(lambda: len(_published(cli.data_dir)) == 1, 20, "the new post was published")  # was: up to 60 s
    assert [i["post_id"] for i in _published(cli.data_dir)] == [soon]
    assert r.stop() == 0
    assert cli.json("post", "show", str(later))["status"] == "scheduled"  # type: ignore[index]


def test_a_cancel_from_the_cli_disarms_outpost_run(cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    cli("accounts", "list")
    r = run()
    post = _add(cli, "--at", _at(8))
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is not None, 5, "run armed for the new post")
    assert cli("post", "cancel", str(post)).returncode == 0
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is None, 5, "run dropped the cancelled post's wake-up")
    due = utcnow() + timedelta(seconds=10)
    _until(lambda: utcnow() > due, 15, "past the post's time")
    assert _published(cli.data_dir) == []
    assert cli.json("post", "show", str(post))["status"] == "cancelled"  # type: ignore[index]
    assert r.stop() == 0


def test_publish_now_with_nobody_running_publishes_from_the_command(cli: Cli) -> None:
    post = _add(cli, "--draft")
    result = cli("post", "publish-now", str(post))
    assert result.returncode == 0, result.stderr
    assert f"Post {post} published on" in result.stdout  # was: "publish now done ... now scheduled"
    assert "No Outpost is running" in result.stderr  # says why it publishes from here
    assert [i["post_id"] for i in _published(cli.data_dir)] == [post]
    assert cli.json("post", "show", str(post))["status"] == "published"  # type: ignore[index]
    lock = DataDirLock(cli.data_dir)
    lock.acquire()  # released again: the window or `outpost run` can start
    lock.release()


def test_publish_now_refused_changes_nothing_and_frees_the_folder(cli: Cli) -> None:
    cli("accounts", "list")
    result = cli("post", "publish-now", "4242")
    assert result.returncode == 2
    assert result.stderr.strip() == "outpost: There is no post 4242."
    assert _published(cli.data_dir) == []
    lock = DataDirLock(cli.data_dir)
    lock.acquire()
    lock.release()


def test_publish_now_while_run_is_running_hands_it_to_that_process(cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    post = _add(cli, "--draft")
    r = run()
    result = cli("post", "publish-now", str(post))
    assert result.returncode == 0, result.stderr
    assert f"Outpost (pid {r.proc.pid}) is publishing it now" in result.stdout
    _until(lambda: len(_published(cli.data_dir)) == 1, 20, "published by the running process")
    assert r.stop() == 0


def test_the_database_deleted_under_outpost_run_stops_publishing_and_the_restart_offers_the_backup(
        cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    post = _add(cli, "--at", _at(12))
    r = run()  # it makes the day's backup as it starts
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is not None, 10, "run armed for the post")
    _until(lambda: any((cli.data_dir / "backups").glob("outpost-daily-*.sqlite3")), 10, "the day's backup made")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cli.data_dir / 'outpost.sqlite3'}{suffix}").unlink(missing_ok=True)
    _until(lambda: "was deleted while Outpost was running" in r.text(), 30, "run said the database is gone")
    assert _state(cli.data_dir).get("paused") is True
    assert "deleted" in str(_state(cli.data_dir).get("database_problem"))
    time.sleep(3)  # well past the post's time and a database retry: nothing goes out, nothing repeats
    assert _published(cli.data_dir) == []
    log = r.text()
    assert log.count("was deleted while Outpost was running") == 1, log
    assert "no such table" not in log and "Traceback" not in log, log
    assert not (cli.data_dir / "outpost.sqlite3").exists()  # no empty database appeared in its place
    assert r.stop() == 0

    again = cli("run")
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1, again.stderr
    backup = max((cli.data_dir / "backups").glob("outpost-*.sqlite3")).name
    assert backup in lines[0] and "outpost restore-backup --latest" in lines[0] and "--start-empty" in lines[0]
    assert not (cli.data_dir / "outpost.sqlite3").exists()
    assert cli("post", "list").returncode == 2  # every command refuses the same way

    restored = cli("restore-backup", "--latest")
    assert restored.returncode == 0, restored.stderr
    assert cli.json("post", "show", str(post))["status"] == "scheduled"  # type: ignore[index]


def test_start_empty_is_a_choice_not_a_silent_default(cli: Cli) -> None:
    cli("accounts", "list")
    assert cli("restore-backup", "--start-empty").returncode == 2  # a database is there: refused
    (cli.data_dir / "backups").mkdir(exist_ok=True)
    result = subprocess.run([sys.executable, "-c", "import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); "
                             "d=sqlite3.connect(sys.argv[2]); s.backup(d)", str(cli.data_dir / "outpost.sqlite3"),
                             str(cli.data_dir / "backups" / "outpost-daily-20260101T000000000000Z.sqlite3")])
    assert result.returncode == 0
    (cli.data_dir / "outpost.sqlite3").unlink()
    assert cli("post", "list").returncode == 2
    started = cli("restore-backup", "--start-empty")
    assert started.returncode == 0, started.stderr
    listed = cli("post", "list")
    assert listed.returncode == 0 and "No posts." in listed.stdout


def test_import_undo_import_and_removing_an_account_re_plan_outpost_run(cli: Cli, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("accounts", "add", "sandbox", "--name", "Second").returncode == 0
    r = run()  # nothing scheduled
    later = (utcnow() + timedelta(hours=2)).isoformat(timespec="seconds")
    sheet = tmp_path / "posts.csv"
    sheet.write_text(f"Text,Date,Account\nfirst,{later},sandbox\nsecond,{later},sandbox\n", encoding="utf-8")
    imported = cli("import", str(sheet), "--json")
    assert imported.returncode == 0, imported.stderr
    batch = json.loads(imported.stdout)["batch_id"]
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is not None, 5, "run armed for the imported posts")
    assert cli("undo-import", str(batch)).returncode == 0
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is None, 5, "run disarmed after the undo")

    _add_to = cli("post", "add", "--account", "second", "--text", "on the second account", "--at", later)
    assert _add_to.returncode == 0, _add_to.stderr
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is not None, 5, "run armed for the second account")
    assert cli("accounts", "remove", "second").returncode == 0
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is None, 5, "run disarmed after the account left")
    assert r.stop() == 0


def test_publish_now_that_fails_says_so_and_retry_with_nobody_running_says_it_waits(cli: Cli) -> None:
    assert cli("accounts", "add", "sandbox", "--name", "Refusing", "--fail", "permanent").returncode == 0
    result = cli("post", "add", "--account", "refusing", "--text", "refused", "--draft", "--json")
    post = int(json.loads(result.stdout)["id"])
    tried = cli("post", "publish-now", str(post))
    assert tried.returncode == 1
    assert f"Post {post} on " in tried.stderr and "failed" in tried.stderr  # what happened, not "done"
    assert _published(cli.data_dir) == []
    retried = cli("post", "retry", str(post))
    assert retried.returncode == 0, retried.stderr
    assert "No Outpost is running: start it or run `outpost run`." in retried.stderr


async def test_publish_now_while_the_window_has_paused_publishing_says_it_waits(cli: Cli) -> None:
    import asyncio

    from app.engine.runtime import Runtime
    from tests.support.memkeyring import InMemoryKeyring

    window = Runtime.open(cli.data_dir, secrets=_memory_secrets(InMemoryKeyring))
    await window.start()  # this test process plays the window: it holds the folder and publishes
    try:
        window.publisher.pause()  # the tray's Pause
        post = await asyncio.to_thread(_add, cli, "--draft")
        result = await asyncio.to_thread(cli, "post", "publish-now", str(post))
        assert result.returncode == 1
        assert "has paused publishing" in result.stderr and "is publishing it now" not in result.stdout
        assert window.planner.post(post).status.value == "scheduled"  # it goes out on resume
    finally:
        await window.stop()


def _memory_secrets(keyring_class):  # type: ignore[no-untyped-def]
    import keyring

    from app.auth.secrets import KeyringSecrets

    keyring.set_keyring(keyring_class())
    return KeyringSecrets()


def test_a_database_replaced_under_outpost_run_stops_it_and_status_says_so(cli: Cli, run) -> None:  # type: ignore[no-untyped-def]
    _add(cli, "--at", _at(20))
    r = run()
    _until(lambda: _state(cli.data_dir).get("next_wakeup") is not None, 10, "run armed for the post")
    database = cli.data_dir / "outpost.sqlite3"
    copy = cli.data_dir / "copy.sqlite3"
    done = subprocess.run([sys.executable, "-c", "import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); "
                           "d=sqlite3.connect(sys.argv[2]); s.backup(d)", str(database), str(copy)])
    assert done.returncode == 0
    os.replace(copy, database)  # another program put a different file (a new inode) in its place
    assert _add(cli, "--at", _at(40))  # the CLI writes to the new file and tells run, which looks again
    _until(lambda: _state(cli.data_dir).get("database_problem") is not None, 30, "run noticed the new file")
    status = cli.json("status")
    assert status["database_problem"] and status["paused"] is True  # type: ignore[index]
    text = cli("status").stdout
    assert "Stopped publishing:" in text
    assert r.stop() == 0
