"""The Threads adapter against the fake Graph API: containers, not-ready retries, tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.auth.pkce import StateMismatch
from app.auth.secrets import KeyringSecrets
from app.auth.threads import ThreadsBrowserSignIn, account_from_token
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.threads import ThreadsAdapter, token_values
from tests.fakes.server import Fault
from tests.fakes.support import FAST, MemoryJournal, context, job
from tests.fakes.threads import DAY, FakeThreads

IMG = "https://cdn.example.com/a.jpg"


def _account(fake: FakeThreads, *, age: float = 2 * 3600) -> AccountInfo:
    issued = datetime.now(UTC) - timedelta(seconds=age)
    KeyringSecrets().put(21, token_values(fake.issue_token(age=age), issued, None))
    return AccountInfo(21, Platform.THREADS, fake.username, settings={"user_id": fake.user_id})


@pytest.fixture
def account(threads_fake: FakeThreads) -> AccountInfo:
    return _account(threads_fake)


@pytest.fixture
async def adapter(tmp_path: Path, threads_fake: FakeThreads):  # type: ignore[no-untyped-def]
    a = ThreadsAdapter(context(tmp_path, api_base={"threads": threads_fake.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_a_text_post_goes_through_one_journaled_container(adapter, account, threads_fake) -> None:
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("Hello Threads")), journal)
    [post] = threads_fake.published()
    assert post["text"] == "Hello Threads" and post["media_type"] == "TEXT"
    assert journal.steps["container_id"] == post["container_id"]
    assert result.external_id == post["id"] and result.url == post["permalink"]
    assert threads_fake.calls_to(rf"/v1.0/{threads_fake.user_id}/threads_publishing_limit", "GET") == 1


@pytest.mark.parametrize("kind", [MediaKind.IMAGE, MediaKind.VIDEO])
async def test_single_media_posts_wait_for_processing(adapter, account, threads_fake, kind) -> None:
    threads_fake.ready_after = 0.1
    media = MediaItem(IMG if kind is MediaKind.IMAGE else "https://cdn.example.com/v.mp4", kind=kind, alt_text="alt")
    await adapter.publish(job(account, PostContent("Media", media=(media,))), MemoryJournal())
    [post] = threads_fake.published()
    assert post["media_type"] == kind.value.upper()
    container = threads_fake.containers[post["container_id"]]
    assert container["url"] == media.source and container["alt_text"] == "alt"


async def test_a_carousel_publishes_its_children_as_one_post(adapter, account, threads_fake) -> None:
    threads_fake.ready_after = 0.05
    media = tuple(MediaItem(f"https://cdn.example.com/{i}.jpg") for i in range(3))
    await adapter.publish(job(account, PostContent("Three", media=media)), MemoryJournal())
    [post] = threads_fake.published()
    assert post["media_type"] == "CAROUSEL" and len(post["children"]) == 3
    assert all(threads_fake.containers[c]["is_carousel_item"] for c in post["children"])


async def test_a_local_file_is_a_compose_time_problem(adapter, account) -> None:
    local = MediaItem("/home/me/photo.jpg")
    problems = adapter.validate(PostContent("x", media=(local,)), account)
    assert any("public web address" in p.message for p in problems)


async def test_not_ready_twice_then_published_once_without_a_new_container(adapter, account, threads_fake) -> None:
    threads_fake.not_ready_publishes = 2
    await adapter.publish(job(account, PostContent("patience")), MemoryJournal())
    assert len(threads_fake.published()) == 1
    assert len(threads_fake.containers) == 1
    assert threads_fake.calls_to(rf"/v1.0/{threads_fake.user_id}/threads_publish") == 3


async def test_not_ready_for_too_long_is_transient_and_publishes_nothing(adapter, account, threads_fake) -> None:
    threads_fake.not_ready_publishes = 99
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("never ready")), MemoryJournal())
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert threads_fake.published() == []


async def test_an_expired_container_is_replaced_and_never_published(adapter, account, threads_fake) -> None:
    threads_fake.expire_new_containers = 1
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("fresh container")), journal)
    [post] = threads_fake.published()
    stale = [c for c, v in threads_fake.containers.items() if v["forced"] == "EXPIRED"]
    assert len(stale) == 1 and post["container_id"] != stale[0]
    assert journal.steps["container_id"] == post["container_id"]


async def test_a_processing_error_is_permanent_with_metas_reason(adapter, account, threads_fake) -> None:
    threads_fake.processing_error = "FAILED_DOWNLOADING_VIDEO"
    media = MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("bad video", media=(media,))), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "FAILED_DOWNLOADING_VIDEO" in caught.value.message
    assert threads_fake.published() == []


async def test_slow_processing_is_bounded_and_the_next_attempt_reuses_the_container(
    tmp_path, account, threads_fake,
) -> None:
    threads_fake.ready_after = 0.5
    slow = replace(FAST, max_processing_wait=0.05)
    adapter = ThreadsAdapter(context(tmp_path, api_base={"threads": threads_fake.url}), tuning=slow)
    journal = MemoryJournal()
    media = (MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO),)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("slow", media=media)), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    threads_fake.ready_after = 0.0
    await adapter.publish(job(account, PostContent("slow", media=media), checkpoints=journal.steps), MemoryJournal())
    await adapter.aclose()
    assert len(threads_fake.containers) == 1 and len(threads_fake.published()) == 1


async def test_the_first_comment_and_thread_parts_are_replies(adapter, account, threads_fake) -> None:
    await adapter.publish(job(account, PostContent("Root", thread=("Two",), first_comment="Comment")), MemoryJournal())
    [root] = threads_fake.published()
    part, comment = threads_fake.replies()
    assert part["reply_to_id"] == root["id"] and part["text"] == "Two"
    assert comment["reply_to_id"] == root["id"] and comment["text"] == "Comment"


async def test_an_exhausted_quota_waits_without_creating_anything(adapter, account, threads_fake) -> None:
    threads_fake.quota_total = 0
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("over quota")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after
    assert threads_fake.containers == {}


async def test_a_lost_publish_answer_is_reconciled_through_the_container(adapter, account, threads_fake) -> None:
    threads_fake.inject(Fault(rf"/v1.0/{threads_fake.user_id}/threads_publish", kind="hang_after", hang_seconds=5))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("did it go?")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    outcome = await adapter.reconcile(job(account, PostContent("did it go?"), checkpoints=journal.steps))
    [post] = threads_fake.published()
    assert outcome.status is ReconcileStatus.PUBLISHED and outcome.external_id == post["id"]
    assert outcome.url == post["permalink"]


async def test_an_unpublished_container_reconciles_as_not_published_and_is_reused(adapter, account, threads_fake) -> None:
    threads_fake.inject(Fault(rf"/v1.0/{threads_fake.user_id}/threads_publish", status=503))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("retry")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    again = job(account, PostContent("retry"), checkpoints=journal.steps)
    assert (await adapter.reconcile(again)).status is ReconcileStatus.NOT_PUBLISHED
    await adapter.publish(again, MemoryJournal())
    assert len(threads_fake.containers) == 1 and len(threads_fake.published()) == 1


async def test_a_week_old_token_is_renewed_before_publishing(tmp_path, threads_fake) -> None:
    account = _account(threads_fake, age=8 * DAY)
    old = KeyringSecrets().get(account.id)
    adapter = ThreadsAdapter(context(tmp_path, api_base={"threads": threads_fake.url}), tuning=FAST)
    await adapter.publish(job(account, PostContent("renewed")), MemoryJournal())
    await adapter.aclose()
    new = KeyringSecrets().get(account.id)
    assert threads_fake.refreshes == 1
    assert old and new and new["access_token"] != old["access_token"]
    assert datetime.fromisoformat(new["expires_at"]) - datetime.now(UTC) > timedelta(days=59)


async def test_a_token_under_24_hours_old_is_never_sent_for_refresh(adapter, account, threads_fake) -> None:
    await adapter.refresh_credentials(account)
    assert threads_fake.calls_to("/refresh_access_token") == 0


async def test_a_token_past_60_days_asks_for_reconnection(tmp_path, threads_fake) -> None:
    account = _account(threads_fake, age=61 * DAY)
    adapter = ThreadsAdapter(context(tmp_path, api_base={"threads": threads_fake.url}), tuning=FAST)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("too late")), MemoryJournal())
    await adapter.aclose()
    assert caught.value.kind is ErrorKind.AUTH and threads_fake.containers == {}


async def test_an_invalid_token_is_an_auth_failure(adapter, account, threads_fake) -> None:
    threads_fake.tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("x")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH


async def test_a_pasted_token_is_renewed_for_a_known_expiry(threads_fake) -> None:
    token = threads_fake.issue_token(age=3 * DAY)
    connected = await account_from_token(token, api_base=threads_fake.url, tuning=FAST)
    assert connected.handle == threads_fake.username
    assert connected.settings == {"user_id": threads_fake.user_id}
    assert connected.secrets["access_token"] != token and threads_fake.refreshes == 1


async def test_a_fresh_pasted_token_is_kept_when_threads_refuses_renewal(threads_fake) -> None:
    token = threads_fake.issue_token(age=3600)
    connected = await account_from_token(token, api_base=threads_fake.url, tuning=FAST)
    assert connected.secrets["access_token"] == token


async def test_signing_in_by_pasting_the_browsers_address(threads_fake) -> None:
    sign_in = ThreadsBrowserSignIn(threads_fake.app_id, threads_fake.app_secret,
                                   "https://127.0.0.1:8443/callback/threads", api_base=threads_fake.url,
                                   authorize_url=f"{threads_fake.url}/oauth/authorize", tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(sign_in.authorization_url)).headers["location"]
    assert landing.startswith("https://127.0.0.1:8443/callback/threads?") and landing.endswith("#_")
    forged = landing.replace(sign_in.pending.state, "someone-elses-state")
    with pytest.raises(StateMismatch):
        await sign_in.finish(forged)
    connected = await sign_in.finish(landing)
    assert connected.secrets["access_token"] in threads_fake.tokens
    assert connected.handle == threads_fake.username


async def test_an_edited_post_never_reuses_the_old_container(adapter, account, threads_fake) -> None:
    threads_fake.inject(Fault(rf"/v1.0/{threads_fake.user_id}/threads_publish", status=400, body={"error": {
        "message": "Please reduce the amount of data", "code": 1, "is_transient": False}}))
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, PostContent("first wording")), journal)
    await adapter.publish(job(account, PostContent("second wording"), checkpoints=journal.steps), MemoryJournal())
    [post] = threads_fake.published()
    assert post["text"] == "second wording" and len(threads_fake.containers) == 2


async def test_a_local_file_goes_through_the_media_host_and_is_deleted_after(adapter, account, threads_fake,
                                                                              tmp_path) -> None:
    import json

    from app.platforms.mediahost import MediaHostConfig, save_config
    from tests.fakes.s3 import FakeS3
    from tests.fakes.support import PNG_1PX

    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG_1PX)
    content = PostContent("from my disk", media=(MediaItem(str(photo), alt_text="a pixel"),))
    assert any("public web address" in p.message for p in adapter.validate(content, account))
    with FakeS3() as s3:
        save_config(tmp_path, MediaHostConfig(endpoint=s3.url, bucket=s3.bucket, public_base_url=s3.public_base_url,
                                              region=s3.region), s3.access_key_id, s3.secret_access_key)
        assert adapter.validate(content, account) == []
        journal = MemoryJournal()
        result = await adapter.publish(job(account, content), journal)
        [(key, url)] = json.loads(journal.steps["hosted"]).values()
        assert url.startswith(s3.public_base_url)
        assert s3.deleted == [key] and s3.objects == {} and s3.rejected == []
    assert result.external_id
    assert [p for p in threads_fake.published()] and url in json.dumps(threads_fake.containers)
