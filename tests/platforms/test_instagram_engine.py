"""Instagram through the real engine (SQLite file, timers, journal) to the fake Graph API and the
fake S3 media host: the final status, the fake's own count of posts, and the message a person sees.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth import instagram as instagram_auth
from app.core.errors import OutpostError
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.platforms.mediahost import MediaHostConfig, save_config
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.instagram import FakeInstagram
from tests.fakes.s3 import FakeS3
from tests.fakes.server import Fault
from tests.fakes.support import FAST, JPEG_1PX

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")
IMG = "https://cdn.example.com/a.jpg"
VID = "https://cdn.example.com/v.mp4"


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)


@pytest.fixture
def ig() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, ig: FakeInstagram) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"instagram": ig.url}) as h:
        yield h


async def _instagram(h: EngineHarness, fake: FakeInstagram) -> AccountView:
    c = await instagram_auth.account_from_token(fake.issue_token(age=3600), api_base=fake.url, tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


@pytest.mark.parametrize("media", [
    [MediaItem(IMG, alt_text="alt")],
    [MediaItem(VID, kind=MediaKind.VIDEO)],
    [MediaItem(IMG), MediaItem(VID, kind=MediaKind.VIDEO)],
], ids=["image", "reel", "carousel"])
async def test_every_content_type_is_published_once_with_its_comment(engine, ig, media) -> None:
    ig.ready_after = 0.05
    account = await _instagram(engine, ig)
    target = await engine.wait_settled(engine.add_post(account, "Instagram post", media=media, first_comment="c"))
    assert target.status is TargetStatus.PUBLISHED
    [post] = ig.published()
    assert target.external_id == post["id"] and target.external_url == post["permalink"]
    assert post["media_type"] == {1: "IMAGE" if media[0].kind is MediaKind.IMAGE else "REELS", 2: "CAROUSEL"}[len(media)]
    assert ig.comments[0]["media_id"] == post["id"]


async def test_not_ready_answers_are_waited_out(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.not_ready_publishes = 2
    target = await engine.wait_settled(engine.add_post(account, "patience", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.PUBLISHED and len(ig.published()) == 1 and len(ig.containers) == 1


async def test_a_lost_publish_answer_is_reconciled_to_one_post(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.inject(Fault(rf"/v26.0/{ig.user_id}/media_publish", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "once", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.PUBLISHED and len(ig.published()) == 1
    assert target.external_id == ig.published()[0]["id"]
    assert any("Confirmed post" in e.message for e in engine.planner.events())


async def test_an_unconfirmable_outcome_goes_to_review_without_a_duplicate(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.inject(Fault(rf"/v26.0/{ig.user_id}/media_publish", kind="hang_after", hang_seconds=3))
    ig.lookup_outage = True
    target = await engine.wait_settled(engine.add_post(account, "unclear", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.NEEDS_REVIEW and "cannot tell whether it went out" in target.last_error
    assert "mark it published or publish it again" in target.last_error  # what to do, said once
    assert len(ig.published()) == 1


async def test_a_server_error_on_the_container_is_retried_then_published(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.inject(Fault(rf"/v26.0/{ig.user_id}/media", status=500))
    target = await engine.wait_settled(engine.add_post(account, "second time", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.PUBLISHED and len(ig.published()) == 1


async def test_a_dead_token_holds_the_post_and_asks_for_reconnection(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "held", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.SCHEDULED and "Reconnect" in target.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert ig.published() == []


async def test_a_throttled_account_waits_then_publishes(engine, ig) -> None:
    account = await _instagram(engine, ig)
    usage = json.dumps({ig.user_id: [{"call_count": 100, "estimated_time_to_regain_access": 0.01}]})
    ig.inject(Fault(rf"/v26.0/{ig.user_id}/media_publish", status=400, headers={"X-Business-Use-Case-Usage": usage},
                    body={"error": {"message": "Too many calls", "code": 4, "type": "OAuthException"}}))
    target = await engine.wait_settled(engine.add_post(account, "patiently", media=[MediaItem(IMG)]), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(ig.published()) == 1
    assert any("rate limit" in e.message for e in engine.planner.events())


async def test_a_local_file_without_a_media_host_is_refused_when_composing(engine, ig, tmp_path) -> None:
    account = await _instagram(engine, ig)
    path = tmp_path / "p.jpg"
    path.write_bytes(JPEG_1PX)
    with pytest.raises(OutpostError, match="media host"):
        engine.add_post(account, "local", media=[MediaItem(str(path))])


async def test_a_local_file_is_published_through_the_media_host(engine, ig, tmp_path) -> None:
    with FakeS3() as s3:
        config = MediaHostConfig(endpoint=s3.url, bucket=s3.bucket, public_base_url=s3.public_base_url,
                                 region=s3.region)
        save_config(engine.data_dir, config, s3.access_key_id, s3.secret_access_key)
        account = await _instagram(engine, ig)
        path = tmp_path / "p.jpg"
        path.write_bytes(JPEG_1PX)
        target = await engine.wait_settled(engine.add_post(account, "from disk", media=[MediaItem(str(path))]))
        assert target.status is TargetStatus.PUBLISHED
        [post] = ig.published()
        assert ig.containers[post["container_id"]]["url"].startswith(s3.public_base_url)
        assert len(s3.deleted) == 1 and s3.objects == {} and s3.rejected == []


async def test_a_processing_error_fails_with_a_message_saying_what_to_check(engine, ig) -> None:
    account = await _instagram(engine, ig)
    ig.processing_error = "Unsupported aspect ratio"
    target = await engine.wait_settled(engine.add_post(account, "odd shape", media=[MediaItem(IMG)]))
    assert target.status is TargetStatus.FAILED and ig.published() == []
    assert "could not process the media" in target.last_error and "Unsupported aspect ratio" in target.last_error
