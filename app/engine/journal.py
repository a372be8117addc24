"""The attempt journal: an IN_FLIGHT row committed before each platform call (reliability.md P1).

Attempts that fall due in the same loop tick are written in one IMMEDIATE transaction (a group
commit): each is still on disk, with synchronous=FULL, before its request leaves, but 200 posts
due at the same instant cost one fsync instead of 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, update

from app.core.models import AttemptOutcome, PostContent
from app.platforms.base import PublishJob
from app.store.db import Database
from app.store.schema import Attempt, Target

if TYPE_CHECKING:
    from app.engine.publisher import _Claim

log = logging.getLogger("outpost.journal")


class JournalWriter:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._pending: list[tuple[_Claim, asyncio.Future[PublishJob]]] = []
        self._flush_scheduled = False

    async def begin(self, claim: _Claim) -> PublishJob:
        """Journal an attempt for `claim`; returns once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PublishJob] = loop.create_future()
        self._pending.append((claim, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        batch = [(c, f) for c, f in batch if not f.cancelled()]
        if not batch:
            return
        now = self.clock()
        jobs: list[PublishJob] = []
        try:
            with self.db.write() as session:
                for claim, _future in batch:
                    assert claim.content is not None and claim.account is not None
                    key = uuid.uuid4().hex
                    attempt_id = session.execute(
                        insert(Attempt).values(
                            target_id=claim.target_id, started_at=now, idempotency_key=key,
                            payload_hash=payload_hash(claim.content), outcome=AttemptOutcome.IN_FLIGHT.value,
                            steps={}, error="", error_kind="",
                        ).returning(Attempt.id)
                    ).scalar_one()
                    session.execute(update(Target).where(Target.id == claim.target_id)
                                    .values(attempts=Target.attempts + 1))
                    jobs.append(PublishJob(
                        target_id=claim.target_id, post_id=claim.post_id, attempt_id=attempt_id,
                        account=claim.account, content=claim.content, idempotency_key=key,
                        scheduled_at=claim.scheduled_at, checkpoints=dict(claim.checkpoints),
                        native_schedule_at=claim.scheduled_at if claim.native else None,
                    ))
        except Exception as exc:
            for _claim, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (claim, future), job in zip(batch, jobs, strict=True):
            log.info("publishing", extra={"post": claim.post_id, "target": claim.target_id,
                                          "platform": claim.platform.value, "attempt": job.attempt_id})
            if not future.done():
                future.set_result(job)


def payload_hash(content: PostContent) -> str:
    payload = {
        "text": content.text,
        "media": [m.to_dict() for m in content.media],
        "first_comment": content.first_comment,
        "thread": list(content.thread),
        "title": content.title,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
