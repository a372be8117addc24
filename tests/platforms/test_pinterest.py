"""The Pinterest adapter against the fake Pinterest API: sign-in with a board, image, carousel and
video pins, token renewal, and faults."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth.accounts import ConnectionFailed
from app.auth.pinterest import PinterestSignIn, account_from_tokens, redirect_uri
from app.auth.secrets import KeyringSecrets
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.pinterest import PinterestAdapter, token_values
from tests.fakes.pinterest import FakePinterest
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, browser, context, job


@pytest.fixture
def pinterest_fake() -> Iterator[FakePinterest]:
    with FakePinterest() as fake:
        yield fake


def _account(fake: FakePinterest, *, expires_in: float | None = None) -> AccountInfo:
    KeyringSecrets().put(61, token_values(fake.issue_tokens(expires_in=expires_in), datetime.now(UTC),
                                          fake.app_id, fake.app_secret))
    return AccountInfo(61, Platform.PINTEREST, fake.username, settings={"board_id": fake.boards[1]["id"]})


@pytest.fixture
def account(pinterest_fake: FakePinterest) -> AccountInfo:
    return _account(pinterest_fake)


@pytest.fixture
async def adapter(tmp_path: Path, pinterest_fake: FakePinterest) -> AsyncIterator[PinterestAdapter]:
    a = PinterestAdapter(context(tmp_path, api_base={"pinterest": pinterest_fake.url}), tuning=FAST)
    yield a
    await a.aclose()


def _png(tmp_path: Path, name: str = "p.png") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text="a pixel")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sign_in_uses_basic_auth_and_picks_the_named_board(pinterest_fake) -> None:
    port = _free_port()
    pinterest_fake.registered_redirects = [redirect_uri(port)]
    sign_in = PinterestSignIn(pinterest_fake.app_id, pinterest_fake.app_secret, board="recipes", port=port,
                              api_base=pinterest_fake.url, authorize_url=f"{pinterest_fake.url}/oauth/",
                              tuning=FAST, timeout=5)
    open_url, visits = browser()
    connected = await sign_in.run(open_url)
    assert (await visits[0]).status_code == 200
    assert connected.settings["board_id"] == pinterest_fake.boards[1]["id"] and connected.handle == "alice_pins"
    assert connected.secrets["refresh_token"] in pinterest_fake.refresh_tokens


async def test_an_unknown_board_lists_the_real_ones(pinterest_fake) -> None:
    with pytest.raises(ConnectionFailed, match="Ideas, Recipes"):
        await account_from_tokens(pinterest_fake.issue_tokens(), pinterest_fake.app_id, pinterest_fake.app_secret,
                                  board="Cats", api_base=pinterest_fake.url, tuning=FAST)


async def test_a_local_image_is_pinned_as_base64_on_the_chosen_board(adapter, account, pinterest_fake,
                                                                     tmp_path) -> None:
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("Pretty", media=(_png(tmp_path),))), journal)
    [pin] = pinterest_fake.published()
    assert pin["kind"] == "image_base64" and pin["images"] == [PNG_1PX] and pin["alt_text"] == "a pixel"
    assert pin["board_id"] == account.settings["board_id"] and result.external_id == pin["id"] == journal.steps["pin_id"]
    assert result.url == f"https://www.pinterest.com/pin/{pin['id']}/"


async def test_the_posts_title_is_the_pin_title(adapter, account, pinterest_fake, tmp_path) -> None:
    content = PostContent("Long description", media=(_png(tmp_path),), title="Lemon tart")
    await adapter.publish(job(account, content), MemoryJournal())
    [pin] = pinterest_fake.published()
    assert pin["title"] == "Lemon tart" and pin["description"] == "Long description"
    too_long = PostContent("d", media=(_png(tmp_path),), title="t" * 101)
    assert any(p.field == "title" for p in adapter.validate(too_long, account))


async def test_web_images_become_a_url_carousel(adapter, account, pinterest_fake) -> None:
    media = tuple(MediaItem(f"https://cdn.example.com/{i}.jpg") for i in range(3))
    await adapter.publish(job(account, PostContent("Three", media=media)), MemoryJournal())
    [pin] = pinterest_fake.published()
    assert pin["kind"] == "multiple_image_urls" and pin["images"] == [m.source for m in media]


async def test_local_images_become_a_base64_carousel(adapter, account, pinterest_fake, tmp_path) -> None:
    media = tuple(_png(tmp_path, f"{i}.png") for i in range(2))
    await adapter.publish(job(account, PostContent("Two", media=media)), MemoryJournal())
    [pin] = pinterest_fake.published()
    assert pin["kind"] == "multiple_image_base64" and pin["images"] == [PNG_1PX, PNG_1PX]


async def test_a_video_pin_is_registered_uploaded_and_waited_for(adapter, account, pinterest_fake, tmp_path) -> None:
    pinterest_fake.video_processing_seconds = 0.1
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\2" * 5000)
    await adapter.publish(job(account, PostContent("Motion", media=(MediaItem(str(path), kind=MediaKind.VIDEO),))),
                          MemoryJournal())
    [pin] = pinterest_fake.published()
    assert pin["kind"] == "video_id" and pinterest_fake.media[pin["media_id"]]["data"] == path.read_bytes()


async def test_a_failed_video_is_permanent(adapter, account, pinterest_fake, tmp_path) -> None:
    pinterest_fake.video_fails = True
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\2" * 100)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("x", media=(MediaItem(str(path), kind=MediaKind.VIDEO),))),
                              MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and pinterest_fake.published() == []


async def test_slow_video_processing_reuses_the_upload(adapter, account, pinterest_fake, tmp_path) -> None:
    pinterest_fake.video_processing_seconds = 0.5
    adapter.tuning = replace(FAST, max_processing_wait=0.1)
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\2" * 100)
    content, journal = PostContent("slow", media=(MediaItem(str(path), kind=MediaKind.VIDEO),)), MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    adapter.tuning = FAST
    await adapter.publish(job(account, content, attempt_id=2, checkpoints=journal.steps), MemoryJournal())
    assert len(pinterest_fake.media) == 1 and len(pinterest_fake.published()) == 1


def test_compose_rules(adapter, account, tmp_path) -> None:
    assert any("needs at least one" in p.message for p in adapter.validate(PostContent("text only"), account))
    six = tuple(_png(tmp_path, f"{i}.png") for i in range(6))
    assert any("at most 5" in p.message for p in adapter.validate(PostContent("6", media=six), account))
    gif = MediaItem(str(tmp_path / "0.png"), mime_type="image/gif")
    assert any("JPEG or PNG" in p.message for p in adapter.validate(PostContent("g", media=(gif,)), account))
    no_board = AccountInfo(62, Platform.PINTEREST, "x")
    assert any("board" in p.message for p in adapter.validate(PostContent("b", media=(_png(tmp_path),)), no_board))


@pytest.mark.parametrize("fault", [Fault("/v5/pins", kind="hang_after", hang_seconds=2),
                                   Fault("/v5/pins", kind="reset_after"),
                                   Fault("/v5/pins", kind="status_after", status=502)],
                         ids=["read-timeout", "reset", "5xx"])
async def test_a_lost_answer_is_found_among_the_boards_pins(adapter, account, pinterest_fake, tmp_path, fault) -> None:
    pinterest_fake.inject(fault)
    j = job(account, PostContent("Find me", media=(_png(tmp_path),)))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(j, MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN
    rec = await adapter.reconcile(j)
    [pin] = pinterest_fake.published()
    assert rec.status is ReconcileStatus.PUBLISHED and rec.external_id == pin["id"]


async def test_a_pin_that_never_arrived_stays_unknown_rather_than_guessing(adapter, account, pinterest_fake,
                                                                           tmp_path) -> None:
    pinterest_fake.inject(Fault("/v5/pins", kind="reset"))
    j = job(account, PostContent("Lost", media=(_png(tmp_path),)))
    with pytest.raises(PublishError):
        await adapter.publish(j, MemoryJournal())
    rec = await adapter.reconcile(j)
    assert rec.status is ReconcileStatus.UNKNOWN and pinterest_fake.published() == []


async def test_rate_limit_honours_retry_after(adapter, account, pinterest_fake, tmp_path) -> None:
    pinterest_fake.inject(Fault("/v5/pins", status=429, headers={"Retry-After": "30"}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("slow down", media=(_png(tmp_path),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 30


async def test_an_expiring_token_is_renewed_with_basic_auth(adapter, pinterest_fake, tmp_path) -> None:
    account = _account(pinterest_fake, expires_in=600)
    await adapter.publish(job(account, PostContent("renewed", media=(_png(tmp_path),))), MemoryJournal())
    values = KeyringSecrets().get(account.id) or {}
    assert pinterest_fake.refreshes == 1 and values["access_token"] in pinterest_fake.tokens
    assert values["refresh_token"] in pinterest_fake.refresh_tokens


async def test_a_dead_refresh_token_is_auth(adapter, account, pinterest_fake, tmp_path) -> None:
    pinterest_fake.expire_access_tokens()
    pinterest_fake.refresh_tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("no", media=(_png(tmp_path),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and pinterest_fake.published() == []
