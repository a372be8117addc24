"""YouTube through the real engine (SQLite file, timers, journal, native-scheduling handoff) to
the fake Data API: the final status, the fake's own count of videos, the message a person sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth.youtube import account_from_tokens
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.server import Fault
from tests.fakes.support import FAST
from tests.fakes.youtube import UPLOAD, FakeYouTube

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")
VIDEO_BYTES = bytes(range(256)) * 300


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)


@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, yt: FakeYouTube) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"youtube": yt.url}) as h:
        yield h


@pytest.fixture
def video(tmp_path: Path) -> MediaItem:
    path = tmp_path / "clip.mp4"
    path.write_bytes(VIDEO_BYTES)
    return MediaItem(str(path), kind=MediaKind.VIDEO, mime_type="video/mp4")


async def _youtube(h: EngineHarness, fake: FakeYouTube) -> AccountView:
    c = await account_from_tokens(fake.issue_tokens(), fake.client_id, fake.client_secret, api_base=fake.url,
                                  tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


async def test_a_video_is_published_once_with_its_title_and_comment(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    post = engine.add_post(account, "Launch day\nAll about it", media=[video], first_comment="Questions below")
    target = await engine.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED
    [v] = yt.published()
    assert target.external_id == v["id"] and target.external_url.endswith(v["id"])
    assert v["snippet"]["title"] == "Launch day" and yt.comments[0]["video_id"] == v["id"]


async def test_a_post_an_hour_ahead_is_handed_to_youtubes_own_scheduler(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    post = engine.add_post(account, "Premiere", media=[video], in_seconds=3600)
    view = await engine.wait_until(post, lambda p: p.targets[0].natively_scheduled)
    [v] = yt.published()
    assert view.targets[0].status is TargetStatus.SCHEDULED and view.targets[0].external_id == v["id"]
    assert v["status"]["privacyStatus"] == "private"
    publish_at = datetime.fromisoformat(v["status"]["publishAt"].replace("Z", "+00:00"))
    assert abs((publish_at - view.scheduled_at.astimezone(UTC)).total_seconds()) < 1  # type: ignore[union-attr]
    assert any("handed to YouTube" in e.message for e in engine.planner.events())


async def test_an_upload_dropped_mid_file_resumes_to_one_complete_video(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.truncate_next_upload = 20_000
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset_after"))
    target = await engine.wait_settled(engine.add_post(account, "Bumpy upload", media=[video]))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 1
    [v] = yt.published()
    assert v["size"] == len(VIDEO_BYTES) and len(yt.sessions) == 1


async def test_an_unclear_end_of_upload_is_reconciled_through_the_session(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.inject(Fault(UPLOAD, method="PUT", kind="hang_after", hang_seconds=3))
    yt.inject(Fault(UPLOAD, method="PUT", status=503))
    target = await engine.wait_settled(engine.add_post(account, "Did it finish?", media=[video]))
    assert target.status is TargetStatus.PUBLISHED and len(yt.published()) == 1
    assert target.external_id == yt.published()[0]["id"]
    assert any("Confirmed post" in e.message for e in engine.planner.events())


async def test_a_used_up_quota_holds_the_post_with_a_clear_reason(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.inserts_per_day = 0
    post = engine.add_post(account, "Over quota", media=[video])
    # settled: the hold is written back (the event can be committed a moment before the target is)
    view = await engine.wait_until(post, lambda p: p.targets[0].status is TargetStatus.SCHEDULED and (
        "quota" in p.targets[0].last_error.lower() or any("rate limit" in e.message for e in engine.planner.events())))
    target = view.targets[0]
    assert target.status is TargetStatus.SCHEDULED and yt.published() == []
    assert any("YouTube rate limit" in e.message for e in engine.planner.events())


async def test_a_revoked_sign_in_asks_for_reconnection(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.expire_access_tokens()
    yt.refresh_tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "Held", media=[video]))
    assert target.status is TargetStatus.SCHEDULED and "Reconnect" in target.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT and yt.published() == []


async def test_a_server_error_starting_the_upload_is_retried(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.inject(Fault(UPLOAD, method="POST", status=500))
    target = await engine.wait_settled(engine.add_post(account, "Second try", media=[video]))
    assert target.status is TargetStatus.PUBLISHED and target.attempts == 2 and len(yt.published()) == 1


async def test_an_unaudited_project_publishes_privately_and_says_why(engine, yt, video) -> None:
    account = await _youtube(engine, yt)
    yt.unverified_project = True
    target = await engine.wait_settled(engine.add_post(account, "Private by force", media=[video]))
    assert target.status is TargetStatus.PUBLISHED and len(yt.published()) == 1
    assert "audit" in target.last_error and any("with a warning" in e.message for e in engine.planner.events())
