"""The Facebook Page adapter against the fake Graph API: every content type from local files,
native scheduling, throttling, reconciliation through the Page feed, tokens and connecting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.auth.facebook import FacebookBrowserSignIn, account_from_token
from app.auth.pkce import StateMismatch
from app.auth.secrets import KeyringSecrets
from app.core.errors import OutpostError, PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.facebook import FacebookAdapter
from tests.fakes.facebook import FakeFacebook
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, context, job

VIDEO = bytes(range(256)) * 40


@pytest.fixture
def fb() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


def _account(fake: FakeFacebook, *, expires_at: str = "") -> AccountInfo:
    KeyringSecrets().put(51, {"access_token": fake.issue_page_token(), "expires_at": expires_at})
    return AccountInfo(51, Platform.FACEBOOK, fake.page_name, settings={"page_id": fake.page_id})


@pytest.fixture
def account(fb: FakeFacebook) -> AccountInfo:
    return _account(fb)


@pytest.fixture
async def adapter(tmp_path: Path, fb: FakeFacebook) -> AsyncIterator[FacebookAdapter]:
    a = FacebookAdapter(context(tmp_path, api_base={"facebook": fb.url}), tuning=FAST)
    yield a
    await a.aclose()


def _photo(tmp_path: Path, name: str = "p.png", alt: str = "") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text=alt)


def _video(tmp_path: Path) -> MediaItem:
    path = tmp_path / "v.mp4"
    path.write_bytes(VIDEO)
    return MediaItem(str(path), kind=MediaKind.VIDEO, mime_type="video/mp4")


def _feed(fb: FakeFacebook) -> str:
    return rf"/v26.0/{fb.page_id}/feed"


# ---- content types ----------------------------------------------------------------------------

async def test_a_text_post_with_a_link(adapter, account, fb) -> None:
    result = await adapter.publish(job(account, PostContent("New menu: https://bakery.example/menu.")), MemoryJournal())
    [post] = fb.published()
    assert post["kind"] == "status" and post["link"] == "https://bakery.example/menu"
    assert result.external_id == post["id"] and result.url.endswith(post["id"])


async def test_a_local_photo_is_uploaded_as_multipart_source(adapter, account, fb, tmp_path) -> None:
    result = await adapter.publish(job(account, PostContent("Fresh bread", media=(_photo(tmp_path, alt="loaf"),))),
                                   MemoryJournal())
    [post] = fb.published()
    [photo_id] = post["photo_ids"]
    assert post["kind"] == "photo" and post["message"] == "Fresh bread" and result.external_id == post["id"]
    assert fb.photos[photo_id]["size"] == len(PNG_1PX) and fb.photos[photo_id]["alt"] == "loaf"


async def test_a_photo_at_an_address_is_passed_as_url(adapter, account, fb) -> None:
    await adapter.publish(job(account, PostContent("cdn", media=(MediaItem("https://cdn.example.com/a.jpg"),))),
                          MemoryJournal())
    [post] = fb.published()
    assert fb.photos[post["photo_ids"][0]]["url"] == "https://cdn.example.com/a.jpg"


async def test_several_photos_become_one_post_through_unpublished_photos(adapter, account, fb, tmp_path) -> None:
    media = tuple(_photo(tmp_path, f"{i}.png") for i in range(3))
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("Three loaves", media=media)), journal)
    [post] = fb.published()
    assert post["kind"] == "photos" and len(post["photo_ids"]) == 3
    assert journal.steps["photo_ids"].split(",") == post["photo_ids"]
    assert all(not fb.photos[p]["published"] for p in post["photo_ids"])


async def test_a_local_video_is_uploaded_with_its_description(adapter, account, fb, tmp_path) -> None:
    result = await adapter.publish(job(account, PostContent("Watch us bake", media=(_video(tmp_path),))),
                                   MemoryJournal())
    [post] = fb.published()
    assert post["kind"] == "video" and post["size"] == len(VIDEO) and post["message"] == "Watch us bake"
    assert result.external_id == post["video_id"]


async def test_the_first_comment_is_posted_under_the_post(adapter, account, fb) -> None:
    await adapter.publish(job(account, PostContent("hello", first_comment="Order online")), MemoryJournal())
    [post] = fb.published()
    assert [(c["post_id"], c["message"]) for c in fb.comments] == [(post["id"], "Order online")]


# ---- native scheduling ---------------------------------------------------------------------------

async def test_a_native_schedule_hands_the_post_over_unpublished(adapter, account, fb, tmp_path) -> None:
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    content = PostContent("Opening soon", media=(_photo(tmp_path, "a.png"), _photo(tmp_path, "b.png")))
    result = await adapter.publish(job(account, content, native_schedule_at=at), MemoryJournal())
    [post] = fb.scheduled()
    assert result.natively_scheduled and result.external_id == post["id"]
    assert post["scheduled_publish_time"] == int(at.timestamp()) and fb.published() == []
    assert all(fb.photos[p]["temporary"] for p in post["photo_ids"])


async def test_a_scheduled_video_and_too_soon_for_a_handoff(adapter, account, fb, tmp_path) -> None:
    at = datetime.now(UTC) + timedelta(hours=1)
    await adapter.publish(job(account, PostContent("later", media=(_video(tmp_path),)), native_schedule_at=at),
                          MemoryJournal())
    soon = datetime.now(UTC) + timedelta(minutes=5)
    result = await adapter.publish(job(account, PostContent("now"), native_schedule_at=soon), MemoryJournal())
    assert len(fb.scheduled()) == 1 and fb.scheduled()[0]["kind"] == "video"
    assert not result.natively_scheduled and [p["message"] for p in fb.published()] == ["now"]


async def test_too_far_ahead_is_a_refused_handoff_that_creates_nothing(adapter, account, fb) -> None:
    far = datetime.now(UTC) + timedelta(days=40)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("far"), native_schedule_at=far), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and fb.posts == []


# ---- throttling and errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("code", [4, 17, 32, 613])
async def test_throttling_codes_wait_as_long_as_the_usage_header_says(adapter, account, fb, code) -> None:
    usage = json.dumps({fb.page_id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]})
    fb.inject(Fault(_feed(fb), status=400, headers={"X-Business-Use-Case-Usage": usage}, body={"error": {
        "message": "(#32) Page request limit reached", "type": "OAuthException", "code": code}}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("busy")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 12 * 60
    assert fb.posts == []


async def test_a_used_up_page_budget_is_noticed_before_posting(adapter, account, fb) -> None:
    fb.page_usage = {"call_count": 100, "total_cputime": 20, "total_time": 30}
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("busy")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and fb.posts == []


async def test_a_policy_refusal_is_permanent_with_metas_message(adapter, account, fb) -> None:
    fb.inject(Fault(_feed(fb), status=400, body={"error": {"message": "(#368) The action attempted has been deemed "
                                                           "abusive", "code": 368, "type": "OAuthException"}}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("x")), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "abusive" in caught.value.message


# ---- unknown outcomes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["hang_after", "reset_after"])
async def test_a_lost_answer_is_found_in_the_page_feed(adapter, account, fb, fault) -> None:
    fb.inject(Fault(_feed(fb), kind=fault, hang_seconds=5))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("did it go?")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    outcome = await adapter.reconcile(job(account, PostContent("did it go?"), checkpoints=journal.steps))
    [post] = fb.published()
    assert outcome.status is ReconcileStatus.PUBLISHED and outcome.external_id == post["id"]


async def test_a_lost_video_answer_is_found_among_the_pages_videos(adapter, account, fb, tmp_path) -> None:
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/videos", kind="hang_after", hang_seconds=5))
    journal = MemoryJournal()
    content = PostContent("video?", media=(_video(tmp_path),))
    with pytest.raises(PublishError):
        await adapter.publish(job(account, content), journal)
    outcome = await adapter.reconcile(job(account, content, checkpoints=journal.steps))
    assert outcome.status is ReconcileStatus.PUBLISHED and outcome.external_id == fb.posts[0]["video_id"]


async def test_a_post_not_in_the_feed_after_a_server_error_goes_to_review(adapter, account, fb) -> None:
    fb.inject(Fault(_feed(fb), status=500))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("unclear")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    outcome = await adapter.reconcile(job(account, PostContent("unclear"), checkpoints=journal.steps))
    assert outcome.status is ReconcileStatus.UNKNOWN and "check the Page" in outcome.detail


async def test_nothing_sent_reconciles_as_not_published(adapter, account, fb, tmp_path) -> None:
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/photos", status=503))
    journal = MemoryJournal()
    media = (_photo(tmp_path, "a.png"), _photo(tmp_path, "b.png"))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("two", media=media)), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert (await adapter.reconcile(job(account, PostContent("two", media=media), checkpoints=journal.steps))
            ).status is ReconcileStatus.NOT_PUBLISHED


async def test_a_retry_reuses_the_journaled_unpublished_photos(adapter, account, fb, tmp_path) -> None:
    fb.inject(Fault(_feed(fb), status=400, body={"error": {"message": "Temporarily unavailable", "code": 1}}))
    media = (_photo(tmp_path, "a.png"), _photo(tmp_path, "b.png"))
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, PostContent("two", media=media)), journal)
    await adapter.publish(job(account, PostContent("two", media=media), checkpoints=journal.steps), MemoryJournal())
    assert len(fb.photos) == 2 and len(fb.published()) == 1


# ---- tokens and connecting ---------------------------------------------------------------------------

async def test_an_expiring_page_token_is_reminded_and_an_expired_one_asks_for_reconnection(tmp_path, fb) -> None:
    adapter = FacebookAdapter(context(tmp_path, api_base={"facebook": fb.url}), tuning=FAST)
    soon = _account(fb, expires_at=(datetime.now(UTC) + timedelta(days=3)).isoformat())
    result = await adapter.publish(job(soon, PostContent("reminded")), MemoryJournal())
    assert any("reconnect the account" in w for w in result.warnings)
    gone = _account(fb, expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(gone, PostContent("late")), MemoryJournal())
    await adapter.aclose()
    assert caught.value.kind is ErrorKind.AUTH and len(fb.posts) == 1


async def test_a_revoked_page_token_is_an_auth_failure(adapter, account, fb) -> None:
    fb.page_tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("x")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and fb.posts == []


async def test_a_pasted_user_token_picks_the_page_and_keeps_its_token(fb) -> None:
    connected = await account_from_token(fb.issue_user_token(), api_base=fb.url, tuning=FAST)
    assert connected.settings == {"page_id": fb.page_id} and connected.handle == fb.page_name
    assert connected.secrets["access_token"] in fb.page_tokens and connected.secrets["expires_at"] == ""
    with pytest.raises(OutpostError, match="cannot post to the Page"):
        await account_from_token(fb.issue_user_token(), page="Someone else's", api_base=fb.url, tuning=FAST)


async def test_a_pasted_page_token_is_used_as_it_is(fb) -> None:
    token = fb.issue_page_token()
    connected = await account_from_token(token, api_base=fb.url, tuning=FAST)
    assert connected.secrets["access_token"] == token and connected.settings == {"page_id": fb.page_id}


async def test_signing_in_by_pasting_the_browsers_address(fb) -> None:
    sign_in = FacebookBrowserSignIn(fb.app_id, fb.app_secret, "https://127.0.0.1:8443/callback/facebook",
                                    api_base=fb.url, authorize_url=f"{fb.url}/v26.0/dialog/oauth", tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(sign_in.authorization_url)).headers["location"]
    with pytest.raises(StateMismatch):
        await sign_in.finish(landing.replace(sign_in.pending.state, "forged"))
    connected = await sign_in.finish(landing)
    assert connected.secrets["access_token"] in fb.page_tokens and connected.secrets["app_secret"] == fb.app_secret
    assert connected.settings == {"page_id": fb.page_id, "app_id": fb.app_id}


def test_compose_time_rules(adapter, account, tmp_path) -> None:
    assert any("at most 10" in p.message for p in adapter.validate(
        PostContent("x", media=tuple(MediaItem(f"https://c.example/{i}.jpg") for i in range(11))), account))
    mixed = PostContent("x", media=(MediaItem("https://c.example/a.jpg"), _video(tmp_path)))
    assert any("cannot mix" in p.message for p in adapter.validate(mixed, account))
    assert any("was not found" in p.message for p in adapter.validate(
        PostContent("x", media=(MediaItem(str(tmp_path / "gone.png")),)), account))
    assert adapter.validate(PostContent("x", media=(_photo(tmp_path),)), account) == []
