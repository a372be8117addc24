"""Restarts: catch-up, missed posts, orphaned claims and in-flight attempts, graceful drain."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from app.core.models import AttemptOutcome, Platform, PostSpec, PostStatus, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store.schema import Attempt, Target
from tests.engine.harness import FAST, EngineHarness


def _create(data_dir, text, seconds, account="sandbox"):  # type: ignore[no-untyped-def]
    runtime = Runtime.open(data_dir, settings=FAST)
    try:
        account_id = runtime.planner.find_account(account).id
        return runtime.planner.create_post(PostSpec(text=text, account_ids=(account_id,),
                                                    scheduled_at=utcnow() + timedelta(seconds=seconds), timezone="UTC"))
    finally:
        runtime.close()


async def test_a_restart_catches_up_overdue_posts_in_order(tmp_path):
    data = tmp_path / "data"
    ids = [_create(data, f"overdue {i}", 0.2 + i * 0.1) for i in range(3)]
    await asyncio.sleep(0.8)  # the app is "closed" while they fall due
    async with EngineHarness.start(tmp_path) as h:
        for post_id in ids:
            assert (await h.wait_settled(post_id)).status is TargetStatus.PUBLISHED
        items = sorted(h.sandbox_items(), key=lambda i: i["published_at"])
        assert [i["post_id"] for i in items] == ids


async def test_posts_later_than_the_catch_up_window_become_missed_with_a_reason(tmp_path):
    data = tmp_path / "data"
    old = _create(data, "too late", 0.1)
    await asyncio.sleep(1.2)
    async with EngineHarness.start(tmp_path, catchup_window=timedelta(seconds=1)) as h:
        target = await h.wait_settled(old)
        assert target.status is TargetStatus.MISSED
        assert "not running" in target.last_error
        assert h.sandbox_items() == []
        assert [p.id for p in h.planner.missed()] == [old]
        h.planner.publish_now(old)
        assert (await h.wait_settled(old)).status is TargetStatus.PUBLISHED


def _leave_in_flight(data_dir, post_id, *, sent: bool):  # type: ignore[no-untyped-def]
    """Make the database look like a crash happened mid-publish."""
    runtime = Runtime.open(data_dir, settings=FAST)
    try:
        with runtime.db.write() as s:
            target = s.query(Target).filter_by(post_id=post_id).one()
            target.status = TargetStatus.PUBLISHING.value
            target.attempts = 1
            s.add(Attempt(target_id=target.id, idempotency_key="crashkey0123456789", outcome="in_flight"))
            account = target.account
            handle = account.handle
            account_id = account.id
        if sent:  # the platform had received it before the crash
            folder = data_dir / "sandbox" / f"{account_id}-{handle}"
            folder.mkdir(parents=True, exist_ok=True)
            item = {"id": "sbx-crashkey01234567", "url": "file:///feed.html#x", "post_id": post_id,
                    "published_at": "2026-01-01T00:00:00+00:00", "text": "t"}
            (folder / "crashkey0123456789.json").write_text(json.dumps(item))
    finally:
        runtime.close()


async def test_an_in_flight_attempt_that_reached_the_platform_is_reconciled_not_resent(tmp_path):
    data = tmp_path / "data"
    post_id = _create(data, "crash after send", 60)
    _leave_in_flight(data, post_id, sent=True)
    async with EngineHarness.start(tmp_path) as h:
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.external_id == "sbx-crashkey01234567"
        assert target.attempts == 1
        assert len(h.sandbox_items()) == 1


async def test_an_in_flight_attempt_that_never_arrived_is_published_once(tmp_path):
    data = tmp_path / "data"
    post_id = _create(data, "crash before send", 60)
    _leave_in_flight(data, post_id, sent=False)
    async with EngineHarness.start(tmp_path) as h:
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 1  # the one cut short by the stop, found never sent, does not count
        assert len(h.sandbox_items()) == 1
        outcomes = [a.outcome for a in h.planner.attempts(post_id)]
        assert outcomes == [AttemptOutcome.FAILED, AttemptOutcome.SUCCEEDED]  # checked: it never arrived


async def test_a_claim_without_an_attempt_is_given_back_on_restart(tmp_path):
    data = tmp_path / "data"
    post_id = _create(data, "claimed only", 0.3)
    runtime = Runtime.open(data, settings=FAST)
    with runtime.db.write() as s:
        s.query(Target).filter_by(post_id=post_id).one().status = TargetStatus.PUBLISHING.value
    runtime.close()
    async with EngineHarness.start(tmp_path) as h:
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 1


async def test_quitting_mid_publish_records_an_unknown_outcome_and_the_next_start_resolves_it(tmp_path):
    async with EngineHarness.start(tmp_path, drain_timeout=0.2) as h:
        slow = h.add_account(Platform.SANDBOX, "slow", settings={"latency_ms": 3000})
        post_id = h.add_post(slow, "interrupted", in_seconds=0.1)
        await h.wait_until(post_id, lambda p: p.targets[0].attempts == 1)
    async with EngineHarness.start(tmp_path) as h:
        outcomes = [a.outcome for a in h.planner.attempts(post_id)]
        assert outcomes[0] is AttemptOutcome.UNKNOWN
        h.planner.update_account_settings(h.planner.find_account("slow").id, {"latency_ms": 0})
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert len(h.sandbox_items()) == 1


async def test_a_partial_success_is_shown_as_partial(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        bad = h.add_account(Platform.SANDBOX, "bad", settings={"fail": "permanent"})
        post_id = h.planner.create_post(PostSpec(text="two places", account_ids=(h.sandbox().id, bad.id),
                                                 scheduled_at=utcnow() + timedelta(seconds=0.3), timezone="UTC"))
        view = await h.wait_until(post_id, lambda p: all(t.status in (TargetStatus.PUBLISHED, TargetStatus.FAILED)
                                                         for t in p.targets))
        assert view.status is PostStatus.PARTIAL
