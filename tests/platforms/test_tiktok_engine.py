"""TikTok through the real engine (SQLite file, timers, journal) to the fake Content Posting API:
the final status, the fake's own count of posts, and the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth.tiktok import account_from_tokens
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.server import Fault
from tests.fakes.support import FAST
from tests.fakes.tiktok import FakeTikTok

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)
    add_post = EngineHarness.add_post  # posts due in 0.1 s instead of 0.5 s keep the suite short
    monkeypatch.setattr(EngineHarness, "add_post",
                        lambda self, *args, **kw: add_post(self, *args, **{"in_seconds": 0.1, **kw}))


@pytest.fixture
def tiktok_fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, tiktok_fake: FakeTikTok) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"tiktok": tiktok_fake.url}) as h:
        yield h


async def _tiktok(h: EngineHarness, fake: FakeTikTok, **settings: object) -> AccountView:
    c = await account_from_tokens(fake.issue_tokens(), fake.client_key, fake.client_secret, api_base=fake.url,
                                  tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings={**c.settings, **settings},
                         secrets=c.secrets)


def _video(tmp_path: Path, size: int = 4000) -> list[MediaItem]:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\7" * size)
    return [MediaItem(str(path), kind=MediaKind.VIDEO)]


async def test_tiktok_unaudited_video_is_published_privately_and_the_reason_shown(engine, tiktok_fake,
                                                                                 tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    target = await engine.wait_settled(engine.add_post(account, "clip", media=_video(tmp_path)))
    assert target.status is TargetStatus.PUBLISHED
    [post] = tiktok_fake.published()
    assert post["privacy"] == "SELF_ONLY" and target.external_id == post["publish_id"]
    assert "visible only to you" in target.last_error
    assert any("visible only to you" in e.message for e in engine.planner.events())


async def test_tiktok_audited_video_is_public_with_its_post_link(engine, tiktok_fake, tmp_path) -> None:
    tiktok_fake.audited = True
    account = await _tiktok(engine, tiktok_fake, audited=True, privacy_level="PUBLIC_TO_EVERYONE")
    target = await engine.wait_settled(engine.add_post(account, "public clip", media=_video(tmp_path)))
    [post] = tiktok_fake.published()
    assert target.status is TargetStatus.PUBLISHED and target.external_id == post["post_id"]
    assert target.external_url.endswith(f"/video/{post['post_id']}") and not target.last_error


async def test_tiktok_lost_answer_on_the_upload_is_confirmed_by_publish_id(engine, tiktok_fake, tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.inject(Fault(r"/upload/.*", method="PUT", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "once", media=_video(tmp_path)))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 1
    assert len(tiktok_fake.published()) == 1 and len(tiktok_fake.publishes) == 1


async def test_tiktok_reset_before_the_upload_arrived_is_retried_once(engine, tiktok_fake, tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.inject(Fault(r"/upload/.*", method="PUT", kind="reset"))
    target = await engine.wait_settled(engine.add_post(account, "again", media=_video(tmp_path)))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2
    assert len(tiktok_fake.published()) == 1 and len(tiktok_fake.completed_uploads()) == 1


async def test_tiktok_still_processing_after_an_unclear_answer_goes_to_review(engine, tiktok_fake, tmp_path,
                                                                             monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.1")
    tiktok_fake.processing_seconds = 30
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.inject(Fault(r"/upload/.*", method="PUT", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "slow", media=_video(tmp_path)))
    assert target.status is TargetStatus.NEEDS_REVIEW and "cannot tell whether it went out" in target.last_error
    assert "mark it published or publish it again" in target.last_error  # what to do, said once
    assert len(tiktok_fake.completed_uploads()) == 1 and tiktok_fake.published() == []
    assert tiktok_fake.calls_to("/v2/post/publish/status/fetch/") >= 1  # it asked TikTok before giving up


async def test_tiktok_slow_processing_is_waited_for_without_a_second_upload(engine, tiktok_fake, tmp_path,
                                                                           monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.1")
    tiktok_fake.processing_seconds = 0.3
    account = await _tiktok(engine, tiktok_fake)
    target = await engine.wait_settled(engine.add_post(account, "patience", media=_video(tmp_path)))
    assert target.status is TargetStatus.PUBLISHED and target.attempts >= 2
    assert len(tiktok_fake.publishes) == 1 and len(tiktok_fake.published()) == 1


async def test_tiktok_rate_limit_waits_then_publishes(engine, tiktok_fake, tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.inject(Fault("/v2/post/publish/video/init/", status=429, headers={"Retry-After": "1"}))
    target = await engine.wait_settled(engine.add_post(account, "later", media=_video(tmp_path)), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(tiktok_fake.published()) == 1


async def test_tiktok_server_error_on_status_is_retried_without_a_second_upload(engine, tiktok_fake,
                                                                               tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.inject(Fault("/v2/post/publish/status/fetch/", status=500))
    target = await engine.wait_settled(engine.add_post(account, "5xx", media=_video(tmp_path)))
    assert target.status is TargetStatus.PUBLISHED
    assert len(tiktok_fake.publishes) == 1 and len(tiktok_fake.published()) == 1


async def test_tiktok_failed_processing_fails_with_tiktoks_reason(engine, tiktok_fake, tmp_path) -> None:
    tiktok_fake.moderation_fails = "duration_check_failed"
    account = await _tiktok(engine, tiktok_fake)
    target = await engine.wait_settled(engine.add_post(account, "too long", media=_video(tmp_path)))
    assert target.status is TargetStatus.FAILED and "duration_check_failed" in target.last_error


async def test_tiktok_expired_sign_in_is_renewed_and_a_dead_one_asks_for_reconnection(engine, tiktok_fake,
                                                                                     tmp_path) -> None:
    account = await _tiktok(engine, tiktok_fake)
    tiktok_fake.expire_access_tokens()
    first = await engine.wait_settled(engine.add_post(account, "renewed", media=_video(tmp_path)))
    assert first.status is TargetStatus.PUBLISHED and tiktok_fake.refreshes == 1
    tiktok_fake.expire_access_tokens()
    tiktok_fake.refresh_tokens.clear()
    held = await engine.wait_settled(engine.add_post(account, "held", media=_video(tmp_path)))
    assert held.status is TargetStatus.SCHEDULED and "Reconnect" in held.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert len(tiktok_fake.publishes) == 1
