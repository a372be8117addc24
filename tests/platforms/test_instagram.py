"""The Instagram adapter against the fake Graph API: containers, not-ready retries, the media
host for local files, quotas and usage headers, tokens, reconciliation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.auth.instagram import InstagramBrowserSignIn, account_from_token
from app.auth.pkce import StateMismatch
from app.auth.secrets import KeyringSecrets
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.instagram import InstagramAdapter, token_values
from app.platforms.mediahost import MediaHostConfig, save_config
from tests.fakes.instagram import FakeInstagram
from tests.fakes.s3 import FakeS3
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, context, job
from tests.fakes.threads import DAY

IMG = "https://cdn.example.com/a.jpg"
VID = "https://cdn.example.com/v.mp4"


@pytest.fixture
def ig() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        yield fake


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as fake:
        yield fake


def _account(fake: FakeInstagram, *, age: float = 2 * 3600, settings: dict[str, object] | None = None) -> AccountInfo:
    issued = datetime.now(UTC) - timedelta(seconds=age)
    KeyringSecrets().put(31, token_values(fake.issue_token(age=age), issued, None))
    return AccountInfo(31, Platform.INSTAGRAM, fake.username, settings={"user_id": fake.user_id, **(settings or {})})


@pytest.fixture
def account(ig: FakeInstagram) -> AccountInfo:
    return _account(ig)


@pytest.fixture
async def adapter(tmp_path: Path, ig: FakeInstagram) -> AsyncIterator[InstagramAdapter]:
    a = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}), tuning=FAST)
    yield a
    await a.aclose()


def _publish_path(fake: FakeInstagram) -> str:
    return rf"/v26.0/{fake.user_id}/media_publish"


def _local_png(tmp_path: Path, name: str = "photo.jpg") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text="a pixel")


def _use_media_host(tmp_path: Path, s3: FakeS3) -> None:
    config = MediaHostConfig(endpoint=s3.url, bucket=s3.bucket, public_base_url=s3.public_base_url, region=s3.region)
    save_config(tmp_path, config, s3.access_key_id, s3.secret_access_key)


# ---- content types ----------------------------------------------------------------------------

async def test_an_image_post_goes_through_one_journaled_container(adapter, account, ig) -> None:
    journal = MemoryJournal()
    content = PostContent("Hello Instagram", media=(MediaItem(IMG, alt_text="alt"),))
    result = await adapter.publish(job(account, content), journal)
    [post] = ig.published()
    container = ig.containers[post["container_id"]]
    assert post["caption"] == "Hello Instagram" and container["media_type"] == "IMAGE"
    assert container["url"] == IMG and container["alt_text"] == "alt"
    assert journal.steps["container_id"] == post["container_id"]
    assert result.external_id == post["id"] and result.url == post["permalink"]
    assert ig.calls_to(rf"/v26.0/{ig.user_id}/content_publishing_limit", "GET") == 1


async def test_a_reel_waits_for_processing_and_is_shared_to_the_feed(adapter, account, ig) -> None:
    ig.ready_after = 0.1
    content = PostContent("A reel", media=(MediaItem(VID, kind=MediaKind.VIDEO),))
    await adapter.publish(job(account, content), MemoryJournal())
    [post] = ig.published()
    assert post["media_type"] == "REELS" and ig.containers[post["container_id"]]["url"] == VID
    assert ig.calls_to(rf"/v26.0/{post['container_id']}", "GET") >= 2


async def test_a_carousel_of_images_and_a_video_is_one_post(adapter, account, ig) -> None:
    ig.ready_after = 0.05
    media = (MediaItem(IMG), MediaItem("https://cdn.example.com/b.jpg"), MediaItem(VID, kind=MediaKind.VIDEO))
    await adapter.publish(job(account, PostContent("Three", media=media)), MemoryJournal())
    [post] = ig.published()
    assert post["media_type"] == "CAROUSEL" and len(post["children"]) == 3
    kinds = [ig.containers[c]["media_type"] for c in post["children"]]
    assert kinds == ["IMAGE", "IMAGE", "VIDEO"] and all(ig.containers[c]["is_carousel_item"] for c in post["children"])


async def test_the_first_comment_is_posted_under_the_media(adapter, account, ig) -> None:
    await adapter.publish(job(account, PostContent("c", media=(MediaItem(IMG),), first_comment="#tags")),
                          MemoryJournal())
    [post] = ig.published()
    assert ig.comments == [{"id": ig.comments[0]["id"], "media_id": post["id"], "message": "#tags"}]


def test_text_without_media_and_eleven_items_are_compose_time_problems(adapter, account) -> None:
    assert any("needs at least one" in p.message for p in adapter.validate(PostContent("just text"), account))
    many = tuple(MediaItem(f"https://cdn.example.com/{i}.jpg") for i in range(11))
    assert any("at most 10" in p.message for p in adapter.validate(PostContent("x", media=many), account))


# ---- local files and the media host -------------------------------------------------------------

async def test_a_local_file_without_a_media_host_points_at_the_setting(adapter, account, ig, tmp_path) -> None:
    content = PostContent("local", media=(_local_png(tmp_path),))
    [problem] = [p for p in adapter.validate(content, account) if p.field == "media"]
    assert "media host" in problem.message and "Accounts › Instagram › Media host" in problem.message
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and ig.containers == {}


async def test_a_local_file_goes_through_the_media_host_and_is_deleted_after(adapter, account, ig, s3, tmp_path) -> None:
    _use_media_host(tmp_path, s3)
    content = PostContent("hosted", media=(_local_png(tmp_path),))
    assert adapter.validate(content, account) == []
    journal = MemoryJournal()
    await adapter.publish(job(account, content), journal)
    [post] = ig.published()
    [(key, url)] = json.loads(journal.steps["hosted"]).values()
    assert ig.containers[post["container_id"]]["url"] == url and ig.fetched == [url]
    assert url.startswith(s3.public_base_url) and s3.deleted == [key] and s3.objects == {}
    assert s3.rejected == []


async def test_an_account_can_opt_out_of_the_media_host(adapter, ig, s3, tmp_path) -> None:
    _use_media_host(tmp_path, s3)
    account = _account(ig, settings={"media_host": False})
    problems = adapter.validate(PostContent("x", media=(_local_png(tmp_path),)), account)
    assert any("media host" in p.message for p in problems)


async def test_a_retry_reuses_the_journaled_upload(adapter, account, ig, s3, tmp_path) -> None:
    _use_media_host(tmp_path, s3)
    ig.inject(Fault(rf"/v26.0/{ig.user_id}/media", status=503))
    content = PostContent("hosted twice", media=(_local_png(tmp_path),))
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, content), journal)
    assert len(s3.objects) == 1
    await adapter.publish(job(account, content, checkpoints=journal.steps, attempt_id=2), MemoryJournal())
    assert s3.calls_to(r"/outpost-media/.+", "PUT") == 1 and len(ig.published()) == 1 and s3.objects == {}


async def test_an_address_instagram_cannot_fetch_is_a_permanent_failure(adapter, account, ig, s3) -> None:
    missing = MediaItem(f"{s3.public_base_url}/nothing-here.jpg")
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("404", media=(missing,))), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "2207052" in caught.value.message


# ---- containers: not ready, expired, errors ---------------------------------------------------------

async def test_not_ready_twice_then_published_once_without_a_new_container(adapter, account, ig) -> None:
    ig.not_ready_publishes = 2
    await adapter.publish(job(account, PostContent("patience", media=(MediaItem(IMG),))), MemoryJournal())
    assert len(ig.published()) == 1 and len(ig.containers) == 1
    assert ig.calls_to(_publish_path(ig)) == 3


async def test_not_ready_for_too_long_is_transient_and_publishes_nothing(adapter, account, ig) -> None:
    ig.not_ready_publishes = 99
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("never", media=(MediaItem(IMG),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.TRANSIENT and ig.published() == []


async def test_an_expired_container_is_replaced_and_never_published(adapter, account, ig) -> None:
    ig.expire_new_containers = 1
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("fresh", media=(MediaItem(IMG),))), journal)
    [post] = ig.published()
    stale = [c for c, v in ig.containers.items() if v["forced"] == "EXPIRED"]
    assert len(stale) == 1 and post["container_id"] != stale[0]
    assert journal.steps["container_id"] == post["container_id"]


async def test_a_processing_error_is_permanent(adapter, account, ig) -> None:
    ig.processing_error = "Unsupported video format"
    content = PostContent("bad", media=(MediaItem(VID, kind=MediaKind.VIDEO),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "Unsupported video format" in caught.value.message
    assert ig.published() == []


async def test_slow_processing_is_bounded_and_the_next_attempt_reuses_the_container(tmp_path, account, ig) -> None:
    ig.ready_after = 0.5
    adapter = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}),
                               tuning=replace(FAST, max_processing_wait=0.05))
    journal = MemoryJournal()
    content = PostContent("slow", media=(MediaItem(VID, kind=MediaKind.VIDEO),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    ig.ready_after = 0.0
    await adapter.publish(job(account, content, checkpoints=journal.steps), MemoryJournal())
    await adapter.aclose()
    assert len(ig.containers) == 1 and len(ig.published()) == 1


# ---- quotas and throttling ---------------------------------------------------------------------------

async def test_an_exhausted_publishing_quota_waits_without_creating_anything(adapter, account, ig) -> None:
    ig.quota_total = 0
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("over", media=(MediaItem(IMG),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after
    assert ig.containers == {}


async def test_a_used_up_call_budget_in_the_usage_header_waits(adapter, account, ig) -> None:
    ig.app_usage = {"call_count": 100, "total_cputime": 10, "total_time": 12}
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("busy", media=(MediaItem(IMG),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and ig.containers == {}


async def test_a_throttling_code_waits_as_long_as_the_business_usage_header_says(adapter, account, ig) -> None:
    usage = json.dumps({ig.user_id: [{"type": "instagram", "call_count": 100, "total_cputime": 5, "total_time": 5,
                                      "estimated_time_to_regain_access": 7}]})
    ig.inject(Fault(_publish_path(ig), status=400, headers={"X-Business-Use-Case-Usage": usage}, body={"error": {
        "message": "(#80002) There have been too many calls to this Instagram account.", "code": 80002,
        "type": "OAuthException", "fbtrace_id": "x"}}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("throttled", media=(MediaItem(IMG),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 7 * 60
    assert ig.published() == []


async def test_the_daily_limit_reached_at_publish_time_waits_and_keeps_the_container(adapter, account, ig) -> None:
    ig.inject(Fault(_publish_path(ig), status=400, body={"error": {
        "message": "You have reached the maximum number of posts allowed in 24 hours", "code": 9,
        "error_subcode": 2207042, "type": "OAuthException"}}))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("limit", media=(MediaItem(IMG),))), journal)
    assert caught.value.kind is ErrorKind.RATE_LIMIT and ig.published() == []
    await adapter.publish(job(account, PostContent("limit", media=(MediaItem(IMG),)), checkpoints=journal.steps),
                          MemoryJournal())
    assert len(ig.containers) == 1 and len(ig.published()) == 1


# ---- unknown outcomes ------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["hang_after", "reset_after"])
async def test_a_lost_publish_answer_is_reconciled_through_the_status_code(adapter, account, ig, fault) -> None:
    ig.inject(Fault(_publish_path(ig), kind=fault, hang_seconds=5))
    journal = MemoryJournal()
    content = PostContent("did it go?", media=(MediaItem(IMG),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    outcome = await adapter.reconcile(job(account, content, checkpoints=journal.steps))
    [post] = ig.published()
    assert outcome.status is ReconcileStatus.PUBLISHED and outcome.external_id == post["id"]
    again = await adapter.publish(job(account, content, checkpoints=journal.steps, attempt_id=2), MemoryJournal())
    assert again.external_id == post["id"] and len(ig.published()) == 1


async def test_a_server_error_on_publish_reconciles_as_not_published_and_reuses_the_container(
    adapter, account, ig,
) -> None:
    ig.inject(Fault(_publish_path(ig), status=503))
    journal = MemoryJournal()
    content = PostContent("retry", media=(MediaItem(IMG),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    again = job(account, content, checkpoints=journal.steps)
    assert (await adapter.reconcile(again)).status is ReconcileStatus.NOT_PUBLISHED
    await adapter.publish(again, MemoryJournal())
    assert len(ig.containers) == 1 and len(ig.published()) == 1


# ---- tokens and connecting -------------------------------------------------------------------------

async def test_a_week_old_token_is_renewed_before_publishing(tmp_path, ig) -> None:
    account = _account(ig, age=8 * DAY)
    old = KeyringSecrets().get(account.id)
    adapter = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}), tuning=FAST)
    await adapter.publish(job(account, PostContent("renewed", media=(MediaItem(IMG),))), MemoryJournal())
    await adapter.aclose()
    new = KeyringSecrets().get(account.id)
    assert ig.refreshes == 1 and old and new and new["access_token"] != old["access_token"]
    assert datetime.fromisoformat(new["expires_at"]) - datetime.now(UTC) > timedelta(days=59)


async def test_a_token_that_cannot_be_renewed_is_reminded_a_week_before_it_ends(tmp_path, ig) -> None:
    account = _account(ig, age=55 * DAY)
    ig.inject(Fault("/refresh_access_token", method="GET", status=503))
    adapter = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}), tuning=FAST)
    result = await adapter.publish(job(account, PostContent("still works", media=(MediaItem(IMG),))), MemoryJournal())
    await adapter.aclose()
    assert len(ig.published()) == 1 and any("Reconnect the account" in w for w in result.warnings)


async def test_a_token_under_24_hours_old_is_never_sent_for_refresh(adapter, account, ig) -> None:
    await adapter.refresh_credentials(account)
    assert ig.calls_to("/refresh_access_token") == 0


async def test_an_expired_or_revoked_token_asks_for_reconnection(tmp_path, ig) -> None:
    adapter = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}), tuning=FAST)
    old = _account(ig, age=61 * DAY)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(old, PostContent("late", media=(MediaItem(IMG),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH
    fresh = _account(ig)
    ig.tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(fresh, PostContent("revoked", media=(MediaItem(IMG),))), MemoryJournal())
    await adapter.aclose()
    assert caught.value.kind is ErrorKind.AUTH and ig.containers == {}


async def test_a_pasted_token_is_checked_and_renewed_for_a_known_expiry(ig) -> None:
    token = ig.issue_token(age=3 * DAY)
    connected = await account_from_token(token, api_base=ig.url, tuning=FAST)
    assert connected.handle == ig.username and connected.settings == {"user_id": ig.user_id}
    assert connected.secrets["access_token"] != token and ig.refreshes == 1


async def test_signing_in_by_pasting_the_browsers_address(ig) -> None:
    sign_in = InstagramBrowserSignIn(ig.app_id, ig.app_secret, "https://127.0.0.1:8443/callback/instagram",
                                     api_base=ig.url, oauth_base=ig.url, authorize_url=f"{ig.url}/oauth/authorize",
                                     tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(sign_in.authorization_url)).headers["location"]
    with pytest.raises(StateMismatch):
        await sign_in.finish(landing.replace(sign_in.pending.state, "someone-elses-state"))
    connected = await sign_in.finish(landing)
    assert connected.secrets["access_token"] in ig.tokens and connected.secrets["app_secret"] == ig.app_secret
    assert connected.settings == {"user_id": ig.user_id, "app_id": ig.app_id}
