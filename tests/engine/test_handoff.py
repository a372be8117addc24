"""Handing posts to a platform's own scheduler (Mastodon's scheduled_at and the like)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest

from app.core.errors import OutpostError, PublishError
from app.core.models import ErrorKind, Platform, PostSpec, TargetStatus
from app.core.rules import rules_for, validate_content
from app.core.timeutil import utcnow
from app.platforms import registry
from app.platforms.base import PublishResult, ReconcileStatus, Reconciliation
from tests.engine.harness import EngineHarness


class NativeScheduler:
    """A platform that schedules natively; records every call so duplicates show."""

    platform = Platform.MASTODON
    calls: ClassVar[list[tuple[int, object]]] = []
    refuse = False

    def __init__(self, context):  # type: ignore[no-untyped-def]
        self.context = context

    def rules(self, account):  # type: ignore[no-untyped-def]
        return rules_for(Platform.MASTODON)

    def validate(self, content, account):  # type: ignore[no-untyped-def]
        return validate_content(content, self.rules(account))

    async def publish(self, job, journal):  # type: ignore[no-untyped-def]
        type(self).calls.append((job.post_id, job.native_schedule_at))
        if job.native_schedule_at is not None:
            if type(self).refuse:
                raise PublishError(ErrorKind.PERMANENT, "Validation failed: 25 scheduled posts a day", http_status=422)
            return PublishResult(external_id="scheduled:77", natively_scheduled=True)
        return PublishResult(external_id="status:1", url="https://fake/1")

    async def reconcile(self, job):  # type: ignore[no-untyped-def]
        return Reconciliation(ReconcileStatus.UNKNOWN)

    async def refresh_credentials(self, account):  # type: ignore[no-untyped-def]
        return None

    async def aclose(self):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
def native(monkeypatch):  # type: ignore[no-untyped-def]
    NativeScheduler.calls = []
    NativeScheduler.refuse = False
    monkeypatch.setitem(registry.ADAPTERS, Platform.MASTODON, f"{__name__}:NativeScheduler")
    return NativeScheduler


async def test_a_post_far_ahead_is_handed_to_the_platforms_scheduler_once(tmp_path, native):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
        when = utcnow() + timedelta(hours=3)
        post_id = h.planner.create_post(PostSpec(text="while I sleep", account_ids=(account.id,),
                                                 scheduled_at=when, timezone="UTC"))
        view = await h.wait_until(post_id, lambda p: p.targets[0].natively_scheduled)
        assert view.status.value == "scheduled" and view.natively_scheduled
        assert native.calls == [(post_id, when)]
        with pytest.raises(OutpostError, match="own scheduler"):
            h.planner.reschedule({post_id: when + timedelta(hours=1)})
        h.planner.add_account(Platform.SANDBOX, "other")  # any later change must not hand it off again
        await h.quiet()
        assert native.calls == [(post_id, when)]


async def test_a_post_deleted_on_the_platform_is_taken_back_as_a_draft_and_can_then_move(tmp_path, native):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
        when = utcnow() + timedelta(hours=3)
        post_id = h.planner.create_post(PostSpec(text="changed my mind", account_ids=(account.id,),
                                                 scheduled_at=when, timezone="UTC"))
        await h.wait_until(post_id, lambda p: p.targets[0].natively_scheduled)
        with pytest.raises(OutpostError, match="Take back"):  # deleting here would leave it to go out there
            h.planner.delete(post_id)
        assert h.planner.take_back(post_id) == 1
        view = h.post(post_id)
        target = view.targets[0]
        assert view.status.value == "draft" and target.status is TargetStatus.DRAFT
        assert not target.natively_scheduled and target.external_id == "" and view.scheduled_at == when
        assert any("taken back" in e.message for e in h.planner.events())
        await h.quiet()
        assert native.calls == [(post_id, when)]  # nothing sent, nothing handed again while it is a draft
        with pytest.raises(OutpostError, match="nothing to take back"):
            h.planner.take_back(post_id)
        h.planner.reschedule({post_id: when + timedelta(hours=1)})  # movable now; scheduling hands it over again
        view = await h.wait_until(post_id, lambda p: p.targets[0].natively_scheduled)
        assert native.calls == [(post_id, when), (post_id, when + timedelta(hours=1))]


async def test_a_soon_post_stays_with_outposts_own_scheduler(tmp_path, native):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
        post_id = h.add_post(account, "in a moment", in_seconds=0.5)
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED and not target.natively_scheduled
        assert native.calls == [(post_id, None)]


async def test_a_refused_handoff_is_published_by_outpost_at_the_time(tmp_path, native):
    native.refuse = True
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
        post_id = h.planner.create_post(PostSpec(text="later", account_ids=(account.id,), timezone="UTC",
                                                 scheduled_at=utcnow() + timedelta(hours=3)))
        await h.wait_until(post_id, lambda p: len(native.calls) == 1 and p.targets[0].status is TargetStatus.SCHEDULED)
        view = h.post(post_id)
        assert not view.natively_scheduled
        assert any("did not take post" in e.message for e in h.planner.events())
        h.planner.reschedule({post_id: utcnow() + timedelta(hours=4)})  # still Outpost's: movable
        await h.quiet()
        assert len(native.calls) == 1  # a refused handoff is not retried on every change


async def test_at_its_time_a_handed_off_post_is_published_by_the_platform_not_sent_again(tmp_path, native):
    from app.store.schema import Target

    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
        post_id = h.add_post(account, "handed earlier", in_seconds=1.5)
        with h.runtime.db.write() as s:  # as if it had been handed off hours ago
            target = s.query(Target).filter_by(post_id=post_id).one()
            target.natively_scheduled = True
            target.external_id = "scheduled:77"
        target_view = await h.wait_settled(post_id)
        assert target_view.status is TargetStatus.PUBLISHED
        assert native.calls == []
        assert any("own scheduler" in e.message for e in h.planner.events())


async def test_an_account_on_a_platform_without_an_adapter_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.delitem(registry.ADAPTERS, Platform.PINTEREST)
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.PINTEREST, "boards")
        spec = PostSpec(text="pin", account_ids=(account.id,), scheduled_at=utcnow() + timedelta(hours=1),
                        timezone="UTC")
        [problem] = h.planner.validate(spec)
        assert problem.field == "account" and "not supported yet" in problem.message
        with pytest.raises(OutpostError, match="not supported yet"):
            h.planner.create_post(spec)
