"""The attempt journal: an IN_FLIGHT row committed before each platform call (reliability.md P1).

Attempts are written on the writer thread in group commits: the attempts a wake-up claims ahead
of their instant go together, as do those that fall due while a batch is being committed; each
batch is one IMMEDIATE transaction. Each is on disk, with synchronous=FULL, before its request
leaves, but 200 posts due at the same instant cost a few fsyncs instead of 200, written before the
instant, and the loop never waits for one. A row's `started_at` is its instant: recovery reads a
row whose instant had not come as not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from app.core.models import AttemptOutcome, PostContent
from app.engine.outcomes import Claim, close_unsent_attempt
from app.engine.writer import DatabaseWriter, GroupCommit
from app.platforms.base import PublishJob
from app.store.schema import Attempt, Target

log = logging.getLogger("outpost.journal")


@dataclass(frozen=True)
class Journaled:
    job: PublishJob
    attempts: int  # the target's attempts, this one included


class JournalWriter:
    def __init__(self, writes: DatabaseWriter, clock: Callable[[], datetime]) -> None:
        self.writes = writes
        self.clock = clock
        self._group: GroupCommit[Claim, Journaled] = GroupCommit(writes, self._insert)

    async def begin(self, claim: Claim) -> Journaled:
        """Journal an attempt for `claim`; returns once it is committed.

        Cancelled, it leaves no open attempt behind: one not yet written is dropped, one already
        being written is closed as not sent (nothing was sent: the caller never got its job).
        """
        queued = self._group.submit(claim)
        try:
            journaled = await asyncio.shield(queued.future)
        except asyncio.CancelledError:
            if not queued.sent:
                queued.future.cancel()
                raise
            with contextlib.suppress(Exception):  # (an error means it was not committed: nothing to close)
                attempt_id = (await queued.future).job.attempt_id
                await self.writes.write(partial(close_unsent_attempt, attempt_id=attempt_id, now=self.clock()))
            raise
        log.info("publishing", extra={"post": claim.post_id, "target": claim.target_id,
                                      "platform": claim.platform.value, "attempt": journaled.job.attempt_id})
        return journaled

    async def idle(self) -> None:
        """Wait for the batch being written, if any (shutdown)."""
        await self._group.idle()

    def _insert(self, session: Session, claims: list[Claim]) -> list[Journaled]:
        return _insert_attempts(claims, self.clock(), session)


def _insert_attempts(claims: list[Claim], now: datetime, session: Session) -> list[Journaled]:
    """On the writer thread: one IN_FLIGHT attempt per claim, in one transaction of two statements
    (a batch of 200 costs milliseconds, not a statement pair per attempt)."""
    if not claims:
        return []
    keys = [uuid.uuid4().hex for _ in claims]
    rows = []
    for claim, key in zip(claims, keys, strict=True):
        assert claim.content is not None
        # Journaled ahead, the attempt starts at its instant: recovery knows a row whose start is
        # still to come was never sent (the engine calls only once the instant has come).
        started = now if claim.native else max(now, claim.due_at)
        rows.append({"target_id": claim.target_id, "started_at": started, "idempotency_key": key,
                     "payload_hash": payload_hash(claim.content), "outcome": AttemptOutcome.IN_FLIGHT.value,
                     "steps": {}, "error": "", "error_kind": "", "checks": 0})
    attempt_ids = session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows).all()
    counted = session.execute(
        update(Target).where(Target.id.in_([c.target_id for c in claims]))
        .values(attempts=Target.attempts + 1).returning(Target.id, Target.attempts)
        .execution_options(synchronize_session=False)).all()
    attempts = {target_id: n for target_id, n in counted}
    written: list[Journaled] = []
    for claim, key, attempt_id in zip(claims, keys, attempt_ids, strict=True):
        assert claim.content is not None and claim.account is not None
        written.append(Journaled(PublishJob(
            target_id=claim.target_id, post_id=claim.post_id, attempt_id=attempt_id,
            account=claim.account, content=claim.content, idempotency_key=key,
            scheduled_at=claim.scheduled_at, checkpoints=dict(claim.checkpoints),
            native_schedule_at=claim.scheduled_at if claim.native else None,
        ), attempts[claim.target_id]))
    return written


def payload_hash(content: PostContent) -> str:
    payload = {
        "text": content.text,
        "media": [m.to_dict() for m in content.media],
        "first_comment": content.first_comment,
        "thread": list(content.thread),
        "title": content.title,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
