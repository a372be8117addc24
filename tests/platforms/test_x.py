"""The X adapter against the fake X API: sign-in with PKCE, every content type, faults, tokens."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.auth.accounts import ConnectionFailed
from app.auth.secrets import KeyringSecrets
from app.auth.x import XSignIn, account_from_tokens, redirect_uri
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.x import XAdapter, token_values
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, browser, context, job
from tests.fakes.x import FakeX


@pytest.fixture
def x_fake() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _account(fake: FakeX, *, expires_in: float | None = None, account_id: int = 31) -> AccountInfo:
    KeyringSecrets().put(account_id, token_values(fake.issue_tokens(expires_in=expires_in), datetime.now(UTC),
                                                  fake.client_id))
    return AccountInfo(account_id, Platform.X, f"@{fake.username}",
                       settings={"user_id": fake.user_id, "username": fake.username})


@pytest.fixture
def account(x_fake: FakeX) -> AccountInfo:
    return _account(x_fake)


@pytest.fixture
async def adapter(tmp_path: Path, x_fake: FakeX) -> AsyncIterator[XAdapter]:
    a = XAdapter(context(tmp_path, api_base={"x": x_fake.url}), tuning=FAST)
    a.chunk_size = 1000
    yield a
    await a.aclose()


def _png(tmp_path: Path, name: str = "p.png") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text="a pixel")


def _video(tmp_path: Path, size: int = 2500, name: str = "clip.mp4", kind: MediaKind = MediaKind.VIDEO) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return MediaItem(str(path), kind=kind)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- sign-in --------------------------------------------------------------------------------

async def test_sign_in_uses_pkce_on_the_registered_port_and_stores_the_tokens(x_fake) -> None:
    port = _free_port()
    x_fake.registered_redirects = [redirect_uri(port)]
    sign_in = XSignIn(x_fake.client_id, port=port, api_base=x_fake.url, authorize_url=f"{x_fake.url}/i/oauth2/authorize",
                      tuning=FAST, timeout=5)
    open_url, visits = browser()
    connected = await sign_in.run(open_url)
    assert (await visits[0]).status_code == 200
    assert connected.handle == f"@{x_fake.username}" and connected.settings["user_id"] == x_fake.user_id
    assert connected.secrets["refresh_token"] in x_fake.refresh_tokens
    assert "code_challenge_method=S256" in sign_in.authorization_url and "offline.access" in sign_in.authorization_url


async def test_sign_in_with_a_confidential_client_sends_basic_auth_and_keeps_the_secret(x_fake) -> None:
    port = _free_port()
    x_fake.client_secret = "shh-secret-value"
    x_fake.registered_redirects = [redirect_uri(port)]
    sign_in = XSignIn(x_fake.client_id, "shh-secret-value", port=port, api_base=x_fake.url,
                      authorize_url=f"{x_fake.url}/i/oauth2/authorize", tuning=FAST, timeout=5)
    open_url, _ = browser()
    connected = await sign_in.run(open_url)
    assert connected.secrets["client_secret"] == "shh-secret-value"


async def test_a_wrong_verifier_is_refused_by_the_token_endpoint(x_fake, monkeypatch) -> None:
    port = _free_port()
    x_fake.registered_redirects = [redirect_uri(port)]
    sign_in = XSignIn(x_fake.client_id, port=port, api_base=x_fake.url,
                      authorize_url=f"{x_fake.url}/i/oauth2/authorize", tuning=FAST, timeout=5)
    original = sign_in.listener.start

    async def start_then_forget_verifier():  # type: ignore[no-untyped-def]
        pending = await original()
        challenge = pending.challenge
        monkeypatch.setattr(type(pending), "challenge", property(lambda _self: challenge))
        pending.verifier = "a" * 43  # the exchange sends a verifier that does not match the challenge
        return pending

    sign_in.listener.start = start_then_forget_verifier  # type: ignore[method-assign]
    open_url, _ = browser()
    with pytest.raises(ConnectionFailed, match="code verifier"):
        await sign_in.run(open_url)


async def test_a_code_older_than_30_seconds_is_refused(x_fake) -> None:
    port = _free_port()
    x_fake.registered_redirects = [redirect_uri(port)]
    x_fake.code_lifetime = -1  # every code has already expired by the time it is exchanged
    sign_in = XSignIn(x_fake.client_id, port=port, api_base=x_fake.url,
                      authorize_url=f"{x_fake.url}/i/oauth2/authorize", tuning=FAST, timeout=5)
    open_url, _ = browser()
    with pytest.raises(ConnectionFailed, match="authorization code"):
        await sign_in.run(open_url)
    assert not sign_in.listener.is_listening


async def test_an_unregistered_port_never_reaches_the_listener(x_fake) -> None:
    x_fake.registered_redirects = [redirect_uri(_free_port())]
    sign_in = XSignIn(x_fake.client_id, port=_free_port(), api_base=x_fake.url,
                      authorize_url=f"{x_fake.url}/i/oauth2/authorize", tuning=FAST, timeout=0.5)
    open_url, visits = browser()
    with pytest.raises(Exception, match="No answer"):
        await sign_in.run(open_url)
    assert (await visits[0]).status_code == 400


# ---- content types --------------------------------------------------------------------------

async def test_a_text_post_is_published_once_and_journaled(adapter, account, x_fake) -> None:
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("Hello X")), journal)
    [tweet] = x_fake.published()
    assert tweet["text"] == "Hello X" and result.external_id == tweet["id"] == journal.steps["tweet_id"]
    assert result.url == f"https://x.com/{x_fake.username}/status/{tweet['id']}"


async def test_four_images_go_through_the_simple_upload(adapter, account, x_fake, tmp_path) -> None:
    media = tuple(_png(tmp_path, f"{i}.png") for i in range(4))
    await adapter.publish(job(account, PostContent("four", media=media)), MemoryJournal())
    [tweet] = x_fake.published()
    assert len(tweet["media_ids"]) == 4
    assert all(x_fake.media[m]["data"] == PNG_1PX and x_fake.media[m]["category"] == "tweet_image"
               for m in tweet["media_ids"])
    assert x_fake.calls_to("/2/media/upload/initialize") == 0


@pytest.mark.parametrize("kind,category", [(MediaKind.VIDEO, "tweet_video"), (MediaKind.GIF, "tweet_gif")])
async def test_a_video_or_gif_is_uploaded_in_chunks_and_waited_for(adapter, account, x_fake, tmp_path,
                                                                   kind, category) -> None:
    x_fake.processing_seconds = 0.1
    item = _video(tmp_path, name="clip.mp4" if kind is MediaKind.VIDEO else "anim.gif", kind=kind)
    await adapter.publish(job(account, PostContent("moving", media=(item,))), MemoryJournal())
    [tweet] = x_fake.published()
    [media_id] = tweet["media_ids"]
    stored = x_fake.media[media_id]
    assert stored["category"] == category and len(stored["segments"]) == 3
    assert stored["data"] == Path(item.source).read_bytes()
    assert x_fake.calls_to("/2/media/upload", "GET") >= 1


async def test_first_comment_and_thread_are_replies(adapter, account, x_fake) -> None:
    content = PostContent("main", first_comment="comment", thread=("part two", "part three"))
    result = await adapter.publish(job(account, content), MemoryJournal())
    [main] = x_fake.published()
    replies = {r["text"]: r["in_reply_to"] for r in x_fake.replies()}
    assert replies["part two"] == main["id"] and replies["comment"] == main["id"]
    two = next(t["id"] for t in x_fake.tweets if t["text"] == "part two")
    assert replies["part three"] == two and result.warnings == ()


async def test_a_refused_self_reply_is_a_warning_not_a_failure(adapter, account, x_fake) -> None:
    x_fake.replies_need_summoning = True
    result = await adapter.publish(job(account, PostContent("main", first_comment="c")), MemoryJournal())
    assert len(x_fake.published()) == 1 and x_fake.replies() == []
    assert "first comment could not be posted" in result.warnings[0] and "mentioned" in result.warnings[0]


def test_compose_time_rules(adapter, account, tmp_path) -> None:
    assert adapter.validate(PostContent("界" * 140), account) == []
    assert any("280" in p.message for p in adapter.validate(PostContent("界" * 141), account))
    assert adapter.validate(PostContent("a" * 256 + " https://example.com/" + "x" * 100), account) == []
    gif = _video(tmp_path, name="a.gif", kind=MediaKind.GIF)
    assert any("one GIF" in p.message for p in adapter.validate(PostContent("g", media=(gif, _png(tmp_path))), account))
    big_gif = MediaItem(gif.source, kind=MediaKind.GIF, size_bytes=12_000_000)
    assert adapter.validate(PostContent("g", media=(big_gif,)), account) == []
    huge_gif = MediaItem(gif.source, kind=MediaKind.GIF, size_bytes=16_000_000)
    assert adapter.validate(PostContent("g", media=(huge_gif,)), account) != []
    big_png = MediaItem(_png(tmp_path).source, size_bytes=6_000_000)
    assert any("5 MB" in p.message for p in adapter.validate(PostContent("p", media=(big_png,)), account))
    five = tuple(_png(tmp_path, f"{i}.png") for i in range(5))
    assert any("at most 4" in p.message for p in adapter.validate(PostContent("5", media=five), account))


# ---- faults ---------------------------------------------------------------------------------

async def test_processing_failure_is_permanent_and_posts_nothing(adapter, account, x_fake, tmp_path) -> None:
    x_fake.processing_fails = True
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("bad", media=(_video(tmp_path),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "Unsupported video format" in caught.value.message
    assert x_fake.published() == []


async def test_slow_processing_is_transient_and_the_next_attempt_reuses_the_upload(
        adapter, account, x_fake, tmp_path) -> None:
    x_fake.processing_seconds = 0.6
    adapter.tuning = FAST.__class__(**{**FAST.__dict__, "max_processing_wait": 0.1})
    journal = MemoryJournal()
    content = PostContent("slow", media=(_video(tmp_path),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT and x_fake.published() == []
    adapter.tuning = FAST
    await adapter.publish(job(account, content, attempt_id=2, checkpoints=journal.steps), MemoryJournal())
    assert len(x_fake.media) == 1 and len(x_fake.published()) == 1


async def test_rate_limit_waits_until_the_epoch_reset(adapter, account, x_fake) -> None:
    x_fake.inject(Fault("/2/tweets", status=429, headers=x_fake.rate_headers(remaining=0, reset_in=120)))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("later")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and 115 <= (caught.value.retry_after or 0) <= 121


async def test_a_spent_daily_cap_waits_for_the_24_hour_reset(adapter, account, x_fake) -> None:
    headers = {**x_fake.rate_headers(remaining=40, reset_in=60), "x-user-limit-24hour-remaining": "0",
               "x-user-limit-24hour-reset": str(int(datetime.now(UTC).timestamp()) + 5 * 3600)}
    x_fake.inject(Fault("/2/tweets", status=429, headers=headers))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("tomorrow")), MemoryJournal())
    assert 5 * 3600 - 10 <= (caught.value.retry_after or 0) <= 5 * 3600


@pytest.mark.parametrize("fault", [Fault("/2/tweets", kind="hang_after", hang_seconds=2),
                                   Fault("/2/tweets", kind="reset_after"),
                                   Fault("/2/tweets", kind="status_after", status=503)],
                         ids=["read-timeout", "reset", "5xx"])
async def test_a_lost_answer_is_unknown_and_found_among_recent_posts(adapter, account, x_fake, fault) -> None:
    x_fake.inject(fault)
    j = job(account, PostContent("did it arrive?"))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(j, MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN
    rec = await adapter.reconcile(j)
    [tweet] = x_fake.published()
    assert rec.status is ReconcileStatus.PUBLISHED and rec.external_id == tweet["id"]


async def test_a_reset_before_the_post_arrived_is_not_published(adapter, account, x_fake) -> None:
    x_fake.inject(Fault("/2/tweets", kind="reset"))
    j = job(account, PostContent("never arrived"))
    with pytest.raises(PublishError):
        await adapter.publish(j, MemoryJournal())
    assert (await adapter.reconcile(j)).status is ReconcileStatus.NOT_PUBLISHED


async def test_duplicate_after_an_unknown_attempt_is_unknown_not_failed(adapter, account, x_fake) -> None:
    x_fake.timeline_lag = 60
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=2))
    first, journal = job(account, PostContent("once only")), MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(first, journal)
    assert (await adapter.reconcile(first)).status is ReconcileStatus.NOT_PUBLISHED
    second = job(account, PostContent("once only"), attempt_id=2, checkpoints=journal.steps)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(second, MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN and "probably published" in caught.value.message
    rec = await adapter.reconcile(second)
    assert rec.status is ReconcileStatus.UNKNOWN and "duplicate" in rec.detail
    assert len(x_fake.published()) == 1


async def test_duplicate_without_an_earlier_attempt_is_a_plain_refusal(adapter, account, x_fake) -> None:
    await adapter.publish(job(account, PostContent("same")), MemoryJournal())
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("same"), attempt_id=2), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "same text twice" in caught.value.message


async def test_a_duplicate_after_a_refused_attempt_is_a_plain_refusal(adapter, account, x_fake) -> None:
    await adapter.publish(job(account, PostContent("typed by hand")), MemoryJournal())
    x_fake.inject(Fault("/2/tweets", status=429, headers=x_fake.rate_headers(remaining=0, reset_in=60)))
    journal = MemoryJournal()
    with pytest.raises(PublishError):
        await adapter.publish(job(account, PostContent("typed by hand"), attempt_id=2), journal)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("typed by hand"), attempt_id=3, checkpoints=journal.steps),
                              MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and caught.value.code == "duplicate"


async def test_without_read_access_the_outcome_stays_unknown(adapter, account, x_fake) -> None:
    x_fake.timeline_readable = False
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=2))
    j = job(account, PostContent("cannot look"))
    with pytest.raises(PublishError):
        await adapter.publish(j, MemoryJournal())
    rec = await adapter.reconcile(j)
    assert rec.status is ReconcileStatus.UNKNOWN and "plan" in rec.detail


# ---- tokens ---------------------------------------------------------------------------------

async def test_an_expiring_token_is_renewed_and_the_rotated_refresh_token_stored_first(adapter, x_fake) -> None:
    account = _account(x_fake, expires_in=60)
    old = KeyringSecrets().get(account.id)
    assert old is not None
    await adapter.publish(job(account, PostContent("fresh")), MemoryJournal())
    new = KeyringSecrets().get(account.id)
    assert new is not None and x_fake.refreshes == 1
    assert new["refresh_token"] != old["refresh_token"] and new["refresh_token"] in x_fake.refresh_tokens
    assert old["refresh_token"] not in x_fake.refresh_tokens and new["client_id"] == x_fake.client_id


async def test_a_401_gets_one_refresh_then_the_post_goes_out(adapter, account, x_fake) -> None:
    x_fake.expire_access_tokens()
    await adapter.publish(job(account, PostContent("after 401")), MemoryJournal())
    assert x_fake.refreshes == 1 and len(x_fake.published()) == 1


async def test_a_revoked_refresh_token_is_an_auth_error(adapter, account, x_fake) -> None:
    x_fake.expire_access_tokens()
    x_fake.refresh_tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("no")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and "Reconnect" in caught.value.message
    assert x_fake.published() == []


async def test_account_from_tokens_checks_the_token(x_fake) -> None:
    connected = await account_from_tokens(x_fake.issue_tokens(), x_fake.client_id, api_base=x_fake.url, tuning=FAST)
    assert connected.display_name == x_fake.name_
    assert datetime.fromisoformat(connected.secrets["expires_at"]) > datetime.now(UTC) + timedelta(hours=1)


async def test_revoking_ends_both_tokens(x_fake) -> None:
    from app.auth.x import revoke

    values = token_values(x_fake.issue_tokens(), datetime.now(UTC), x_fake.client_id)
    assert await revoke(values, api_base=x_fake.url, tuning=FAST)
    assert values["access_token"] not in x_fake.tokens and values["refresh_token"] not in x_fake.refresh_tokens


async def test_removing_an_x_account_revokes_its_tokens(account, x_fake) -> None:
    from app.auth.disconnect import forget_account
    from app.auth.secrets import KeyringSecrets

    secrets = KeyringSecrets()
    assert secrets.get(account.id)
    notes = await forget_account(account, secrets, api_base={"x": x_fake.url}, tuning=FAST)
    assert notes == []
    assert secrets.get(account.id) is None
    assert x_fake.calls_to(r"/2/oauth2/revoke", "POST") >= 1


def test_a_video_type_x_does_not_take_is_refused_while_composing(adapter, account, tmp_path) -> None:
    mkv = tmp_path / "clip.mkv"
    mkv.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 100)
    problems = adapter.validate(PostContent("a clip", media=(
        MediaItem(str(mkv), kind=MediaKind.VIDEO, mime_type="video/x-matroska"),)), account)
    assert any("video/x-matroska" in p.message and "MP4" in p.message for p in problems)
    m4v = MediaItem(str(mkv), kind=MediaKind.VIDEO, mime_type="video/x-m4v")  # the same container as MP4
    assert not any("does not take" in p.message for p in adapter.validate(PostContent("a clip", media=(m4v,)), account))


def test_alt_text_over_x_s_limit_is_refused_while_composing(adapter, account, tmp_path) -> None:
    picture = _png(tmp_path)
    long_alt = MediaItem(picture.source, alt_text="a" * 1001, mime_type="image/png")
    assert any("alt text" in p.message and "1,000" in p.message
               for p in adapter.validate(PostContent("x", media=(long_alt,)), account))
