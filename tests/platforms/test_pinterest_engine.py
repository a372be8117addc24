"""Pinterest through the real engine (SQLite file, timers, journal) to the fake Pinterest API:
the final status, the fake's own count of pins, and the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth.pinterest import account_from_tokens
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.pinterest import FakePinterest
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)
    add_post = EngineHarness.add_post  # posts due in 0.1 s instead of 0.5 s keep the suite short
    monkeypatch.setattr(EngineHarness, "add_post",
                        lambda self, *args, **kw: add_post(self, *args, **{"in_seconds": 0.1, **kw}))


@pytest.fixture
def pinterest_fake() -> Iterator[FakePinterest]:
    with FakePinterest() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, pinterest_fake: FakePinterest) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"pinterest": pinterest_fake.url}) as h:
        yield h


async def _pinterest(h: EngineHarness, fake: FakePinterest) -> AccountView:
    c = await account_from_tokens(fake.issue_tokens(), fake.app_id, fake.app_secret, board="Recipes",
                                  api_base=fake.url, tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


def _file(tmp_path: Path, name: str, data: bytes, kind: MediaKind = MediaKind.IMAGE) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(str(path), kind=kind)


@pytest.mark.parametrize("what", ["image", "carousel", "video"])
async def test_pinterest_every_content_type_is_pinned_once_on_the_chosen_board(engine, pinterest_fake, tmp_path,
                                                                              what) -> None:
    media = {"image": [_file(tmp_path, "a.png", PNG_1PX)],
             "carousel": [_file(tmp_path, f"{i}.png", PNG_1PX) for i in range(3)],
             "video": [_file(tmp_path, "v.mp4", b"\4" * 3000, MediaKind.VIDEO)]}[what]
    account = await _pinterest(engine, pinterest_fake)
    target = await engine.wait_settled(engine.add_post(account, f"Pin {what}", media=media, title=f"Title {what}"))
    assert target.status is TargetStatus.PUBLISHED
    [pin] = pinterest_fake.published()
    assert pin["title"] == f"Title {what}"
    assert target.external_id == pin["id"] and pin["board_id"] == pinterest_fake.boards[1]["id"]
    assert pin["kind"] == {"image": "image_base64", "carousel": "multiple_image_base64", "video": "video_id"}[what]


async def test_pinterest_lost_answer_is_found_on_the_board(engine, pinterest_fake, tmp_path) -> None:
    account = await _pinterest(engine, pinterest_fake)
    pinterest_fake.inject(Fault("/v5/pins", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "once", media=[_file(tmp_path, "a.png", PNG_1PX)]))
    assert target.status is TargetStatus.PUBLISHED and len(pinterest_fake.published()) == 1
    assert target.external_id == pinterest_fake.published()[0]["id"]


async def test_pinterest_reset_before_arrival_goes_to_review_without_a_pin(engine, pinterest_fake, tmp_path) -> None:
    account = await _pinterest(engine, pinterest_fake)
    pinterest_fake.inject(Fault("/v5/pins", kind="reset"))
    target = await engine.wait_settled(engine.add_post(account, "gone?", media=[_file(tmp_path, "a.png", PNG_1PX)]))
    assert target.status is TargetStatus.NEEDS_REVIEW and "cannot tell whether it went out" in target.last_error
    assert "mark it published or publish it again" in target.last_error  # what to do, said once
    assert pinterest_fake.published() == []


async def test_pinterest_rate_limit_waits_then_pins(engine, pinterest_fake, tmp_path) -> None:
    account = await _pinterest(engine, pinterest_fake)
    pinterest_fake.inject(Fault("/v5/pins", status=429, headers={"Retry-After": "1"}))
    target = await engine.wait_settled(engine.add_post(account, "later", media=[_file(tmp_path, "a.png", PNG_1PX)]),
                                       timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(pinterest_fake.published()) == 1


async def test_pinterest_server_error_on_video_registration_is_retried(engine, pinterest_fake, tmp_path) -> None:
    account = await _pinterest(engine, pinterest_fake)
    pinterest_fake.inject(Fault("/v5/media", status=503))
    video = [_file(tmp_path, "v.mp4", b"\4" * 300, MediaKind.VIDEO)]
    target = await engine.wait_settled(engine.add_post(account, "retry", media=video))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2 and len(pinterest_fake.published()) == 1


async def test_pinterest_slow_video_is_retried_without_a_second_upload(engine, pinterest_fake, tmp_path,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.1")
    pinterest_fake.video_processing_seconds = 0.3
    account = await _pinterest(engine, pinterest_fake)
    video = [_file(tmp_path, "v.mp4", b"\4" * 300, MediaKind.VIDEO)]
    target = await engine.wait_settled(engine.add_post(account, "slow", media=video))
    assert target.status is TargetStatus.PUBLISHED and target.attempts >= 2
    assert len(pinterest_fake.media) == 1 and len(pinterest_fake.published()) == 1


async def test_pinterest_expired_token_is_renewed_and_a_dead_one_needs_reconnection(engine, pinterest_fake,
                                                                                   tmp_path) -> None:
    account = await _pinterest(engine, pinterest_fake)
    pinterest_fake.expire_access_tokens()
    first = await engine.wait_settled(engine.add_post(account, "renewed", media=[_file(tmp_path, "a.png", PNG_1PX)]))
    assert first.status is TargetStatus.PUBLISHED and pinterest_fake.refreshes == 1
    pinterest_fake.expire_access_tokens()
    pinterest_fake.refresh_tokens.clear()
    held = await engine.wait_settled(engine.add_post(account, "held", media=[_file(tmp_path, "b.png", PNG_1PX)]))
    assert held.status is TargetStatus.SCHEDULED and "Reconnect" in held.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert len(pinterest_fake.published()) == 1
