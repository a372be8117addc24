"""The publisher with real timers, a real SQLite file and the sandbox adapter."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from app.core.models import AccountStatus, AttemptOutcome, Platform, PostStatus, TargetStatus
from app.core.timeutil import utcnow
from app.engine.scheduler import MAX_WAIT
from tests.engine.harness import EngineHarness


async def test_a_post_two_seconds_ahead_publishes_once_on_time(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        post_id = h.add_post(h.sandbox(), "hello world", in_seconds=2)
        scheduled = h.post(post_id).scheduled_at
        target = await h.wait_settled(post_id, timeout=6)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 1
        items = h.sandbox_items()
        assert [i["text"] for i in items] == ["hello world"]
        published_at = items[0]["published_at"]
        from datetime import datetime

        late = datetime.fromisoformat(published_at) - scheduled
        assert timedelta(0) <= late < timedelta(seconds=1)
        assert target.external_url.endswith(items[0]["id"])


async def test_two_hundred_posts_due_in_the_same_second_publish_exactly_once(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.sandbox()
        when = 1.0
        ids = [h.add_post(account, f"post {i}", in_seconds=when) for i in range(200)]
        for post_id in ids:
            await h.wait_settled(post_id, timeout=20)
        items = h.sandbox_items()
        assert Counter(i["post_id"] for i in items) == Counter({i: 1 for i in ids})
        assert all(h.target(i).attempts == 1 for i in ids)
        assert h.planner.counts()[PostStatus.PUBLISHED] == 200


async def test_transient_errors_are_retried_with_backoff_then_publish(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "flaky", settings={"fail": "transient", "fail_times": 2})
        post_id = h.add_post(account, "try again")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 3
        outcomes = [a.outcome for a in h.planner.attempts(post_id)]
        assert outcomes == [AttemptOutcome.FAILED, AttemptOutcome.FAILED, AttemptOutcome.SUCCEEDED]
        assert len(h.sandbox_items()) == 1


async def test_transient_errors_give_up_after_three_attempts_with_a_reason(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "down", settings={"fail": "transient"})
        post_id = h.add_post(account, "never")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.FAILED
        assert target.attempts == 3
        assert "Gave up after 3 attempts" in target.last_error
        assert h.sandbox_items() == []


async def test_a_permanent_error_fails_at_once_with_the_platform_message(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "strict", settings={"fail": "permanent"})
        post_id = h.add_post(account, "rejected")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.FAILED
        assert target.attempts == 1
        assert "rejected the post" in target.last_error


async def test_an_unknown_outcome_that_did_publish_is_confirmed_not_repeated(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "slow", settings={"fail": "unknown_after_write", "fail_times": 1})
        post_id = h.add_post(account, "did it go out?")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 1  # confirmed by reconciliation, not re-sent
        assert len(h.sandbox_items()) == 1


async def test_an_unknown_outcome_proved_unpublished_is_retried_once(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "lossy", settings={"fail": "unknown", "fail_times": 1})
        post_id = h.add_post(account, "lost on the way")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 2
        assert len(h.sandbox_items()) == 1


async def test_an_unknown_outcome_that_cannot_be_reconciled_goes_to_review(tmp_path, monkeypatch):
    from app.platforms.base import ReconcileStatus, Reconciliation
    from app.platforms.sandbox import SandboxAdapter

    async def cannot_tell(self, job):  # type: ignore[no-untyped-def]
        return Reconciliation(ReconcileStatus.UNKNOWN, detail="no lookup")

    monkeypatch.setattr(SandboxAdapter, "reconcile", cannot_tell)
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "opaque", settings={"fail": "unknown"})
        post_id = h.add_post(account, "who knows")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.NEEDS_REVIEW
        assert target.attempts == 1
        # The platform answered the check and cannot say: no re-check, the person is asked at once.
        assert target.last_error == ("The answer from Sandbox was lost. Sandbox cannot tell whether it went out "
                                     "(no lookup). Check opaque (Sandbox), then mark it published or publish it again.")
        assert "try again" not in target.last_error
        assert h.post(post_id).status is PostStatus.NEEDS_REVIEW


async def test_an_auth_error_holds_posts_until_the_account_is_reconnected(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "expired", settings={"fail": "auth", "fail_times": 1})
        post_id = h.add_post(account, "held")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.SCHEDULED
        assert h.planner.account(account.id).status is AccountStatus.NEEDS_RECONNECT
        assert target.last_error.startswith("Reconnect")
        await asyncio.sleep(0.3)
        assert h.target(post_id).attempts == 1  # held, not retried in a loop
        h.planner.set_account_status(account.id, AccountStatus.ACTIVE)
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED


async def test_a_rate_limit_waits_for_the_platform_then_publishes(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "busy", settings={"fail": "rate_limit", "fail_times": 1})
        post_id = h.add_post(account, "later")
        # (While it waits it may already be claimed and journaled ahead of its new time: "publishing".)
        await h.wait_until(post_id, lambda p: account.id in h.runtime.publisher.state().held_accounts)
        state = h.runtime.publisher.state()
        assert "rate limit" in state.held_accounts[account.id]
        assert state.paused_platforms == {}  # one account's limit does not hold the others
        other = h.add_post(h.sandbox(), "another account, same platform", in_seconds=0.1)
        assert (await h.wait_settled(other)).status is TargetStatus.PUBLISHED
        target = await h.wait_settled(post_id, timeout=5)
        assert target.status is TargetStatus.PUBLISHED
        assert target.attempts == 2
        order = [i["post_id"] for i in sorted(h.sandbox_items(), key=lambda i: i["published_at"])]
        assert order == [other, post_id]  # the other account did not wait for this one's limit


async def test_the_circuit_breaker_pauses_a_failing_platform_and_says_so(tmp_path):
    async with EngineHarness.start(tmp_path, max_attempts=1) as h:
        account = h.add_account(Platform.SANDBOX, "outage", settings={"fail": "transient"})
        ids = [h.add_post(account, f"p{i}", in_seconds=0.3 + i * 0.05) for i in range(5)]
        for post_id in ids:
            await h.wait_settled(post_id)
        state = h.runtime.publisher.state()
        assert "paused for 5 min" in state.paused_platforms[Platform.SANDBOX]
        later = h.add_post(h.sandbox(), "waits for the breaker", in_seconds=0.2)
        await asyncio.sleep(0.6)
        assert h.target(later).status is TargetStatus.SCHEDULED
        assert any(e.message.startswith("Sandbox failed 5 times") for e in h.planner.events())


async def test_the_first_comment_and_thread_reach_the_sandbox(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        post_id = h.add_post(h.sandbox(), "part one", first_comment="link in comment", thread=("part two",),
                             title="A title for YouTube and Pinterest")
        assert (await h.wait_settled(post_id)).status is TargetStatus.PUBLISHED
        [item] = h.sandbox_items()
        assert item["first_comment"] == "link in comment"
        assert item["thread"] == ["part two"]
        assert item["title"] == "A title for YouTube and Pinterest"
        feed = h.data_dir / "sandbox" / "feed.html"
        for _ in range(40):  # the feed is rewritten a moment after publishing
            if feed.exists():
                break
            await asyncio.sleep(0.05)
        assert feed.read_text().count("part two") == 1


async def test_a_recurring_post_gets_its_next_occurrence(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        post_id = h.add_post(h.sandbox(), "daily tip", recurrence={"kind": "daily"})
        await h.wait_settled(post_id)
        first = h.post(post_id)
        assert first.scheduled_at is not None
        following = h.planner.posts_between(first.scheduled_at + timedelta(hours=1),
                                            first.scheduled_at + timedelta(days=2))
        assert [p.scheduled_at for p in following] == [first.scheduled_at + timedelta(days=1)]
        assert following[0].status is PostStatus.SCHEDULED
        assert following[0].series_id == first.series_id


async def test_nothing_queries_the_database_while_nothing_is_due(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        h.planner.create_post(__import__("app.core.models", fromlist=["PostSpec"]).PostSpec(
            text="next week", account_ids=(h.sandbox().id,), scheduled_at=utcnow() + timedelta(days=40),
            timezone="UTC"))
        await h.quiet()  # the change's own work (the handoff check) is done on the writer thread
        before = h.runtime.db.statements
        await asyncio.sleep(1.0)
        assert h.runtime.db.statements == before
        scheduler = h.runtime.publisher.scheduler
        assert scheduler is not None
        timer = scheduler._timeout  # the armed asyncio timer handle
        assert timer is not None
        assert timer.when() - asyncio.get_running_loop().time() <= MAX_WAIT + 0.1


async def test_pausing_stops_publishing_and_resuming_catches_up(tmp_path):
    async with EngineHarness.start(tmp_path) as h:
        h.runtime.publisher.pause()
        post_id = h.add_post(h.sandbox(), "after the pause", in_seconds=0.2)
        await asyncio.sleep(0.6)
        assert h.target(post_id).status is TargetStatus.SCHEDULED
        h.runtime.publisher.resume()
        assert (await h.wait_settled(post_id)).status is TargetStatus.PUBLISHED


async def test_reconciliation_sees_the_steps_journaled_during_the_failed_call(tmp_path, monkeypatch):
    from app.core.errors import PublishError
    from app.core.models import ErrorKind
    from app.platforms.base import ReconcileStatus, Reconciliation
    from app.platforms.sandbox import SandboxAdapter

    seen: list[dict[str, str]] = []

    async def publish_then_lose_the_answer(self, job, journal):  # type: ignore[no-untyped-def]
        journal.record("container_id", "c-42")
        raise PublishError(ErrorKind.UNKNOWN, "read timeout after the container was published")

    async def reconcile(self, job):  # type: ignore[no-untyped-def]
        seen.append(dict(job.checkpoints))
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id="post-from-c-42")

    monkeypatch.setattr(SandboxAdapter, "publish", publish_then_lose_the_answer)
    monkeypatch.setattr(SandboxAdapter, "reconcile", reconcile)
    async with EngineHarness.start(tmp_path) as h:
        post_id = h.add_post(h.sandbox(), "container flow")
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED and target.external_id == "post-from-c-42"
        assert seen == [{"container_id": "c-42"}]
