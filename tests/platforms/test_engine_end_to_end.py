"""Through the real engine (SQLite file, timers, journal) to the fake servers: the final status,
the fake's own count of posts, and the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.auth import bluesky as bluesky_auth
from app.auth import mastodon as mastodon_auth
from app.auth import threads as threads_auth
from app.auth.accounts import ConnectedAccount
from app.core.errors import OutpostError
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX
from tests.fakes.threads import FakeThreads

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)


@pytest.fixture
async def engine(tmp_path: Path, threads_fake: FakeThreads) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"threads": threads_fake.url}) as h:
        yield h


def _add(h: EngineHarness, connected: ConnectedAccount) -> AccountView:
    return h.add_account(connected.platform, connected.handle, server=connected.server,
                         display_name=connected.display_name, settings=connected.settings, secrets=connected.secrets)


async def _mastodon(h: EngineHarness, fake: FakeMastodon) -> AccountView:
    return _add(h, await mastodon_auth.account_from_token(fake.url, fake.issue_token(), tuning=FAST))


async def _bluesky(h: EngineHarness, fake: FakeBluesky) -> AccountView:
    return _add(h, await bluesky_auth.sign_in(fake.handle, fake.app_password, service=fake.url, tuning=FAST))


async def _threads(h: EngineHarness, fake: FakeThreads) -> AccountView:
    return _add(h, await threads_auth.account_from_token(fake.issue_token(age=3600), api_base=fake.url, tuning=FAST))


def _png(tmp_path: Path, name: str = "p.png") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text="a pixel")


# ---- Mastodon -------------------------------------------------------------------------------

async def test_mastodon_text_image_and_first_comment_are_published(engine, mastodon_fake, tmp_path) -> None:
    account = await _mastodon(engine, mastodon_fake)
    post = engine.add_post(account, "Hello via the engine", media=[_png(tmp_path)], first_comment="More below")
    target = await engine.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED
    main, comment = mastodon_fake.published()
    assert target.external_id == main["id"] and target.external_url.endswith(main["id"])
    assert len(main["media_ids"]) == 1 and comment["in_reply_to_id"] == main["id"]


async def test_mastodon_lost_answer_is_reconciled_to_one_post(engine, mastodon_fake) -> None:
    account = await _mastodon(engine, mastodon_fake)
    mastodon_fake.inject(Fault("/api/v1/statuses", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "exactly once"))
    assert target.status is TargetStatus.PUBLISHED
    assert len(mastodon_fake.published()) == 1
    assert target.external_id == mastodon_fake.published()[0]["id"]


async def test_mastodon_lost_answer_and_lost_check_are_checked_again_to_one_post(engine, mastodon_fake) -> None:
    account = await _mastodon(engine, mastodon_fake)
    mastodon_fake.inject(Fault("/api/v1/statuses", kind="hang_after", hang_seconds=3, times=2))
    target = await engine.wait_settled(engine.add_post(account, "did it?"))
    assert target.status is TargetStatus.PUBLISHED  # the second check reached Mastodon: no review
    assert len(mastodon_fake.published()) == 1


async def test_mastodon_transient_media_failure_is_retried_then_published(engine, mastodon_fake, tmp_path) -> None:
    account = await _mastodon(engine, mastodon_fake)
    mastodon_fake.inject(Fault("/api/v2/media", status=503))
    post = engine.add_post(account, "second time lucky", media=[_png(tmp_path)])
    target = await engine.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2
    assert len(mastodon_fake.published()) == 1
    [retry] = [e for e in engine.planner.events() if "will be retried" in e.message]
    assert "Mastodon had a server error" in retry.message


async def test_mastodon_unreachable_server_gives_up_after_bounded_retries(engine, tmp_path) -> None:
    dead = FakeMastodon()
    dead.start()
    token = dead.issue_token()
    connected = await mastodon_auth.account_from_token(dead.url, token, tuning=FAST)
    dead.stop()
    account = _add(engine, connected)
    target = await engine.wait_settled(engine.add_post(account, "nobody home"), timeout=15)
    assert target.status is TargetStatus.FAILED
    assert target.last_error.startswith("Gave up after 3 attempts") and "nothing was sent" in target.last_error.lower()


async def test_mastodon_revoked_token_holds_the_post_and_asks_for_reconnection(engine, mastodon_fake) -> None:
    account = await _mastodon(engine, mastodon_fake)
    for grant in mastodon_fake.tokens.values():
        grant["revoked"] = True
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert "Reconnect" in target.last_error
    assert mastodon_fake.published() == []


async def test_mastodon_refusal_fails_with_the_servers_message(engine, mastodon_fake) -> None:
    account = await _mastodon(engine, mastodon_fake)
    mastodon_fake.inject(Fault("/api/v1/statuses", status=422,
                               body={"error": "Validation failed: Text contains a forbidden word"}))
    target = await engine.wait_settled(engine.add_post(account, "forbidden"))
    assert target.status is TargetStatus.FAILED
    assert "forbidden word" in target.last_error and mastodon_fake.published() == []


async def test_mastodon_rate_limit_waits_then_publishes(engine, mastodon_fake) -> None:
    account = await _mastodon(engine, mastodon_fake)
    mastodon_fake.inject(Fault("/api/v1/statuses", status=429, headers={"Retry-After": "1"}))
    target = await engine.wait_settled(engine.add_post(account, "patiently"), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(mastodon_fake.published()) == 1


# ---- Bluesky --------------------------------------------------------------------------------

async def test_bluesky_post_with_images_facets_and_comment(engine, bluesky_fake, tmp_path) -> None:
    account = await _bluesky(engine, bluesky_fake)
    media = [_png(tmp_path, "a.png"), _png(tmp_path, "b.png")]
    post = engine.add_post(account, "Hi @bob.test #outpost https://example.com", media=media, first_comment="c")
    target = await engine.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED
    root, comment = bluesky_fake.published()
    assert target.external_id == root["uri"] and len(root["value"]["embed"]["images"]) == 2
    assert len(root["value"]["facets"]) == 3 and comment["value"]["reply"]["root"]["uri"] == root["uri"]


async def test_bluesky_expired_token_is_refreshed_transparently(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.expire_access_tokens()
    target = await engine.wait_settled(engine.add_post(account, "fresh token"))
    assert target.status is TargetStatus.PUBLISHED and bluesky_fake.session_calls["refresh"] == 1


async def test_bluesky_lost_answer_is_found_by_its_record_key(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "once"))
    assert target.status is TargetStatus.PUBLISHED and len(bluesky_fake.published()) == 1
    assert target.external_id == bluesky_fake.published()[0]["uri"]


async def test_bluesky_lost_answer_is_checked_again_once_bluesky_answers(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="hang_after", hang_seconds=3))
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.getRecord", method="GET", status=503))  # the first check
    target = await engine.wait_settled(engine.add_post(account, "unclear"))
    assert target.status is TargetStatus.PUBLISHED and len(bluesky_fake.published()) == 1


async def test_bluesky_unconfirmable_outcome_goes_to_review(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="hang_after", hang_seconds=3))
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.getRecord", method="GET", status=503, times=99))
    target = await engine.wait_settled(engine.add_post(account, "unclear"))
    assert target.status is TargetStatus.NEEDS_REVIEW and len(bluesky_fake.published()) == 1
    assert "could not be reached in 5 checks" in target.last_error, target.last_error


async def test_bluesky_changed_password_needs_reconnection(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.expire_access_tokens()
    bluesky_fake.refresh_tokens.clear()
    bluesky_fake.app_password = "new0-new0-new0-new0"
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert "app password" in target.last_error


async def test_bluesky_oversized_image_is_refused_when_composing(engine, bluesky_fake, tmp_path) -> None:
    account = await _bluesky(engine, bluesky_fake)
    big = tmp_path / "big.png"
    big.write_bytes(PNG_1PX + b"\0" * 2_000_000)
    with pytest.raises(OutpostError, match="2 MB"):
        engine.add_post(account, "too big", media=[MediaItem(str(big))])


# ---- Threads --------------------------------------------------------------------------------

@pytest.mark.parametrize("media", [
    [],
    [MediaItem("https://cdn.example.com/a.jpg", alt_text="alt")],
    [MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)],
    [MediaItem(f"https://cdn.example.com/{i}.jpg") for i in range(3)],
], ids=["text", "image", "video", "carousel"])
async def test_threads_every_content_type_is_published_once(engine, threads_fake, media) -> None:
    threads_fake.ready_after = 0.05
    account = await _threads(engine, threads_fake)
    target = await engine.wait_settled(engine.add_post(account, "Threads post", media=media, first_comment="reply"))
    assert target.status is TargetStatus.PUBLISHED
    [post] = threads_fake.published()
    assert target.external_id == post["id"] and target.external_url == post["permalink"]
    assert threads_fake.replies()[0]["reply_to_id"] == post["id"]
    expected = {0: "TEXT", 1: (media[0].kind.value.upper() if media else ""), 3: "CAROUSEL"}[len(media)]
    assert post["media_type"] == expected


async def test_threads_not_ready_answers_are_waited_out(engine, threads_fake) -> None:
    account = await _threads(engine, threads_fake)
    threads_fake.not_ready_publishes = 2
    target = await engine.wait_settled(engine.add_post(account, "patience"))
    assert target.status is TargetStatus.PUBLISHED and len(threads_fake.published()) == 1
    assert len(threads_fake.containers) == 1


async def test_threads_lost_publish_answer_is_reconciled_through_the_container(engine, threads_fake) -> None:
    account = await _threads(engine, threads_fake)
    threads_fake.inject(Fault(rf"/v1.0/{threads_fake.user_id}/threads_publish", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "reconciled"))
    assert target.status is TargetStatus.PUBLISHED and len(threads_fake.published()) == 1
    assert target.external_id == threads_fake.published()[0]["id"]


async def test_threads_processing_error_fails_with_metas_reason(engine, threads_fake) -> None:
    account = await _threads(engine, threads_fake)
    threads_fake.processing_error = "INVALID_DURATION"
    media = [MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)]
    target = await engine.wait_settled(engine.add_post(account, "bad video", media=media))
    assert target.status is TargetStatus.FAILED and "INVALID_DURATION" in target.last_error


async def test_threads_dead_token_needs_reconnection(engine, threads_fake) -> None:
    account = await _threads(engine, threads_fake)
    threads_fake.tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT


async def test_threads_local_file_is_refused_when_composing(engine, threads_fake, tmp_path) -> None:
    account = await _threads(engine, threads_fake)
    with pytest.raises(OutpostError, match="public web address"):
        engine.add_post(account, "local", media=[_png(tmp_path)])


async def test_bluesky_connection_reset_is_checked_then_retried_at_the_same_record_key(engine, bluesky_fake) -> None:
    account = await _bluesky(engine, bluesky_fake)
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="reset"))
    target = await engine.wait_settled(engine.add_post(account, "reset once"))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2
    [post] = bluesky_fake.published()
    assert target.external_id == post["uri"]


async def test_threads_slow_processing_is_retried_with_the_same_container(tmp_path, threads_fake, monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.05")
    threads_fake.ready_after = 3600.0  # processing until the test says otherwise
    async with EngineHarness.start(tmp_path / "own", api_base={"threads": threads_fake.url}, max_attempts=50) as h:
        account = await _threads(h, threads_fake)
        media = [MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)]
        post = h.add_post(account, "slow video", media=media)
        await h.wait_until(post, lambda p: any("will be retried" in e.message and "still processing" in e.message
                                               for e in h.planner.events()))
        threads_fake.ready_after = 0.0
        target = await h.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED and target.attempts >= 2
    assert len(threads_fake.containers) == 1 and len(threads_fake.published()) == 1
