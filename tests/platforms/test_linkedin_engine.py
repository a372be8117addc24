"""LinkedIn through the real engine (SQLite file, timers, journal) to the fake LinkedIn API:
the final status, the fake's own count of posts, and the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth.linkedin import account_from_tokens
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.platforms.linkedin import escape_little_text
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.linkedin import FakeLinkedIn
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
def linkedin_fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, linkedin_fake: FakeLinkedIn) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"linkedin": linkedin_fake.url}) as h:
        yield h


async def _linkedin(h: EngineHarness, fake: FakeLinkedIn, *, expires_in: float | None = None) -> AccountView:
    c = await account_from_tokens(fake.issue_tokens(expires_in=expires_in), fake.client_id, fake.client_secret,
                                  api_base=fake.url, tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


def _file(tmp_path: Path, name: str, data: bytes, kind: MediaKind = MediaKind.IMAGE) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(str(path), kind=kind)


@pytest.mark.parametrize("what", ["text", "image", "images", "video"])
async def test_linkedin_every_content_type_is_published_once(engine, linkedin_fake, tmp_path, what) -> None:
    linkedin_fake.video_processing_seconds = 0.05
    media = {"text": [], "image": [_file(tmp_path, "a.png", PNG_1PX)],
             "images": [_file(tmp_path, f"{i}.png", PNG_1PX) for i in range(3)],
             "video": [_file(tmp_path, "v.mp4", b"\5" * 6000, MediaKind.VIDEO)]}[what]
    account = await _linkedin(engine, linkedin_fake)
    text = f"LinkedIn {what} (with #tags and [brackets])"
    target = await engine.wait_settled(engine.add_post(account, text, media=media, first_comment="thanks!"))
    assert target.status is TargetStatus.PUBLISHED
    [post] = linkedin_fake.published()
    assert target.external_id == post["id"] and post["commentary"] == escape_little_text(text)
    assert len(post["media"]) == len(media) and linkedin_fake.comments[0]["object"] == post["id"]


async def test_linkedin_lost_answer_is_found_when_posts_can_be_read(engine, linkedin_fake) -> None:
    linkedin_fake.can_read_posts = True
    account = await _linkedin(engine, linkedin_fake)
    linkedin_fake.inject(Fault("/rest/posts", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "exactly once"))
    assert target.status is TargetStatus.PUBLISHED and len(linkedin_fake.published()) == 1
    assert target.external_id == linkedin_fake.published()[0]["id"]


async def test_linkedin_lost_answer_without_read_access_goes_to_review(engine, linkedin_fake) -> None:
    account = await _linkedin(engine, linkedin_fake)
    linkedin_fake.inject(Fault("/rest/posts", kind="reset_after"))
    target = await engine.wait_settled(engine.add_post(account, "unclear"))
    assert target.status is TargetStatus.NEEDS_REVIEW and "cannot tell whether it went out" in target.last_error
    assert "mark it published or publish it again" in target.last_error  # what to do, said once
    assert len(linkedin_fake.published()) == 1


async def test_linkedin_server_error_before_the_post_is_retried(engine, linkedin_fake, tmp_path) -> None:
    account = await _linkedin(engine, linkedin_fake)
    linkedin_fake.inject(Fault("/rest/images", status=503))
    target = await engine.wait_settled(engine.add_post(account, "retry", media=[_file(tmp_path, "a.png", PNG_1PX)]))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2 and len(linkedin_fake.published()) == 1


async def test_linkedin_rate_limit_waits_then_publishes(engine, linkedin_fake) -> None:
    account = await _linkedin(engine, linkedin_fake)
    linkedin_fake.inject(Fault("/rest/posts", status=429, headers={"Retry-After": "1"}))
    target = await engine.wait_settled(engine.add_post(account, "patiently"), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(linkedin_fake.published()) == 1


async def test_linkedin_slow_video_is_retried_without_a_second_upload(engine, linkedin_fake, tmp_path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING + ",max_processing_wait=0.1")
    linkedin_fake.video_processing_seconds = 0.3
    account = await _linkedin(engine, linkedin_fake)
    video = [_file(tmp_path, "v.mp4", b"\5" * 2000, MediaKind.VIDEO)]
    target = await engine.wait_settled(engine.add_post(account, "slow", media=video))
    assert target.status is TargetStatus.PUBLISHED and target.attempts >= 2
    assert len(linkedin_fake.videos) == 1 and len(linkedin_fake.published()) == 1


async def test_linkedin_sign_in_near_its_end_publishes_with_a_reconnect_reminder(engine, linkedin_fake) -> None:
    account = await _linkedin(engine, linkedin_fake, expires_in=2 * 86400)
    target = await engine.wait_settled(engine.add_post(account, "soon"))
    assert target.status is TargetStatus.PUBLISHED and "reconnect the account before then" in target.last_error
    assert any("reconnect the account before then" in e.message for e in engine.planner.events())


async def test_linkedin_revoked_token_holds_the_post(engine, linkedin_fake) -> None:
    account = await _linkedin(engine, linkedin_fake)
    linkedin_fake.tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED and "Reconnect" in target.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
    assert linkedin_fake.published() == []
