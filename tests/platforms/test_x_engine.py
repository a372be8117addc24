"""X through the real engine (SQLite file, timers, journal) to the fake X API: the final status,
the fake's own count of posts, and the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth.x import account_from_tokens
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX
from tests.fakes.x import FakeX

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)
    add_post = EngineHarness.add_post  # posts due in 0.1 s instead of 0.5 s keep the suite short
    monkeypatch.setattr(EngineHarness, "add_post",
                        lambda self, *args, **kw: add_post(self, *args, **{"in_seconds": 0.1, **kw}))


@pytest.fixture
def x_fake() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, x_fake: FakeX) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"x": x_fake.url}) as h:
        yield h


async def _x(h: EngineHarness, fake: FakeX, *, expires_in: float | None = None) -> AccountView:
    c = await account_from_tokens(fake.issue_tokens(expires_in=expires_in), fake.client_id, api_base=fake.url,
                                  tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


def _file(tmp_path: Path, name: str, data: bytes, kind: MediaKind = MediaKind.IMAGE) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(str(path), kind=kind)


@pytest.mark.parametrize("what", ["text", "images", "video"])
async def test_x_every_content_type_is_published_once_with_its_first_comment(engine, x_fake, tmp_path, what) -> None:
    media = {"text": [], "images": [_file(tmp_path, f"{i}.png", PNG_1PX) for i in range(4)],
             "video": [_file(tmp_path, "v.mp4", b"\0" * 5000, MediaKind.VIDEO)]}[what]
    account = await _x(engine, x_fake)
    target = await engine.wait_settled(engine.add_post(account, f"X {what}", media=media, first_comment="more"))
    assert target.status is TargetStatus.PUBLISHED
    [tweet] = x_fake.published()
    assert target.external_id == tweet["id"] and target.external_url.endswith(f"/status/{tweet['id']}")
    assert len(tweet["media_ids"]) == len(media)
    assert [r["in_reply_to"] for r in x_fake.replies()] == [tweet["id"]]


async def test_x_lost_answer_is_found_among_recent_posts(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "exactly once"))
    assert target.status is TargetStatus.PUBLISHED and len(x_fake.published()) == 1
    assert target.external_id == x_fake.published()[0]["id"]


async def test_x_duplicate_after_an_unknown_attempt_goes_to_review_as_probably_published(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.timeline_lag = 60  # the timeline does not show it yet, so the engine tries again
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "did it go?"))
    assert target.status is TargetStatus.NEEDS_REVIEW
    assert "probably published" in target.last_error and "cannot tell whether it went out" in target.last_error
    assert "mark it published or publish it again" in target.last_error  # what to do, said once
    assert len(x_fake.published()) == 1 and target.attempts == 2


async def test_x_connection_reset_before_arrival_is_retried_once(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.inject(Fault("/2/tweets", kind="reset"))
    target = await engine.wait_settled(engine.add_post(account, "reset"))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2 and len(x_fake.published()) == 1


async def test_x_server_error_after_creation_is_reconciled_without_a_duplicate(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.inject(Fault("/2/tweets", kind="status_after", status=503))
    target = await engine.wait_settled(engine.add_post(account, "503 but there"))
    assert target.status is TargetStatus.PUBLISHED and len(x_fake.published()) == 1


async def test_x_without_read_access_an_unclear_answer_goes_to_review(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.timeline_readable = False
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "unclear"))
    assert target.status is TargetStatus.NEEDS_REVIEW and "Check" in target.last_error
    assert len(x_fake.published()) == 1


async def test_x_rate_limit_waits_for_the_reset_then_publishes(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.inject(Fault("/2/tweets", status=429, headers=x_fake.rate_headers(remaining=0, reset_in=2)))
    target = await engine.wait_settled(engine.add_post(account, "patiently"), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(x_fake.published()) == 1
    assert any("rate limit" in e.message for e in engine.planner.events())


async def test_x_slow_video_processing_is_retried_without_a_second_upload(engine, x_fake, tmp_path,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.1")
    x_fake.processing_seconds = 0.3
    account = await _x(engine, x_fake)
    video = _file(tmp_path, "v.mp4", b"\1" * 3000, MediaKind.VIDEO)
    target = await engine.wait_settled(engine.add_post(account, "slow video", media=[video]))
    assert target.status is TargetStatus.PUBLISHED and target.attempts >= 2
    assert len(x_fake.media) == 1 and len(x_fake.published()) == 1


async def test_x_expired_access_token_is_renewed_transparently(engine, x_fake) -> None:
    account = await _x(engine, x_fake, expires_in=30)
    target = await engine.wait_settled(engine.add_post(account, "renewed"))
    assert target.status is TargetStatus.PUBLISHED and x_fake.refreshes == 1


async def test_x_revoked_sign_in_holds_the_post_and_asks_for_reconnection(engine, x_fake) -> None:
    account = await _x(engine, x_fake)
    x_fake.expire_access_tokens()
    x_fake.refresh_tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED and "Reconnect" in target.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert x_fake.published() == []
