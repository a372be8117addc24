"""The TikTok adapter against the fake Content Posting API: sign-in, chunked video, privacy, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth.accounts import ConnectionFailed
from app.auth.secrets import KeyringSecrets
from app.auth.tiktok import TikTokSignIn
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.tiktok import UNAUDITED_NOTE, TikTokAdapter, token_values
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, browser, context, job
from tests.fakes.tiktok import FakeTikTok


@pytest.fixture
def tiktok_fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        fake.min_chunk_size = 1000
        yield fake


def _account(fake: FakeTikTok, *, expires_in: float | None = None, **settings: object) -> AccountInfo:
    KeyringSecrets().put(41, token_values(fake.issue_tokens(expires_in=expires_in), datetime.now(UTC),
                                          fake.client_key, fake.client_secret))
    return AccountInfo(41, Platform.TIKTOK, f"@{fake.username}",
                       settings={"open_id": fake.open_id, "username": fake.username, **settings})


@pytest.fixture
def account(tiktok_fake: FakeTikTok) -> AccountInfo:
    return _account(tiktok_fake)


@pytest.fixture
async def adapter(tmp_path: Path, tiktok_fake: FakeTikTok) -> AsyncIterator[TikTokAdapter]:
    a = TikTokAdapter(context(tmp_path, api_base={"tiktok": tiktok_fake.url}), tuning=FAST)
    a.chunk_size = a.min_chunk = 1000
    yield a
    await a.aclose()


def _video(tmp_path: Path, size: int = 2500) -> PostContent:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(i % 253 for i in range(size)))
    return PostContent("My clip #outpost", media=(MediaItem(str(path), kind=MediaKind.VIDEO),))


# ---- sign-in --------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["base64url", "hex"])
async def test_sign_in_on_any_port_with_pkce_in_either_encoding(tiktok_fake, encoding) -> None:
    tiktok_fake.challenge_encoding = encoding
    sign_in = TikTokSignIn(tiktok_fake.client_key, tiktok_fake.client_secret, challenge_encoding=encoding,
                           api_base=tiktok_fake.url, authorize_url=f"{tiktok_fake.url}/v2/auth/authorize/",
                           tuning=FAST, timeout=5)
    open_url, visits = browser()
    connected = await sign_in.run(open_url)
    assert (await visits[0]).status_code == 200
    assert connected.handle == f"@{tiktok_fake.username}" and "audited" not in connected.settings
    assert connected.secrets["client_secret"] == tiktok_fake.client_secret
    assert connected.secrets["refresh_token"] in tiktok_fake.refresh_tokens


async def test_the_wrong_challenge_encoding_is_refused_with_a_hint(tiktok_fake) -> None:
    tiktok_fake.challenge_encoding = "hex"
    sign_in = TikTokSignIn(tiktok_fake.client_key, tiktok_fake.client_secret, api_base=tiktok_fake.url,
                           authorize_url=f"{tiktok_fake.url}/v2/auth/authorize/", tuning=FAST, timeout=5)
    open_url, _ = browser()
    with pytest.raises(ConnectionFailed, match="other challenge encoding"):
        await sign_in.run(open_url)


# ---- publishing -----------------------------------------------------------------------------

async def test_an_unaudited_app_posts_privately_and_says_why(adapter, account, tiktok_fake, tmp_path) -> None:
    content = _video(tmp_path)
    result = await adapter.publish(job(account, content), MemoryJournal())
    [post] = tiktok_fake.published()
    assert post["privacy"] == "SELF_ONLY" and post["title"] == "My clip #outpost"
    assert post["data"] == Path(content.media[0].source).read_bytes() and post["chunks"] == 2
    assert result.warnings == (UNAUDITED_NOTE,) and "private" in result.warnings[0]
    assert any("private" in p.message for p in adapter.validate(content, account))


async def test_an_audited_app_posts_with_the_chosen_privacy_and_gets_a_post_id(adapter, tiktok_fake, tmp_path) -> None:
    tiktok_fake.audited = True
    account = _account(tiktok_fake, audited=True, privacy_level="PUBLIC_TO_EVERYONE")
    result = await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    [post] = tiktok_fake.published()
    assert post["privacy"] == "PUBLIC_TO_EVERYONE" and result.external_id == post["post_id"]
    assert result.url == f"https://www.tiktok.com/@{tiktok_fake.username}/video/{post['post_id']}"
    assert result.warnings == () and post["disable_duet"] is True  # the creator's own setting is respected


async def test_a_privacy_the_creator_does_not_offer_is_refused_before_upload(adapter, tiktok_fake, tmp_path) -> None:
    tiktok_fake.audited = True
    tiktok_fake.privacy_options = ["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"]
    account = _account(tiktok_fake, audited=True, privacy_level="PUBLIC_TO_EVERYONE")
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "MUTUAL_FOLLOW_FRIENDS" in caught.value.message
    assert tiktok_fake.publishes == {}


async def test_a_public_creator_with_an_unaudited_app_is_told_what_to_change(adapter, account, tiktok_fake,
                                                                              tmp_path) -> None:
    tiktok_fake.creator_is_private = False
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "private" in caught.value.message


async def test_inbox_mode_sends_the_video_to_the_creators_inbox(adapter, tiktok_fake, tmp_path) -> None:
    account = _account(tiktok_fake, post_mode="inbox")
    result = await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    [post] = tiktok_fake.published()
    assert post["inbox"] and any("inbox" in w for w in result.warnings)


def test_chunk_plan_follows_tiktoks_rule(tmp_path, tiktok_fake) -> None:
    real = TikTokAdapter(context(tmp_path))
    mb = 1024 * 1024
    assert real.plan_chunks(3 * mb) == (3 * mb, 1)
    assert real.plan_chunks(25 * mb) == (10 * mb, 2)  # the last chunk carries 15 MB
    assert real.plan_chunks(10 * mb + 5) == (10 * mb, 1)


def test_images_and_text_only_are_compose_time_errors(tmp_path, account) -> None:
    a = TikTokAdapter(context(tmp_path))
    image = tmp_path / "p.png"
    image.write_bytes(PNG_1PX)
    assert any("videos only" in p.message for p in a.validate(PostContent("x", media=(MediaItem(str(image)),)), account))
    assert any("needs at least one" in p.message for p in a.validate(PostContent("text only"), account))


async def test_processing_failure_is_permanent_with_tiktoks_reason(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.moderation_fails = "file_format_check_failed"
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "file_format_check_failed" in caught.value.message


async def test_slow_processing_is_retried_without_a_second_upload(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.processing_seconds = 0.5
    adapter.tuning = replace(FAST, max_processing_wait=0.1)
    journal, content = MemoryJournal(), _video(tmp_path)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    adapter.tuning = FAST
    result = await adapter.publish(job(account, content, attempt_id=2, checkpoints=journal.steps), MemoryJournal())
    assert len(tiktok_fake.publishes) == 1 and len(tiktok_fake.published()) == 1
    assert result.warnings == (UNAUDITED_NOTE,)


@pytest.mark.parametrize("fault", [Fault(r"/upload/.*", method="PUT", kind="hang_after", hang_seconds=2, times=9),
                                   Fault(r"/upload/.*", method="PUT", kind="reset_after", times=9)],
                         ids=["read-timeout", "reset"])
async def test_a_lost_answer_on_the_last_chunk_is_found_by_publish_id(adapter, account, tiktok_fake, tmp_path,
                                                                      fault) -> None:
    j = job(account, _video(tmp_path, size=800))  # one chunk: the fault hits the last one
    tiktok_fake.inject(fault)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(j, MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN
    rec = await adapter.reconcile(j)
    assert rec.status is ReconcileStatus.PUBLISHED and len(tiktok_fake.published()) == 1


async def test_a_failure_on_an_early_chunk_is_safe_to_retry(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.inject(Fault(r"/upload/.*", method="PUT", kind="reset"))
    j = job(account, _video(tmp_path))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(j, MemoryJournal())
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert (await adapter.reconcile(j)).status is ReconcileStatus.NOT_PUBLISHED
    assert tiktok_fake.published() == []


async def test_rate_limit_without_a_header_waits_a_minute(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.inject(Fault("/v2/post/publish/video/init/", status=429))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 60.0


async def test_daily_post_cap_waits_until_tomorrow(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.inject(Fault("/v2/post/publish/video/init/", status=403, body={
        "data": {}, "error": {"code": "spam_risk_too_many_posts", "message": "", "log_id": "x"}}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and (caught.value.retry_after or 0) > 60


async def test_server_error_on_init_is_transient(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.inject(Fault("/v2/post/publish/video/init/", status=503))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert caught.value.kind is ErrorKind.TRANSIENT and tiktok_fake.publishes == {}


# ---- tokens ---------------------------------------------------------------------------------

async def test_rotating_refresh_token_is_stored_before_use(adapter, tiktok_fake, tmp_path) -> None:
    account = _account(tiktok_fake, expires_in=60)
    old = KeyringSecrets().get(account.id)
    assert old is not None
    await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    new = KeyringSecrets().get(account.id)
    assert new is not None and tiktok_fake.refreshes == 1
    assert old["refresh_token"] not in tiktok_fake.refresh_tokens and new["refresh_token"] in tiktok_fake.refresh_tokens


async def test_a_401_is_renewed_once_and_a_dead_refresh_token_is_auth(adapter, account, tiktok_fake, tmp_path) -> None:
    tiktok_fake.expire_access_tokens()
    await adapter.publish(job(account, _video(tmp_path)), MemoryJournal())
    assert tiktok_fake.refreshes == 1
    tiktok_fake.expire_access_tokens()
    tiktok_fake.refresh_tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _video(tmp_path), attempt_id=2), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and len(tiktok_fake.publishes) == 1


async def test_revoking_disconnects_the_app(tiktok_fake) -> None:
    from app.auth.tiktok import revoke

    values = token_values(tiktok_fake.issue_tokens(), datetime.now(UTC), tiktok_fake.client_key,
                          tiktok_fake.client_secret)
    assert await revoke(values, api_base=tiktok_fake.url, tuning=FAST)
    assert values["access_token"] not in tiktok_fake.tokens and not tiktok_fake.refresh_tokens
    assert not await revoke(values, api_base=tiktok_fake.url, tuning=FAST)  # already gone


def test_a_video_type_tiktok_does_not_take_is_refused_while_composing(adapter, account, tmp_path) -> None:
    mkv = tmp_path / "clip.mkv"
    mkv.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 100)
    content = PostContent("clip", media=(MediaItem(str(mkv), kind=MediaKind.VIDEO, mime_type="video/x-matroska"),))
    assert any("MP4, MOV or WebM" in p.message for p in adapter.validate(content, account))
