"""Canary sweep (reliability.md §7 D29): plant known secrets, connect, publish, fail with DEBUG
logging everywhere, then search the database file, every log line and every error text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.auth import bluesky as bluesky_auth
from app.auth import threads as threads_auth
from app.auth.bluesky import SignInRefused
from app.auth.mastodon import MastodonSignIn
from app.core.models import TargetStatus
from app.store.paths import db_path, log_dir
from tests.engine.harness import EngineHarness
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Fault
from tests.fakes.support import FAST, browser
from tests.fakes.threads import DAY, FakeThreads

CANARY = {
    "mastodon_token": "CANARYmastodonTOKEN0123456789abcdef",
    "mastodon_client_secret": "CANARYclientSECRET0123456789abcdef",
    "mastodon_code": "CANARYauthCODE0123456789abcdef",
    "bluesky_password": "cnry-pass-word-7777",
    "threads_token": "CANARYthreadsTOKEN0123456789abcdef",
}


@pytest.fixture
def raw_log() -> Iterator[io.StringIO]:
    """Every record at DEBUG, from app, outpost, httpx and httpcore, as the handlers would see it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def _debug_everywhere() -> None:
    for name in ("app", "outpost", "httpx", "httpcore", "tests"):
        logging.getLogger(name).setLevel(logging.DEBUG)


async def test_no_secret_reaches_the_database_the_logs_or_error_text(tmp_path: Path, raw_log: io.StringIO,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", "read_timeout=0.4,poll_interval=0.02,backoff_base=0.02")
    mastodon, bluesky, threads = FakeMastodon(), FakeBluesky(), FakeThreads()
    mastodon.next_access_token = CANARY["mastodon_token"]
    mastodon.next_client_secret = CANARY["mastodon_client_secret"]
    mastodon.next_code = CANARY["mastodon_code"]
    bluesky.app_password = CANARY["bluesky_password"]
    threads.issue_token(token=CANARY["threads_token"], age=8 * DAY)  # old enough to be renewed (URL query)
    errors: list[str] = []
    with mastodon, bluesky, threads:
        async with EngineHarness.start(tmp_path, api_base={"threads": threads.url}) as h:
            _debug_everywhere()
            open_url, _ = browser()
            m = await MastodonSignIn(mastodon.url, tuning=FAST, timeout=5).run(open_url)
            b = await bluesky_auth.sign_in(bluesky.handle, CANARY["bluesky_password"], service=bluesky.url, tuning=FAST)
            t = await threads_auth.account_from_token(CANARY["threads_token"], api_base=threads.url, tuning=FAST)
            try:
                await bluesky_auth.sign_in(bluesky.handle, CANARY["bluesky_password"] + "x", service=bluesky.url,
                                           tuning=FAST)
            except SignInRefused as exc:
                errors.append(str(exc))
            accounts = [h.add_account(c.platform, c.handle, server=c.server, display_name=c.display_name,
                                      settings=c.settings, secrets=c.secrets) for c in (m, b, t)]
            # Servers that echo the credential back in their error bodies.
            mastodon.inject(Fault("/api/v1/statuses", status=422,
                                  body={"error": f"Validation failed: token {CANARY['mastodon_token']} is odd"}))
            bluesky.inject(Fault("/xrpc/com.atproto.repo.createRecord", status=400,
                                 body={"error": "InvalidRequest", "message": f"bad {CANARY['bluesky_password']}"}))
            threads.inject(Fault(rf"/v1.0/{threads.user_id}/threads", status=400, body={"error": {
                "message": f"Invalid access_token={threads_token(t.secrets)}", "code": 100}}))
            posts = [h.add_post(a, f"canary post {i}") for i, a in enumerate(accounts)]
            for post in posts:
                target = await h.wait_settled(post)
                assert target.status is TargetStatus.FAILED
                errors.append(target.last_error)
            errors.extend(e.message for e in h.planner.events())
        verifier = mastodon.token_requests[0]["code_verifier"]
        assert threads.refreshes == 1  # the token went out in a URL query string at least once
    canaries = [*CANARY.values(), verifier, threads_token(t.secrets)]
    database = b"".join(p.read_bytes() for p in db_path(tmp_path / "data").parent.glob(db_path(tmp_path / "data").name + "*"))
    logs = raw_log.getvalue() + "".join(p.read_text() for p in log_dir(tmp_path / "data").glob("*.log*"))
    assert "canary post" in database.decode("latin-1") and "HTTP Request" in logs  # the sweep saw real data
    for canary in canaries:
        assert canary.encode() not in database, "a secret reached the SQLite file"
        assert canary not in logs, "a secret reached a log line"
        assert not any(canary in e for e in errors), "a secret reached an error message"


def threads_token(secrets: dict[str, str]) -> str:
    return secrets["access_token"]
