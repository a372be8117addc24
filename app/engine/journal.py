"""The attempt journal: an IN_FLIGHT row committed before each platform call (reliability.md P1).

Attempts are written on the writer thread in group commits: while one batch is being committed,
the attempts that fall due meanwhile gather into the next, written in one IMMEDIATE transaction.
Each is still on disk, with synchronous=FULL, before its request leaves, but 200 posts due at
the same instant cost a few fsyncs instead of 200, and the loop never waits for one.
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
    """On the writer thread: one IN_FLIGHT attempt per claim, in one transaction."""
    written: list[Journaled] = []
    for claim in claims:
        assert claim.content is not None and claim.account is not None
        key = uuid.uuid4().hex
        attempt_id = session.execute(
            insert(Attempt).values(
                target_id=claim.target_id, started_at=now, idempotency_key=key,
                payload_hash=payload_hash(claim.content), outcome=AttemptOutcome.IN_FLIGHT.value,
                steps={}, error="", error_kind="",
            ).returning(Attempt.id)
        ).scalar_one()
        attempts = session.execute(update(Target).where(Target.id == claim.target_id)
                                   .values(attempts=Target.attempts + 1).returning(Target.attempts)).scalar_one()
        written.append(Journaled(PublishJob(
            target_id=claim.target_id, post_id=claim.post_id, attempt_id=attempt_id,
            account=claim.account, content=claim.content, idempotency_key=key,
            scheduled_at=claim.scheduled_at, checkpoints=dict(claim.checkpoints),
            native_schedule_at=claim.scheduled_at if claim.native else None,
        ), attempts))
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
