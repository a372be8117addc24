"""Fault matrix: each platform fault, through the real engine to the fakes, with the final status,
the number of posts the fake holds afterwards, and the words a person sees. One table.

"What the person sees" is the target's reason when it did not publish, else the post's activity.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.auth import bluesky as bluesky_auth
from app.auth import mastodon as mastodon_auth
from app.auth import threads as threads_auth
from app.core.models import AccountStatus, MediaItem, MediaKind, Platform, TargetStatus
from app.store.schema import Account
from tests.engine.harness import EngineHarness
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer, Fault
from tests.fakes.support import FAST, PNG_1PX
from tests.fakes.threads import FakeThreads
from tests.reliability.support import record_figures

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")
STATUSES = "/api/v1/statuses"
CREATE = "/xrpc/com.atproto.repo.createRecord"


@dataclass(frozen=True)
class Case:
    name: str
    platform: str  # "mastodon" | "bluesky" | "threads"
    arrange: Callable[[Any], None]  # inject the fault into the fake
    status: TargetStatus
    message: str  # what the person reads (reason or activity)
    on_platform: int  # posts the fake holds at the end
    server: str = ""  # "dns" | "blackhole": point the account somewhere broken
    media: str = ""  # "png" | "video"
    tuning: str = ""
    check: Callable[[Any, Any], None] = field(default=lambda fake, target: None)


def _expired(fake: FakeBluesky) -> None:
    fake.expire_access_tokens()


def _revoked(fake: FakeMastodon) -> None:
    for grant in fake.tokens.values():
        grant["revoked"] = True


def _password_changed(fake: FakeBluesky) -> None:
    fake.expire_access_tokens()
    fake.refresh_tokens.clear()
    fake.app_password = "new0-new0-new0-new0"


def _slow(seconds: float) -> Callable[[FakeThreads], None]:
    def arrange(fake: FakeThreads) -> None:
        fake.ready_after = seconds
    return arrange


def _inject(*faults: Fault) -> Callable[[FakeServer], None]:
    def arrange(fake: FakeServer) -> None:
        for fault in faults:
            fake.inject(fault)
    return arrange


def _one_refresh(fake: FakeBluesky, _target: Any) -> None:
    assert fake.session_calls["refresh"] == 1


def _one_container(fake: FakeThreads, _target: Any) -> None:
    assert len(fake.containers) == 1


def _retried(_fake: Any, target: Any) -> None:
    assert target.attempts == 2


P, R, F, H = TargetStatus.PUBLISHED, TargetStatus.NEEDS_REVIEW, TargetStatus.FAILED, TargetStatus.SCHEDULED
MATRIX = [
    Case("5xx on create, nothing made: the key replay publishes it", "mastodon",
         _inject(Fault(STATUSES, status=503)), P, "Confirmed post", 1),
    Case("5xx on create and on every check: review, no repost", "mastodon",
         _inject(Fault(STATUSES, status=503, times=99)), R, "cannot tell whether it went out", 0),
    Case("5xx on create and on the first check: checked again, published once", "mastodon",
         _inject(Fault(STATUSES, status=503, times=2)), P, "Confirmed post", 1),
    Case("5xx on a media upload (nothing posted): retried", "bluesky",
         _inject(Fault("/xrpc/com.atproto.repo.uploadBlob", status=502)), P, "will be retried", 1, media="png",
         check=_retried),
    Case("429 with Retry-After: waits, then publishes", "mastodon",
         _inject(Fault(STATUSES, status=429, headers={"Retry-After": "1"})), P, "rate limit", 1),
    Case("Bluesky 429 with Retry-After: waits, then publishes", "bluesky",
         _inject(Fault(CREATE, status=429, headers={"Retry-After": "1"})), P, "rate limit", 1),
    Case("connect timeout (request never reached the server): bounded retries", "mastodon",
         lambda fake: None, F, "Gave up after 3 attempts", 0, server="blackhole"),
    Case("read timeout, server never handled it: key replay publishes once", "mastodon",
         _inject(Fault(STATUSES, kind="hang", hang_seconds=2)), P, "Confirmed post", 1),
    Case("read timeout after the post was made: found, not repeated", "mastodon",
         _inject(Fault(STATUSES, kind="hang_after", hang_seconds=2)), P, "Confirmed post", 1),
    Case("connection reset before the server handled it", "mastodon",
         _inject(Fault(STATUSES, kind="reset")), P, "Confirmed post", 1),
    Case("connection reset after the record was made: found by its key", "bluesky",
         _inject(Fault(CREATE, kind="reset_after")), P, "Confirmed post", 1),
    Case("failed DNS lookup: nothing sent, bounded retries", "mastodon",
         lambda fake: None, F, "Nothing was sent", 0, server="dns"),
    Case("expired access token: one refresh, then published", "bluesky",
         _expired, P, "Published post", 1, check=_one_refresh),
    Case("revoked token: held, reconnect asked", "mastodon", _revoked, H, "Reconnect", 0),
    Case("refresh impossible (password changed): held, reconnect asked", "bluesky",
         _password_changed, H, "app password", 0),
    Case("slow container (ready within the wait): published once", "threads", _slow(0.5), P, "Published post", 1,
         media="video", check=_one_container),
    Case("container never ready: same container reused, then gives up", "threads", _slow(3600), F,
         "still processing", 0, media="video", tuning=",max_processing_wait=0.05", check=_one_container),
]


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port whose accept queue is full: connections time out before any byte is sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            c.connect(("127.0.0.1", port))
        fillers.append(c)
    yield f"http://127.0.0.1:{port}"
    for c in fillers:
        c.close()
    server.close()


async def _connect(h: EngineHarness, platform: str, fake: Any) -> Any:
    if platform == "mastodon":
        connected = await mastodon_auth.account_from_token(fake.url, fake.issue_token(), tuning=FAST)
    elif platform == "bluesky":
        connected = await bluesky_auth.sign_in(fake.handle, fake.app_password, service=fake.url, tuning=FAST)
    else:
        connected = await threads_auth.account_from_token(fake.issue_token(age=3600), api_base=fake.url, tuning=FAST)
    return h.add_account(connected.platform, connected.handle, server=connected.server,
                         display_name=connected.display_name, settings=connected.settings, secrets=connected.secrets)


def _media(kind: str, tmp_path: Path) -> list[MediaItem]:
    if kind == "png":
        path = tmp_path / "p.png"
        path.write_bytes(PNG_1PX)
        return [MediaItem(str(path), alt_text="a pixel")]
    if kind == "video":
        return [MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)]
    return []


FIGURES: dict[str, Any] = {}


@pytest.mark.parametrize("case", MATRIX, ids=[c.name for c in MATRIX])
async def test_fault(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blackhole: str) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + case.tuning)
    fake: Any = {"mastodon": FakeMastodon, "bluesky": FakeBluesky, "threads": FakeThreads}[case.platform]()
    with fake:
        api = {"threads": fake.url} if case.platform == "threads" else {}
        async with EngineHarness.start(tmp_path, api_base=api) as h:
            account = await _connect(h, case.platform, fake)
            if case.server:
                broken = blackhole if case.server == "blackhole" else "http://outpost-fault.invalid"
                with h.runtime.db.write() as s:
                    s.execute(update(Account).where(Account.id == account.id).values(server=broken))
            case.arrange(fake)
            started = time.monotonic()
            post_id = h.add_post(account, f"fault matrix: {case.name}", media=_media(case.media, tmp_path))
            target = await h.wait_settled(post_id, timeout=20)
            seconds = time.monotonic() - started
            events = [e.message for e in h.planner.events() if e.post_id == post_id or e.post_id is None]
            account_status = h.planner.account(account.id).status
        on_platform = len(fake.published())
        seen = target.last_error if target.status is not TargetStatus.PUBLISHED else " | ".join(events)
        FIGURES[case.name] = {"status": target.status.value, "on_platform": on_platform, "attempts": target.attempts,
                              "seconds": round(seconds, 2), "message": (target.last_error or events[0])[:160]}
        record_figures("fault_matrix", FIGURES)
        assert target.status is case.status, (target.status, target.last_error, events)
        assert case.message in seen, seen
        assert on_platform == case.on_platform
        if case.status is TargetStatus.SCHEDULED:
            assert account_status is AccountStatus.NEEDS_RECONNECT
        if case.name.startswith("429"):
            assert seconds >= 1.0  # Retry-After honoured
        case.check(fake, target)


async def test_a_platform_down_for_minutes_trips_the_breaker_then_catches_up(tmp_path, monkeypatch) -> None:
    """Down (connection refused) -> 5 failures in a row pause the platform with a reason; the
    held posts wait, not fail; when it is back and the pause ends, each publishes once.
    Minutes are compressed: the breaker's cool-down is 1 s here (5 min in the app)."""
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)
    first = FakeMastodon()
    first.start()
    token = first.issue_token()
    port = first.port
    async with EngineHarness.start(tmp_path, max_attempts=20) as h:
        connected = await mastodon_auth.account_from_token(first.url, token, tuning=FAST)
        account = h.add_account(connected.platform, connected.handle, server=connected.server,
                                settings=connected.settings, secrets=connected.secrets)
        first.stop()  # the platform goes down
        h.runtime.publisher.gates.breaker_cooldown = timedelta(seconds=1)
        ids = [h.add_post(account, f"during the outage {i}", in_seconds=0.2) for i in range(4)]
        await h.wait_until(ids[0], lambda p: bool(h.runtime.publisher.state().paused_platforms), timeout=15)
        reason = next(iter(h.runtime.publisher.state().paused_platforms.values()))
        held = [h.target(i).status for i in ids]
        back = FakeMastodon(port=port)
        back.issue_token(token)
        with back:
            targets = [await h.wait_settled(i, timeout=30) for i in ids]
            published = back.published()
    FIGURES["platform down for minutes (breaker)"] = {
        "status": "published" if all(t.status is TargetStatus.PUBLISHED for t in targets) else "mixed",
        "on_platform": len(published), "attempts": max(t.attempts for t in targets), "message": reason}
    record_figures("fault_matrix", FIGURES)
    assert "failed 5 times in a row; paused" in reason
    assert TargetStatus.FAILED not in held
    assert all(t.status is TargetStatus.PUBLISHED for t in targets)
    assert sorted(p["text"] for p in published) == [f"during the outage {i}" for i in range(4)]


async def test_an_outcome_proved_unpublished_every_time_fails_with_that_reason_not_review(tmp_path) -> None:
    """The platform says "not there" after each unclear answer: when the attempts run out the post
    failed, and the person is told it was not published (nothing to check on the platform)."""
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "flaky", settings={"fail": "unknown"})
        target = await h.wait_settled(h.add_post(account, "never arrives"), timeout=15)
    assert target.status is TargetStatus.FAILED, target.last_error
    assert "was not published" in target.last_error and "could not confirm" not in target.last_error
    assert target.attempts == 3
