"""Unknown outcomes are checked again on a bounded schedule while the platform cannot be reached,
as armed wake-ups of the engine (state in the database), and a person is asked only at the end."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app.core.errors import PublishError
from app.core.models import ErrorKind, TargetStatus
from app.engine.runtime import Runtime
from app.platforms.base import ReconcileStatus, Reconciliation
from app.platforms.sandbox import SandboxAdapter
from app.store.schema import Attempt
from tests.engine.harness import EngineHarness


class Platform503:
    """The sandbox, where the publish's answer is lost and the checks meet `answers` in turn
    (None: the platform cannot be reached), the last one repeating."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answers: list[Reconciliation | None]) -> None:
        self.sent = 0
        self.checks = 0
        self.answers = answers
        platform = self

        async def publish(adapter: SandboxAdapter, job: Any, journal: Any) -> Any:
            platform.sent += 1
            raise PublishError(ErrorKind.UNKNOWN, "Sandbox did not answer after the post was sent.", code="ReadTimeout")

        async def reconcile(adapter: SandboxAdapter, job: Any) -> Reconciliation:
            answer = platform.answers[min(platform.checks, len(platform.answers) - 1)]
            platform.checks += 1
            if answer is None:
                raise PublishError(ErrorKind.TRANSIENT, "Sandbox had a server error (HTTP 503).", http_status=503)
            return answer

        monkeypatch.setattr(SandboxAdapter, "publish", publish)
        monkeypatch.setattr(SandboxAdapter, "reconcile", reconcile)


PUBLISHED = Reconciliation(ReconcileStatus.PUBLISHED, external_id="sbx-found", url="file:///feed.html#sbx-found")


async def test_a_lost_answer_is_checked_again_until_the_platform_answers_and_is_never_sent_twice(tmp_path, monkeypatch):
    platform = Platform503(monkeypatch, [None, None, PUBLISHED])
    async with EngineHarness.start(tmp_path, recheck_delays=(timedelta(seconds=0.4),) * 4) as h:
        post_id = h.add_post(h.sandbox(), "did it go out?", in_seconds=0.2)
        waiting = (await h.wait_until(post_id, lambda p: "checks again" in p.targets[0].last_error)).targets[0]
        # While it waits for the next check it stays "publishing", saying what happened and what comes next.
        assert waiting.status is TargetStatus.PUBLISHING
        assert waiting.last_error.startswith("The answer from Sandbox was lost (timeout). Outpost checks again at ")
        assert waiting.last_error.endswith("whether it went out; it will not send it twice.")
        target = await h.wait_settled(post_id)
    assert target.status is TargetStatus.PUBLISHED and target.external_id == "sbx-found"
    assert platform.checks == 3 and platform.sent == 1


async def test_when_the_checks_are_used_up_the_person_is_asked_once_without_contradictions(tmp_path, monkeypatch):
    platform = Platform503(monkeypatch, [None])
    notices: list[tuple[str, str, str]] = []
    async with EngineHarness.start(tmp_path, recheck_delays=(timedelta(seconds=0.05),) * 4) as h:
        h.runtime.on_notice(lambda *n: notices.append(n))
        post_id = h.add_post(h.sandbox(), "unreachable", in_seconds=0.2)
        target = await h.wait_settled(post_id)
        events = [e.message for e in h.planner.events() if e.post_id == post_id]
    assert target.status is TargetStatus.NEEDS_REVIEW
    assert platform.checks == 5 and platform.sent == 1  # the first check and four more
    assert target.last_error == (
        "The answer from Sandbox was lost (timeout). Sandbox could not be reached in 5 checks, so Outpost cannot "
        "tell whether it went out and stopped checking. Check Sandbox (Sandbox), then mark it published or publish "
        "it again.")
    assert [n[1] for n in notices if n[1].startswith("Check")] == ["Check Sandbox (Sandbox)"]
    assert sum("checks again" in m for m in events) == 4


async def test_a_platform_that_answers_and_cannot_tell_asks_the_person_without_waiting(tmp_path, monkeypatch):
    platform = Platform503(monkeypatch, [Reconciliation(ReconcileStatus.UNKNOWN, detail="no lookup")])
    async with EngineHarness.start(tmp_path, recheck_delays=(timedelta(seconds=30),) * 4) as h:
        target = await h.wait_settled(h.add_post(h.sandbox(), "opaque", in_seconds=0.2))
    assert target.status is TargetStatus.NEEDS_REVIEW and platform.checks == 1
    assert "Sandbox cannot tell whether it went out (no lookup)." in target.last_error


async def test_a_pending_check_survives_a_restart_and_runs_at_its_time(tmp_path, monkeypatch):
    platform = Platform503(monkeypatch, [None, PUBLISHED])
    delays = (timedelta(seconds=1.5),) * 4
    async with EngineHarness.start(tmp_path, recheck_delays=delays) as h:
        post_id = h.add_post(h.sandbox(), "across a restart", in_seconds=0.2)
        await h.wait_until(post_id, lambda p: "checks again" in p.targets[0].last_error)
    runtime = Runtime.open(tmp_path / "data", exclusive=False)
    try:
        with runtime.db.read() as s:
            attempt = s.query(Attempt).one()
            assert attempt.recheck_at is not None and attempt.checks == 1 and attempt.outcome == "unknown"
        assert runtime.planner.post(post_id).targets[0].status is TargetStatus.PUBLISHING
    finally:
        runtime.close()
    async with EngineHarness.start(tmp_path, recheck_delays=delays) as h:
        assert platform.checks == 1  # start-up recovery leaves it to its scheduled check
        target = await h.wait_settled(post_id)
    assert target.status is TargetStatus.PUBLISHED and platform.checks == 2 and platform.sent == 1


async def test_waiting_for_a_check_makes_no_sql_between_wake_ups(tmp_path, monkeypatch):
    Platform503(monkeypatch, [None])
    async with EngineHarness.start(tmp_path, recheck_delays=(timedelta(minutes=5),) * 4) as h:
        post_id = h.add_post(h.sandbox(), "waits five minutes", in_seconds=0.2)
        await h.wait_until(post_id, lambda p: "checks again" in p.targets[0].last_error)
        await h.quiet()
        publisher = h.runtime.publisher
        assert publisher.state().next_wakeup is not None  # armed for the check, not polling
        before = h.runtime.db.statements
        await asyncio.sleep(1.0)
        assert h.runtime.db.statements == before


async def test_a_post_marked_published_while_it_waits_is_not_checked_again(tmp_path, monkeypatch):
    platform = Platform503(monkeypatch, [None])
    async with EngineHarness.start(tmp_path, recheck_delays=(timedelta(seconds=0.5),) * 4) as h:
        post_id = h.add_post(h.sandbox(), "I looked myself", in_seconds=0.2)
        target = (await h.wait_until(post_id, lambda p: "checks again" in p.targets[0].last_error)).targets[0]
        h.planner.mark_published(target.id, "https://example.test/p/1")
        await asyncio.sleep(1.5)
        await h.quiet()
        assert h.target(post_id).status is TargetStatus.PUBLISHED
        assert h.runtime.publisher.state().next_wakeup is None  # nothing left to check
    assert platform.checks == 1 and platform.sent == 1
