"""Facebook Pages through the real engine (SQLite file, timers, journal, native-scheduling
handoff) to the fake Graph API: the final status, the fake's own record, the message a person sees.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.auth import facebook as facebook_auth
from app.core.models import AccountStatus, MediaItem, MediaKind, TargetStatus
from app.store.views import AccountView
from tests.engine.harness import EngineHarness
from tests.fakes.facebook import FakeFacebook
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX

TUNING = ("connect_timeout=1,read_timeout=0.4,write_timeout=1,pool_timeout=1,poll_interval=0.02,"
          "max_processing_wait=2,backoff_base=0.02,not_ready_retries=4")


@pytest.fixture(autouse=True)
def _fast_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPOST_TUNING", TUNING)


@pytest.fixture
def fb() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


@pytest.fixture
async def engine(tmp_path: Path, fb: FakeFacebook) -> AsyncIterator[EngineHarness]:
    async with EngineHarness.start(tmp_path, api_base={"facebook": fb.url}) as h:
        yield h


async def _facebook(h: EngineHarness, fake: FakeFacebook) -> AccountView:
    c = await facebook_auth.account_from_token(fake.issue_user_token(), api_base=fake.url, tuning=FAST)
    return h.add_account(c.platform, c.handle, display_name=c.display_name, settings=c.settings, secrets=c.secrets)


def _files(tmp_path: Path, kinds: str) -> list[MediaItem]:
    out = []
    for i, kind in enumerate(kinds):
        path = tmp_path / (f"{i}.png" if kind == "p" else f"{i}.mp4")
        path.write_bytes(PNG_1PX if kind == "p" else b"\0" * 4096)
        out.append(MediaItem(str(path)) if kind == "p" else MediaItem(str(path), kind=MediaKind.VIDEO))
    return out


@pytest.mark.parametrize("kinds,expected", [("", "status"), ("p", "photo"), ("ppp", "photos"), ("v", "video")],
                         ids=["text", "photo", "multi-photo", "video"])
async def test_every_content_type_is_published_once(engine, fb, tmp_path, kinds, expected) -> None:
    account = await _facebook(engine, fb)
    post = engine.add_post(account, "Page post https://bakery.example", media=_files(tmp_path, kinds),
                           first_comment="c")
    target = await engine.wait_settled(post)
    assert target.status is TargetStatus.PUBLISHED
    [published] = fb.published()
    assert published["kind"] == expected
    assert target.external_id in (published["id"], published.get("video_id"))
    if expected != "video":
        assert fb.comments[0]["post_id"] == published["id"]


async def test_a_post_an_hour_ahead_is_handed_to_facebooks_scheduler(engine, fb, tmp_path) -> None:
    account = await _facebook(engine, fb)
    post = engine.add_post(account, "Grand opening", media=_files(tmp_path, "pp"), in_seconds=3600)
    view = await engine.wait_until(post, lambda p: p.targets[0].natively_scheduled)
    [scheduled] = fb.scheduled()
    assert view.targets[0].status is TargetStatus.SCHEDULED and view.targets[0].external_id == scheduled["id"]
    assert fb.published() == [] and any("handed to Facebook" in e.message for e in engine.planner.events())


async def test_a_lost_answer_is_reconciled_through_the_page_feed(engine, fb) -> None:
    account = await _facebook(engine, fb)
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/feed", kind="hang_after", hang_seconds=3))
    target = await engine.wait_settled(engine.add_post(account, "exactly once"))
    assert target.status is TargetStatus.PUBLISHED and len(fb.published()) == 1
    assert target.external_id == fb.published()[0]["id"]


async def test_a_server_error_on_create_goes_to_review_without_a_duplicate(engine, fb) -> None:
    account = await _facebook(engine, fb)
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/feed", status=502))
    target = await engine.wait_settled(engine.add_post(account, "unclear"))
    assert target.status is TargetStatus.NEEDS_REVIEW and "Check" in target.last_error
    assert fb.published() == []


async def test_a_throttled_page_waits_then_publishes(engine, fb) -> None:
    account = await _facebook(engine, fb)
    usage = json.dumps({fb.page_id: [{"call_count": 100, "estimated_time_to_regain_access": 0.01}]})
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/feed", status=400, headers={"X-Business-Use-Case-Usage": usage},
                    body={"error": {"message": "(#32) Page request limit reached", "code": 32}}))
    target = await engine.wait_settled(engine.add_post(account, "patiently"), timeout=10)
    assert target.status is TargetStatus.PUBLISHED and len(fb.published()) == 1


async def test_a_revoked_page_token_asks_for_reconnection(engine, fb) -> None:
    account = await _facebook(engine, fb)
    fb.page_tokens.clear()
    target = await engine.wait_settled(engine.add_post(account, "held"))
    assert target.status is TargetStatus.SCHEDULED and "Reconnect" in target.last_error
    assert engine.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT and fb.posts == []


async def test_a_policy_refusal_fails_with_metas_message(engine, fb) -> None:
    account = await _facebook(engine, fb)
    fb.inject(Fault(rf"/v26.0/{fb.page_id}/feed", status=400, body={"error": {
        "message": "(#368) The action attempted has been deemed abusive or is otherwise disallowed", "code": 368}}))
    target = await engine.wait_settled(engine.add_post(account, "refused"))
    assert target.status is TargetStatus.FAILED and "deemed abusive" in target.last_error and fb.posts == []
