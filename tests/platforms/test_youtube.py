"""The YouTube adapter against the fake Data API: resumable uploads and their resumption,
native scheduling, quotas, Google tokens, the loopback sign-in."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.auth.secrets import KeyringSecrets
from app.auth.youtube import YouTubeSignIn, account_from_tokens, revoke
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.youtube import (
    YouTubeAdapter,
    description_for,
    seconds_until_quota_reset,
    title_for,
    token_values,
)
from tests.fakes.server import Fault
from tests.fakes.support import FAST, MemoryJournal, browser, context, job
from tests.fakes.youtube import UPLOAD, FakeYouTube

VIDEO_BYTES = bytes(range(256)) * 400  # 102,400 bytes


@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


def _account(fake: FakeYouTube, *, settings: dict[str, object] | None = None, expires_in: float = 3600) -> AccountInfo:
    body = fake.issue_tokens(access_expires_in=expires_in)
    KeyringSecrets().put(41, token_values(body, datetime.now(UTC), {"client_id": fake.client_id,
                                                                    "client_secret": fake.client_secret}))
    return AccountInfo(41, Platform.YOUTUBE, fake.custom_url, settings={"channel_id": fake.channel_id,
                                                                          **(settings or {})})


@pytest.fixture
def account(yt: FakeYouTube) -> AccountInfo:
    return _account(yt)


@pytest.fixture
async def adapter(tmp_path: Path, yt: FakeYouTube) -> AsyncIterator[YouTubeAdapter]:
    a = YouTubeAdapter(context(tmp_path, api_base={"youtube": yt.url}), tuning=FAST)
    yield a
    await a.aclose()


@pytest.fixture
def video(tmp_path: Path) -> MediaItem:
    path = tmp_path / "clip.mp4"
    path.write_bytes(VIDEO_BYTES)
    return MediaItem(str(path), kind=MediaKind.VIDEO, mime_type="video/mp4")


def _content(video: MediaItem, text: str = "My first video\nWhat it is about.", **kw: object) -> PostContent:
    return PostContent(text, media=(video,), **kw)  # type: ignore[arg-type]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- publishing -----------------------------------------------------------------------------

async def test_a_video_is_uploaded_with_title_description_and_privacy(adapter, account, yt, video) -> None:
    journal = MemoryJournal()
    result = await adapter.publish(job(account, _content(video)), journal)
    [v] = yt.published()
    assert v["snippet"]["title"] == "My first video" and v["snippet"]["description"] == "What it is about."
    assert v["status"]["privacyStatus"] == "public" and "publishAt" not in v["status"]
    assert v["size"] == len(VIDEO_BYTES) and v["sha256"] == _sha(VIDEO_BYTES)
    assert result.external_id == v["id"] and result.url.endswith(v["id"]) and not result.natively_scheduled
    assert journal.steps["upload_session"].startswith(yt.url) and journal.steps["video_id"] == v["id"]


async def test_the_privacy_setting_and_a_first_comment(adapter, yt, video) -> None:
    account = _account(yt, settings={"privacy": "unlisted"})
    await adapter.publish(job(account, _content(video, first_comment="Thanks for watching")), MemoryJournal())
    [v] = yt.published()
    assert v["status"]["privacyStatus"] == "unlisted"
    assert yt.comments == [{"id": yt.comments[0]["id"], "video_id": v["id"], "text": "Thanks for watching"}]


async def test_a_native_schedule_hands_the_video_over_private_with_publish_at(adapter, account, yt, video) -> None:
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    result = await adapter.publish(job(account, _content(video, first_comment="later"), native_schedule_at=at),
                                   MemoryJournal())
    [v] = yt.published()
    assert result.natively_scheduled and result.external_id == v["id"]
    assert v["status"]["privacyStatus"] == "private"
    assert datetime.fromisoformat(v["status"]["publishAt"].replace("Z", "+00:00")) == at
    assert yt.comments == [] and any("first comment" in w for w in result.warnings)


async def test_too_soon_for_a_native_schedule_publishes_directly(adapter, account, yt, video) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=3)
    result = await adapter.publish(job(account, _content(video), native_schedule_at=soon), MemoryJournal())
    assert not result.natively_scheduled and yt.published()[0]["status"]["privacyStatus"] == "public"


async def test_an_unaudited_project_keeps_the_video_private_and_says_so(adapter, account, yt, video) -> None:
    yt.unverified_project = True
    result = await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert yt.published()[0]["status"]["privacyStatus"] == "private"
    assert any("audit" in w for w in result.warnings)


def test_without_a_title_the_first_line_is_the_title_and_the_rest_the_description() -> None:
    content = PostContent("  Line one\nLine two\nLine three")
    assert title_for(content) == "Line one" and description_for(content) == "Line two\nLine three"


def test_compose_time_rules_for_title_description_and_media(adapter, account, video) -> None:
    long_title = _content(video, text="x" * 101)
    assert any("titles are at most 100" in p.message for p in adapter.validate(long_title, account))
    assert any("< or >" in p.message for p in adapter.validate(_content(video, text="a <b>"), account))
    emoji = _content(video, text="Title\n" + "😀" * 1300)  # 1,300 characters but 5,200 bytes
    assert any("5000 bytes" in p.message for p in adapter.validate(emoji, account))
    assert any("needs at least one" in p.message for p in adapter.validate(PostContent("Title"), account))
    image = PostContent("Title", media=(MediaItem("https://cdn.example.com/a.jpg"),))
    assert any("videos only" in p.message for p in adapter.validate(image, account))
    assert adapter.validate(_content(video), account) == []


# ---- interruptions (reliability.md case 58) --------------------------------------------------------

async def test_an_upload_dropped_mid_file_resumes_from_the_next_byte(adapter, account, yt, video) -> None:
    yt.truncate_next_upload = 40_000
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset_after"))
    await adapter.publish(job(account, _content(video)), MemoryJournal())
    [v] = yt.published()
    assert v["sha256"] == _sha(VIDEO_BYTES) and len(yt.sessions) == 1
    assert yt.calls_to(UPLOAD, "POST") == 1 and yt.calls_to(UPLOAD, "PUT") == 3  # bytes, status query, the rest


async def test_a_server_error_on_the_bytes_is_resumed_in_the_same_session(adapter, account, yt, video) -> None:
    yt.inject(Fault(UPLOAD, method="PUT", status=503))
    await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert len(yt.published()) == 1 and len(yt.sessions) == 1


async def test_a_lost_final_answer_is_found_by_asking_the_session(adapter, account, yt, video) -> None:
    yt.inject(Fault(UPLOAD, method="PUT", kind="hang_after", hang_seconds=5))
    result = await adapter.publish(job(account, _content(video)), MemoryJournal())
    [v] = yt.published()
    assert result.external_id == v["id"] and len(yt.sessions) == 1


async def test_when_the_session_cannot_be_asked_the_outcome_is_unknown_then_reconciled(
    adapter, account, yt, video,
) -> None:
    yt.inject(Fault(UPLOAD, method="PUT", kind="hang_after", hang_seconds=5))
    yt.inject(Fault(UPLOAD, method="PUT", status=503))  # the status query fails too
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(video)), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    Path(video.source).unlink()  # the session alone answers: the file is not needed to reconcile
    outcome = await adapter.reconcile(job(account, _content(video), checkpoints=journal.steps))
    [v] = yt.published()
    assert outcome.status is ReconcileStatus.PUBLISHED and outcome.external_id == v["id"]


async def test_an_incomplete_session_reconciles_as_not_published_and_the_retry_resumes_it(
    adapter, account, yt, video,
) -> None:
    yt.truncate_next_upload = 10_000
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset_after"))
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset"))  # and the status query
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, _content(video)), journal)
    again = job(account, _content(video), checkpoints=journal.steps, attempt_id=2)
    assert (await adapter.reconcile(again)).status is ReconcileStatus.NOT_PUBLISHED
    await adapter.publish(again, MemoryJournal())
    [v] = yt.published()
    assert v["sha256"] == _sha(VIDEO_BYTES) and len(yt.sessions) == 1


async def test_an_edited_post_never_resumes_the_old_session(adapter, account, yt, video) -> None:
    yt.truncate_next_upload = 10_000
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset_after"))
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset"))  # and the status query
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, _content(video)), journal)
    await adapter.publish(job(account, _content(video, text="New title"), checkpoints=journal.steps), MemoryJournal())
    [v] = yt.published()
    assert v["snippet"]["title"] == "New title" and len(yt.sessions) == 2


# ---- quotas and errors ----------------------------------------------------------------------------

async def test_a_used_up_quota_waits_until_midnight_pacific(adapter, account, yt, video) -> None:
    yt.inserts_per_day = 0
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.code == "quotaExceeded"
    assert caught.value.retry_after == pytest.approx(seconds_until_quota_reset(datetime.now(UTC)), abs=5)
    assert yt.published() == [] and yt.sessions == {}


def test_the_quota_day_ends_at_midnight_pacific_time() -> None:
    # 2026-07-01 06:30 UTC is 23:30 PDT on June 30: half an hour (plus a minute's margin) to go.
    assert seconds_until_quota_reset(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 31 * 60


async def test_the_channels_upload_cap_waits_a_day(adapter, account, yt, video) -> None:
    yt.channel_upload_cap = 0
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 86400


async def test_a_rejected_title_is_permanent_with_youtubes_reason(adapter, account, yt, video) -> None:
    yt.inject(Fault(UPLOAD, method="POST", status=400, body={"error": {"code": 400, "message": "Bad title",
                                                                      "errors": [{"reason": "invalidTitle"}]}}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "Bad title" in caught.value.message


async def test_a_missing_file_is_permanent(adapter, account, tmp_path) -> None:
    gone = MediaItem(str(tmp_path / "gone.mp4"), kind=MediaKind.VIDEO)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(gone)), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "gone.mp4" in caught.value.message


# ---- tokens ---------------------------------------------------------------------------------------

async def test_an_expired_access_token_is_refreshed_and_persisted_first(adapter, yt, video) -> None:
    account = _account(yt, expires_in=60)  # inside the five-minute margin
    old = KeyringSecrets().get(account.id)
    await adapter.publish(job(account, _content(video)), MemoryJournal())
    new = KeyringSecrets().get(account.id)
    assert yt.refreshes == 1 and old and new and new["access_token"] != old["access_token"]
    assert new["refresh_token"] == old["refresh_token"] and len(yt.published()) == 1


async def test_a_401_mid_publish_refreshes_once_and_carries_on(adapter, account, yt, video) -> None:
    yt.expire_access_tokens()
    await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert yt.refreshes == 1 and len(yt.published()) == 1


async def test_a_revoked_refresh_token_asks_for_reconnection(adapter, yt, video) -> None:
    account = _account(yt, expires_in=0)
    yt.refresh_tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, _content(video)), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and "Reconnect" in caught.value.message
    assert yt.sessions == {}


async def test_connecting_through_the_loopback_listener_with_pkce(yt) -> None:
    sign_in = YouTubeSignIn(yt.client_id, yt.client_secret, api_base=yt.url,
                            authorize_url=f"{yt.url}/o/oauth2/v2/auth", token_url=f"{yt.url}/token", tuning=FAST,
                            timeout=5)
    open_url, visits = browser()
    connected = await sign_in.run(open_url)
    await asyncio.gather(*visits)
    assert "code_challenge_method=S256" in sign_in.authorization_url and "access_type=offline" in sign_in.authorization_url
    assert connected.handle == yt.custom_url and connected.settings == {"channel_id": yt.channel_id}
    assert connected.secrets["refresh_token"] in yt.refresh_tokens
    assert connected.secrets["client_secret"] == yt.client_secret and not sign_in.listener.is_listening


async def test_a_token_answer_without_a_refresh_token_is_refused(yt) -> None:
    body = yt.issue_tokens()
    body.pop("refresh_token")
    with pytest.raises(Exception, match="refresh token"):
        await account_from_tokens(body, yt.client_id, yt.client_secret, api_base=yt.url, tuning=FAST)


async def test_disconnecting_revokes_the_refresh_token_at_google(account, yt) -> None:
    secrets = KeyringSecrets().get(account.id) or {}
    assert await revoke(secrets, revoke_url=f"{yt.url}/revoke", tuning=FAST)
    assert secrets["refresh_token"] not in yt.refresh_tokens
    assert not await revoke(secrets, revoke_url=f"{yt.url}/revoke", tuning=FAST)  # already gone


async def test_removing_a_youtube_account_revokes_its_token_at_google(account, yt) -> None:
    from app.auth.disconnect import forget_account

    secrets = KeyringSecrets()
    assert secrets.get(account.id)
    notes = await forget_account(account, secrets, api_base={"youtube": yt.url}, tuning=FAST)
    assert notes == []
    assert secrets.get(account.id) is None
    assert yt.calls_to(r"/revoke", "POST") == 1
