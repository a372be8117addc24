"""The CLI: stable JSON, one clear line on bad input, and nothing written when input is refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from app.core.timeutil import iso_utc, utcnow


def _db_digest(cli) -> str:  # type: ignore[no-untyped-def]
    """The database's logical content (via SQLite, never by reading the live file)."""
    import sqlite3

    conn = sqlite3.connect(cli.data_dir / "outpost.sqlite3")
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def test_a_fresh_data_dir_has_one_sandbox_account(cli):
    accounts = cli.json("accounts", "list")
    assert accounts == [{"id": 1, "platform": "sandbox", "handle": "sandbox", "name": "Sandbox", "status": "active"}]


def test_post_add_prints_the_stable_json_shape(cli):
    at = iso_utc(utcnow() + timedelta(days=2))
    post = cli.json("post", "add", "--account", "sandbox", "--at", at, "--text", "hello", "--first-comment", "more")
    assert set(post) >= {"id", "status", "text", "scheduled_at", "targets"}
    assert post["status"] == "scheduled" and post["scheduled_at"] == at.replace(".", ".")[:19] + post["scheduled_at"][19:]
    [target] = post["targets"]
    assert set(target) >= {"account_id", "platform", "status", "external_id", "attempts", "error"}
    assert (target["platform"], target["status"], target["attempts"]) == ("sandbox", "scheduled", 0)
    shown = cli.json("post", "show", str(post["id"]))
    assert shown["first_comment"] == "more" and shown["attempts"] == []
    assert [p["id"] for p in cli.json("post", "list", "--status", "scheduled")] == [post["id"]]


def test_at_without_an_offset_is_in_the_accounts_time_zone(cli):
    assert cli("accounts", "add", "sandbox", "--name", "Tokyo", "--timezone", "Asia/Tokyo").returncode == 0
    post = cli.json("post", "add", "--account", "tokyo", "--at", "2031-01-01T09:00", "--text", "おはよう")
    assert post["scheduled_at"] == "2031-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "nobody", "--at", "2031-01-01T09:00", "--text", "x"], "No account matches 'nobody'"),
        (["--account", "sandbox", "--at", "2001-01-01T09:00", "--text", "x"], "is in the past"),
        (["--account", "sandbox", "--at", "2031-02-30T09:00", "--text", "x"], "Cannot read '2031-02-30T09:00'"),
        (["--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x" * 501], "allows 500"),
        (["--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x", "--media", "/no/such.png"], "no file at"),
        (["--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x", "--repeat", "hourly"], "Unknown repeat"),
        (["--account", "sandbox", "--text", "x"], "Say when with --at"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_and_writes_nothing(cli, args, message):
    cli("accounts", "list")
    before = _db_digest(cli)
    result = cli("post", "add", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert _db_digest(cli) == before


def test_cancel_retry_and_publish_now_report_what_they_did(cli):
    post = cli.json("post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x")
    result = cli("post", "cancel", str(post["id"]))
    assert result.returncode == 0 and "now cancelled" in result.stdout
    result = cli("post", "retry", str(post["id"]))
    assert result.returncode == 2 and "nothing to retry" in result.stderr
    result = cli("post", "publish-now", str(post["id"]))  # nobody runs: this command publishes it
    assert result.returncode == 0 and f"Post {post['id']} published on" in result.stdout
    result = cli("post", "take-back", str(post["id"]))  # never handed to a platform's scheduler
    assert result.returncode == 2 and "nothing to take back" in result.stderr


def test_status_counts_what_is_scheduled_and_due(cli):
    cli.json("post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "later")
    status = cli.json("status")
    assert status["running"] is False
    assert status["scheduled"] == 1 and status["next_due"] == "2031-01-01T09:00:00Z"
    assert status["due"] == 0 and status["needs_review"] == 0


def test_a_recurring_post_from_the_cli(cli):
    post = cli.json("post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "tip",
                    "--repeat", "weekly:mon,thu", "--until", "2031-02-01", "--timezone", "Europe/Berlin")
    assert post["scheduled_at"] == "2031-01-02T08:00:00Z"  # the first Thursday, 09:00 Berlin
    assert post["recurrence"]["weekdays"] == [0, 3]


def test_accounts_remove_cancels_its_unpublished_posts(cli):
    cli("accounts", "add", "sandbox", "--name", "Temp")
    post = cli.json("post", "add", "--account", "temp", "--at", "2031-01-01T09:00", "--text", "x")
    result = cli("accounts", "remove", "temp")
    assert result.returncode == 0 and "1 unpublished post(s) cancelled" in result.stdout
    assert cli.json("post", "show", str(post["id"]))["status"] == "cancelled"
    assert [a["handle"] for a in cli.json("accounts", "list")] == ["sandbox"]
