"""`outpost status` tells of held posts and partial failures; human output never passes control
characters from posts or account names to the terminal, while --json stays exact (items 6, 12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from app.core.models import AccountStatus, Platform, PostSpec, TargetStatus
from app.engine.runtime import Runtime
from app.store import repo

LATER = datetime(2031, 1, 1, 9, 0, tzinfo=UTC)


def _run(data_dir: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def runtime(tmp_path: Path):  # type: ignore[no-untyped-def]
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


def _set_target(rt: Runtime, target_id: int, status: TargetStatus) -> None:
    from app.store.schema import Target

    with rt.db.write() as s:
        t = s.get(Target, target_id)
        assert t is not None
        t.status = status.value
        t.due_at = None
        repo.refresh_post_status(t.post)


def test_status_reports_posts_held_for_a_reconnect_instead_of_nothing_scheduled(runtime, capsys):
    me = runtime.planner.add_account(Platform.SANDBOX, "me", display_name="Me")
    for text in ("one", "two"):
        runtime.planner.create_post(PostSpec(text=text, account_ids=(me.id,), scheduled_at=LATER, timezone="UTC"))
    runtime.planner.set_account_status(me.id, AccountStatus.NEEDS_RECONNECT, "the app password was revoked")
    code, out, _ = _run(runtime.data_dir, capsys, "status")
    assert code == 0
    assert "2 posts held: Sandbox @me needs reconnecting (the app password was revoked)." in out
    assert "nothing scheduled" not in out and "Next post due: nothing can go out now (2 held, below)" in out
    code, out, _ = _run(runtime.data_dir, capsys, "status", "--json")
    held = json.loads(out)["held"]
    assert held == {"count": 2, "accounts": [{"account_id": me.id, "account": "Sandbox @me", "platform": "sandbox",
                                              "reason": "needs reconnecting",
                                              "detail": "the app password was revoked", "posts": 2}]}


def test_status_counts_a_partly_failed_post_as_failed_and_partial(runtime, capsys):
    other = runtime.planner.add_account(Platform.SANDBOX, "other", display_name="Other")
    post_id = runtime.planner.create_post(PostSpec(text="both", account_ids=(1, other.id), scheduled_at=LATER,
                                                   timezone="UTC"))
    first, second = runtime.planner.post(post_id).targets
    _set_target(runtime, first.id, TargetStatus.PUBLISHED)
    _set_target(runtime, second.id, TargetStatus.FAILED)
    code, out, _ = _run(runtime.data_dir, capsys, "status", "--json")
    status = json.loads(out)
    assert (status["failed"], status["partial"], status["needs_review"]) == (1, 1, 0)
    code, out, _ = _run(runtime.data_dir, capsys, "status")
    assert code == 0 and "failed 1" in out and "Partly published: 1 post(s)" in out


HOSTILE_TEXT = "hi\x1b]0;pwned\x07\r\n    9  published  2031-01-01 forged row\u202eevil\x9b2J"


def test_post_text_with_escape_sequences_is_shown_escaped_and_kept_exact_in_json(runtime, capsys):
    post_id = runtime.planner.create_post(PostSpec(text=HOSTILE_TEXT, account_ids=(1,), draft=True,
                                                   thread=("part\x1b[2J",)))
    for argv in (["post", "list"], ["post", "show", str(post_id)]):
        code, out, _ = _run(runtime.data_dir, capsys, *argv)
        assert code == 0
        assert not any(ch in out for ch in "\x1b\x07\r\u202e\x9b"), (argv, out)
        assert "hi\\e]0;pwned\\x07" in out
        assert not any(line.startswith("    9  published") for line in out.splitlines())
    assert "\\u202eevil\\x9b2J" in out and "part\\e[2J" in out  # post show prints it all
    code, out, _ = _run(runtime.data_dir, capsys, "post", "show", str(post_id), "--json")
    data = json.loads(out)
    assert data["text"] == HOSTILE_TEXT and data["thread"] == ["part\x1b[2J"]


def test_account_names_with_escape_sequences_are_escaped_in_accounts_list(runtime, capsys):
    runtime.planner.add_account(Platform.SANDBOX, "evil\x1b[31m", display_name="Name\r\n*  99  Forged\x1b]2;t\x07")
    code, out, _ = _run(runtime.data_dir, capsys, "accounts", "list")
    assert code == 0 and "\x1b" not in out and "\r" not in out and len(out.splitlines()) == 2
    assert "evil\\e[31m" in out and "Name\\r\\n*  99  Forged\\e]2;t\\x07" in out
    code, out, _ = _run(runtime.data_dir, capsys, "accounts", "list", "--json")
    assert json.loads(out)[1]["name"] == "Name\r\n*  99  Forged\x1b]2;t\x07"


def test_status_escapes_the_reason_a_platform_gave(runtime, capsys):
    me = runtime.planner.add_account(Platform.SANDBOX, "me", display_name="Me")
    runtime.planner.create_post(PostSpec(text="x", account_ids=(me.id,), scheduled_at=LATER, timezone="UTC"))
    runtime.planner.set_account_status(me.id, AccountStatus.NEEDS_RECONNECT, "bad\x1b]0;x\x07\nFAKE")
    code, out, _ = _run(runtime.data_dir, capsys, "status")
    assert code == 0 and "\x1b" not in out and "bad\\e]0;x\\x07\\nFAKE" in out


def test_status_tells_of_posts_whose_lost_answer_is_checked_again(runtime, capsys):
    from app.core.models import AttemptOutcome
    from app.store.schema import Attempt, Target

    post_id = runtime.planner.create_post(PostSpec(text="lost", account_ids=(1,), scheduled_at=LATER, timezone="UTC"))
    check_at = datetime(2031, 1, 1, 9, 5, tzinfo=UTC)
    with runtime.db.write() as s:
        target = s.query(Target).filter_by(post_id=post_id).one()
        target.status, target.due_at = TargetStatus.PUBLISHING.value, None
        s.add(Attempt(target_id=target.id, started_at=LATER, idempotency_key="k", payload_hash="h",
                      outcome=AttemptOutcome.UNKNOWN.value, steps={}, error="timeout", error_kind="unknown",
                      recheck_at=check_at, checks=1))
    code, out, _ = _run(runtime.data_dir, capsys, "status", "--json")
    assert code == 0
    assert json.loads(out)["checking"] == {"count": 1, "next_check": "2031-01-01T09:05:00Z"}
    code, out, _ = _run(runtime.data_dir, capsys, "status")
    assert "Checking again: 1 post(s) whose answer was lost" in out and "Nothing is sent twice." in out
