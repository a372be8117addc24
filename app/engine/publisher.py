"""The publisher: one wake-up armed at the next due target; the database is the truth.

A cycle claims the targets due within CLAIM_WINDOW by compare-and-set, and each claimed
target waits for its exact instant, journals an Attempt (committed before the call), calls
its adapter under a global concurrency bound and the platform's gate, and records the outcome.
An unknown outcome is reconciled through the adapter or sent to review; it is never retried
blindly (reliability.md §1).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from app.core.errors import OutpostError, PublishError
from app.core.models import (
    AccountInfo,
    AccountStatus,
    AttemptOutcome,
    ErrorKind,
    MediaItem,
    Platform,
    PostContent,
    PostStatus,
    TargetStatus,
)
from app.core.redact import one_line, redact
from app.core.rules import RULES
from app.core.status import rollup
from app.core.timeutil import as_utc, humanize_delta
from app.engine.crashpoints import crash_point
from app.engine.gates import PlatformGates
from app.engine.journal import JournalWriter
from app.engine.recurring import spawn_next_occurrence
from app.engine.scheduler import PublisherScheduler
from app.platforms.base import Adapter, PublishJob, PublishResult, ReconcileStatus, Reconciliation
from app.store import repo
from app.store.db import Database
from app.store.schema import Account, Attempt, Event, Post, Target

log = logging.getLogger("outpost.publisher")

JOB_ID = "outpost-publish-cycle"
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError, OutpostError)


@dataclass
class PublisherSettings:
    catchup_window: timedelta = timedelta(hours=24)
    claim_window: timedelta = timedelta(seconds=5)
    arm_lead: timedelta = timedelta(milliseconds=250)  # wake a little early, then wait for the instant
    max_concurrency: int = 8
    publish_timeout: float = 300.0
    reconcile_timeout: float = 60.0
    max_attempts: int = 3
    max_rate_limit_waits: int = 10
    backoff_base: float = 30.0
    backoff_cap: float = 900.0
    drain_timeout: float = 10.0
    # At most this many targets claimed and not yet finished: a cycle's transaction stays small
    # (the loop stays responsive during a catch-up) and the rest is claimed as slots free up.
    claim_batch: int = 64
    database_retry: timedelta = timedelta(seconds=15)  # after a failed claim (disk full, read-only)
    rate_scale: float = 1.0  # multiplies every platform's calls per period (tests speed it up)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PublisherSettings:
        """Defaults, with `OUTPOST_ENGINE_TUNING="backoff_base=0.05,rate_scale=100"` applied (used when
        a test runs `outpost run` in a subprocess); unknown names and unreadable values are ignored."""
        env = os.environ if environ is None else environ
        settings = cls()
        for item in env.get("OUTPOST_ENGINE_TUNING", "").split(","):
            name, _, raw = item.partition("=")
            name, raw = name.strip(), raw.strip()
            current = getattr(settings, name, None) if name in cls.__dataclass_fields__ else None
            try:
                if isinstance(current, timedelta):
                    setattr(settings, name, timedelta(seconds=float(raw)))
                elif isinstance(current, int | float):
                    setattr(settings, name, type(current)(float(raw)))
            except ValueError:
                log.warning("OUTPOST_ENGINE_TUNING: ignoring %s=%r", name, raw)
        return settings


@dataclass(frozen=True)
class PublisherState:
    running: bool
    paused: bool
    next_wakeup: datetime | None
    next_due: datetime | None
    paused_platforms: dict[Platform, str] = field(default_factory=dict)
    in_flight: int = 0
    held_accounts: dict[int, str] = field(default_factory=dict)  # account id -> why (rate limit)


@dataclass(frozen=True)
class _Claim:
    target_id: int
    post_id: int
    platform: Platform
    due_at: datetime
    scheduled_at: datetime
    # Prepared at claim time from rows the cycle already loaded, so the instant of publishing
    # costs one small journal write and nothing else.
    account: AccountInfo | None = None
    content: PostContent | None = None
    checkpoints: dict[str, str] = field(default_factory=dict)
    native: bool = False  # hand the post to the platform's own scheduler for `scheduled_at`


Notify = Callable[[str, str, str], None]  # (level, title, message)


class Publisher:
    def __init__(
        self,
        db: Database,
        adapter_for: Callable[[Platform], Adapter],
        clock: Callable[[], datetime],
        settings: PublisherSettings | None = None,
        on_change: Callable[[str], None] | None = None,
        notify: Notify | None = None,
        poke_file: Path | None = None,
    ) -> None:
        self.db = db
        self.adapter_for = adapter_for
        self.clock = clock
        self.settings = settings or PublisherSettings()
        self.gates = PlatformGates()
        if self.settings.rate_scale != 1.0:
            self.gates.rates = {p: (calls * self.settings.rate_scale, period)
                                for p, (calls, period) in self.gates.rates.items()}
        self._on_change = on_change or (lambda _kind: None)
        self._notify = notify or (lambda _level, _title, _message: None)
        self.scheduler: PublisherScheduler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed: set[int] = set()
        self._stuck: set[int] = set()
        self._schedule_dirty = False  # a result put a target back in the queue: re-arm
        self._backlog = False  # due targets are waiting for a claim slot: re-arm when slots free up
        self._database_trouble = False  # the last claim could not be committed
        self._semaphore: asyncio.Semaphore | None = None
        self._paused = False
        self._stopping = False
        self._next_due: datetime | None = None
        self._next_wakeup: datetime | None = None
        self._journal = JournalWriter(db, clock)
        self._poke_file = poke_file
        self._poke_seen = self._poke_stamp()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a previous run left, then arm. Needs the running loop (T2)."""
        self._semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        self.scheduler = PublisherScheduler(on_clock_jump=self._clock_jumped, on_wakeup=self._check_poke)
        self.scheduler.add_listener(self._job_not_run, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        self.scheduler.start()
        self._stopping = False
        self.recover()
        self.rearm()

    async def stop(self) -> None:
        """Stop arming, let in-flight publishes finish within a bound, record the rest as unknown."""
        self._stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=self.settings.drain_timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        self.scheduler = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None and not self._stopping

    def pause(self) -> None:
        self._paused = True
        self._disarm()
        self._changed("publisher")

    def resume(self) -> None:
        self._paused = False
        self.rearm()
        self._changed("publisher")

    def state(self) -> PublisherState:
        now = self.clock()
        return PublisherState(
            running=self.running,
            paused=self._paused,
            next_wakeup=self._next_wakeup,
            next_due=self._next_due,
            paused_platforms={p: h.reason for p, h in self.gates.holds(now).items()},
            held_accounts={a: h.reason for a, h in self.gates.account_holds(now).items()},
            in_flight=len(self._claimed),
        )

    async def publish_due_now(self) -> None:
        """Run a cycle at once (the tray's "Publish due posts now")."""
        await self._cycle()

    # --- arming ----------------------------------------------------------------------------

    def rearm(self) -> None:
        """Arm the single wake-up at the next due target (one query). Safe to call often."""
        if self.scheduler is None or self._stopping:
            return
        if self._paused:
            self._disarm()
            return
        now = self.clock()
        holds = self.gates.holds(now)
        with self.db.read() as session:
            next_due = repo.next_due_instant(session, exclude_platforms=[p.value for p in holds])
            if holds:
                held_due = repo.next_due_instant(session)  # something waits behind a hold?
                if held_due is not None:
                    soonest_hold = min(h.until for h in holds.values())
                    next_due = soonest_hold if next_due is None else min(next_due, soonest_hold)
        self._next_due = next_due
        if next_due is None:
            self._disarm()
            return
        run_at = max(next_due - self.settings.arm_lead, now + timedelta(milliseconds=1))
        self._next_wakeup = run_at
        self.scheduler.add_job(
            self._wake, trigger="date", run_date=run_at, id=JOB_ID, replace_existing=True,
            misfire_grace_time=None, coalesce=True, max_instances=1000,
        )

    async def _wake(self) -> None:
        """The armed job: hand the cycle to our own task so the job itself ends at once."""
        self._spawn(self._cycle())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _job_not_run(self, event: Any) -> None:
        # A date job that APScheduler did not run is gone: never let that leave nothing armed.
        log.warning("the wake-up job did not run (%s); re-arming", type(event).__name__)
        asyncio.get_running_loop().call_soon(self.rearm)

    def _disarm(self) -> None:
        self._next_wakeup = None
        if self.scheduler is not None and self.scheduler.get_job(JOB_ID) is not None:
            self.scheduler.remove_job(JOB_ID)

    def _poke_stamp(self) -> int:
        try:
            return self._poke_file.stat().st_mtime_ns if self._poke_file else 0
        except OSError:
            return 0

    def _check_poke(self) -> None:
        """Another process (the CLI) changed posts: re-read the schedule. A stat(), no SQL."""
        stamp = self._poke_stamp()
        if stamp != self._poke_seen:
            self._poke_seen = stamp
            self.rearm()

    def _clock_jumped(self, drift: float) -> None:
        log.warning("the wall clock jumped by %.0f s (sleep, resume or a clock change); re-checking", drift)
        self.rearm()

    # --- the cycle ----------------------------------------------------------------------------

    async def _cycle(self) -> None:
        if self._stopping or self._paused:
            return
        room = self.settings.claim_batch - len(self._claimed)
        if room <= 0:
            self._backlog = True  # the next publish to finish re-arms
            return
        now = self.clock()
        holds = self.gates.holds(now)
        claims: list[_Claim] = []
        try:
            due, missed, handed = self._claim(now, holds, room, claims)
        except DATABASE_ERRORS as exc:
            self._database_failed(exc)
            return
        if self._database_trouble:
            self._database_trouble = False
            log.warning("the database accepts writes again; publishing resumes")
            self._changed("publisher")
        for claim in claims:
            self._claimed.add(claim.target_id)
            self._spawn(self._publish_one(claim))
        if missed:
            self._notify_missed(missed, now)
        if claims or missed or handed:
            self._changed("posts")
        self._backlog = len(due) >= room
        if self._backlog and len(self._claimed) >= self.settings.claim_batch:
            return  # every slot is taken: the next publish to finish re-arms
        self.rearm()  # with a backlog, the next due instant is past: the next batch follows at once

    def _database_failed(self, exc: BaseException) -> None:
        """A claim could not be committed (disk full, read-only, locked): nothing is sent without a
        journal. Say so once, and try again in a while: the timer is re-armed, never left empty."""
        log.error("could not claim due posts: %s", redact(str(exc)))
        if not self._database_trouble:
            self._database_trouble = True
            self._notify("error", "Outpost cannot save to its database",
                         f"{redact(str(exc))[:200]}. Publishing is paused until it can (is the disk full or "
                         "read-only?); nothing is sent without a record.")
            self._changed("publisher")
        if not self._stopping:
            loop = asyncio.get_running_loop()
            loop.call_later(self.settings.database_retry.total_seconds(), lambda: self._spawn(self._cycle()))

    def _claim(self, now: datetime, holds: dict[Platform, Any], room: int,
               claims: list[_Claim]) -> tuple[list[Target], list[Target], list[Target]]:
        """One transaction: mark missed and natively published targets, claim the due ones."""
        with self.db.write() as session:
            due = repo.due_targets(session, now + self.settings.claim_window,
                                   exclude_platforms=[p.value for p in holds], limit=room)
            # A post handed to the platform's scheduler went out while we were away, however long ago.
            handed = [t for t in due if t.natively_scheduled]
            for target in handed:
                self._mark_published_natively(session, target, now)
            missed = [t for t in due if not t.natively_scheduled and t.due_at is not None
                      and now - t.due_at > self.settings.catchup_window]
            for target in missed:
                self._mark_missed(session, target, now)
            settled = {t.id for t in handed} | {t.id for t in missed}
            wanted = [t for t in due if t.id not in settled]
            won = set(repo.claim_targets(session, [t.id for t in wanted]))
            claimed = [t for t in wanted if t.id in won]
            for target in claimed:
                assert target.due_at is not None and target.scheduled_at is not None
                claims.append(_Claim(target.id, target.post_id, Platform(target.account.platform),
                                     target.due_at, target.scheduled_at, repo.account_info(target.account),
                                     _content_for(target.post, target.account_id),
                                     dict(target.checkpoints or {})))
            # A post with a target in PUBLISHING rolls up to PUBLISHING (status.rollup): one statement.
            claimed_posts = {t.post_id for t in claimed}
            if claimed_posts:
                session.execute(update(Post).where(Post.id.in_(claimed_posts))
                                .values(status=PostStatus.PUBLISHING.value))
            for target in missed:
                repo.refresh_post_status(target.post)
            for target in claimed + missed:
                if target.post.recurrence:
                    spawn_next_occurrence(session, target.post, now, self.settings.catchup_window)
        return list(due), missed, handed

    def _mark_published_natively(self, session: Session, target: Target, now: datetime) -> None:
        platform = Platform(target.account.platform)
        target.status = TargetStatus.PUBLISHED.value
        target.due_at = None
        repo.refresh_post_status(target.post)
        repo.add_event(session, f"Post #{target.post_id} was published by {platform.label}'s own scheduler.",
                       kind="published", post_id=target.post_id, target_id=target.id, platform=platform.value)

    # --- native scheduling handoff ----------------------------------------------------------

    def hand_off(self) -> None:
        """Give posts far enough ahead to platforms that schedule natively (Mastodon...), so they go
        out even if this computer is off. A refused handoff stays with Outpost's own scheduler."""
        if self.scheduler is None or self._stopping or self._paused:
            return
        now = self.clock()
        native = [p.value for p in Platform if RULES[p].native_scheduling]
        claims: list[_Claim] = []
        with self.db.write() as session:
            rows = session.scalars(
                select(Target).join(Account).where(
                    Target.status == TargetStatus.SCHEDULED.value, Target.natively_scheduled.is_(False),
                    Account.status == AccountStatus.ACTIVE.value, Account.removed_at.is_(None),
                    Account.platform.in_(native), Target.due_at > now + timedelta(minutes=6),
                ).options(selectinload(Target.post), selectinload(Target.account))
            ).all()
            wanted = []
            for t in rows:
                platform = Platform(t.account.platform)
                lead = RULES[platform].native_scheduling_min_lead + timedelta(minutes=1)
                if (t.account.settings or {}).get("native_scheduling", True) is False:
                    continue
                if (t.checkpoints or {}).get("handoff") or t.due_at is None or t.due_at <= now + lead:
                    continue
                wanted.append(t)
            won = set(repo.claim_targets(session, [t.id for t in wanted]))
            for t in wanted:
                if t.id in won:
                    assert t.due_at is not None and t.scheduled_at is not None
                    claims.append(_Claim(t.id, t.post_id, Platform(t.account.platform), t.due_at, t.scheduled_at,
                                         repo.account_info(t.account), _content_for(t.post, t.account_id),
                                         dict(t.checkpoints or {}), native=True))
        for claim in claims:
            self._claimed.add(claim.target_id)
            self._spawn(self._publish_one(claim))

    def _handed_off(self, claim: _Claim, attempt_id: int, result: PublishResult, started: float) -> None:
        now = self.clock()
        with self.db.write() as session:
            target = session.get(Target, claim.target_id)
            attempt = session.get(Attempt, attempt_id)
            assert target is not None and attempt is not None
            attempt.outcome = AttemptOutcome.SUCCEEDED.value
            attempt.finished_at = now
            attempt.duration_ms = int((time.monotonic() - started) * 1000)
            target.status = TargetStatus.SCHEDULED.value
            target.natively_scheduled = True
            target.external_id = result.external_id
            target.external_url = result.url
            target.last_error = redact("; ".join(result.warnings)) if result.warnings else ""
            repo.refresh_post_status(target.post)
            repo.add_event(session, f"Post #{claim.post_id} handed to {claim.platform.label}'s scheduler: it will "
                           "go out even if this computer is off.", kind="handoff", post_id=claim.post_id,
                           target_id=claim.target_id, platform=claim.platform.value)
        self._changed("posts")

    def _handoff_refused(self, claim: _Claim, message: str) -> None:
        with self.db.write() as session:
            target = session.get(Target, claim.target_id)
            assert target is not None
            target.status = TargetStatus.SCHEDULED.value
            target.checkpoints = {**(target.checkpoints or {}), "handoff": "refused"}
            repo.refresh_post_status(target.post)
            repo.add_event(session, f"{claim.platform.label} did not take post #{claim.post_id} for its own "
                           f"scheduler ({message}); Outpost will publish it at the time.", level="warning",
                           kind="handoff", post_id=claim.post_id, target_id=claim.target_id,
                           platform=claim.platform.value)
        self._schedule_dirty = True
        self._changed("posts")

    def _mark_missed(self, session: object, target: Target, now: datetime) -> None:
        assert target.due_at is not None
        late = humanize_delta(now - target.due_at)
        target.status = TargetStatus.MISSED.value
        target.last_error = (f"Outpost was not running at the scheduled time ({late} ago). "
                             "Publish now, reschedule or discard it.")
        repo.add_event(session, f"Missed post #{target.post_id} on {target.account.handle}: {late} late.",  # type: ignore[arg-type]
                       level="warning", kind="missed", post_id=target.post_id, target_id=target.id,
                       platform=target.account.platform)

    def _notify_missed(self, missed: list[Target], now: datetime) -> None:
        """One notice per cycle, however many were missed (a week offline must not bring 1,000 toasts)."""
        if len(missed) == 1:
            target = missed[0]
            assert target.due_at is not None
            late = humanize_delta(now - target.due_at)
            self._notify("warning", "A post was missed", f"Post #{target.post_id} is {late} overdue and waits for you.")
        else:
            self._notify("warning", f"{len(missed)} posts were missed",
                         "Outpost was not running at their scheduled times; they wait for you under Missed.")

    # --- one target ------------------------------------------------------------------------------

    async def _publish_one(self, claim: _Claim) -> None:
        attempt_id: int | None = None
        try:
            delay = (claim.due_at - self.clock()).total_seconds()
            if delay > 0 and not claim.native:
                await asyncio.sleep(delay)
            assert self._semaphore is not None
            async with self._semaphore:
                hold = self.gates.held(claim.platform, self.clock())
                if hold is None and claim.account is not None:
                    hold = self.gates.account_held(claim.account.id, self.clock())
                if hold is not None:
                    self._release(claim, hold.until, hold.reason)
                    return
                limiter = self.gates.limiter(claim.platform)
                if limiter is not None:
                    await limiter.acquire()
                job = await self._journal.begin(claim)
                attempt_id = job.attempt_id
                crash_point("journaled")
                adapter = self.adapter_for(claim.platform)
                started = time.monotonic()
                try:
                    result = await asyncio.wait_for(adapter.publish(job, _Journal(self.db, attempt_id)),
                                                    timeout=self.settings.publish_timeout)
                except PublishError as exc:
                    if claim.native and exc.kind not in (ErrorKind.UNKNOWN, ErrorKind.AUTH):
                        self._finish_attempt(job.attempt_id, exc, None)
                        self._handoff_refused(claim, exc.message)
                    else:
                        await self._failed(claim, job, exc, started)
                except TimeoutError:
                    timeout = PublishError(ErrorKind.UNKNOWN, f"No answer from {claim.platform.label} within "
                                           f"{self.settings.publish_timeout:.0f} s.")
                    await self._failed(claim, job, timeout, started)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # an adapter bug: the request may have gone out
                    log.exception("adapter %s raised unexpectedly", claim.platform.value)
                    err = PublishError(ErrorKind.UNKNOWN, f"Unexpected error: {type(exc).__name__}: {exc}")
                    await self._failed(claim, job, err, started)
                else:
                    crash_point("answered")
                    if claim.native and result.natively_scheduled:
                        self._handed_off(claim, attempt_id, result, started)
                    else:
                        await self._succeeded(claim, attempt_id, result, started)
        except asyncio.CancelledError:
            if attempt_id is None:
                self._release(claim, None, "")
            else:
                self._record_unknown_on_shutdown(claim, attempt_id)
            raise
        except Exception as exc:
            # The outcome could not be recorded (disk full, database locked...). The target stays
            # claimed in this run and its journal row is reconciled at the next start.
            log.exception("could not record the outcome of target %s", claim.target_id)
            self._notify("error", "Outpost could not save a result",
                         f"Post #{claim.post_id}: {redact(str(exc))[:200]}. It will be checked at the next start.")
            self._stuck.add(claim.target_id)
        finally:
            self._claimed.discard(claim.target_id)
            refill = self._backlog and len(self._claimed) <= self.settings.claim_batch // 2
            if not self._stopping and (self._schedule_dirty or refill):
                self._schedule_dirty = False
                self._backlog = False
                self.rearm()

    async def _succeeded(self, claim: _Claim, attempt_id: int, result: PublishResult, started: float) -> None:
        """Record a publish in one short transaction of plain statements (the hot path), in a worker
        thread: its statements and fsync then do not hold the window's loop (a catch-up of hundreds
        of posts stays responsive). The task waits for the commit either way."""
        now = self.clock()
        duration = int((time.monotonic() - started) * 1000)
        await asyncio.to_thread(self._record_success, claim, attempt_id, result, now, duration)
        self.gates.record_success(claim.platform)
        log.info("published", extra={"post": claim.post_id, "target": claim.target_id,
                                     "platform": claim.platform.value, "attempt": attempt_id})
        self._changed("posts")

    def _record_success(self, claim: _Claim, attempt_id: int, result: PublishResult, now: datetime,
                        duration: int) -> None:
        warning = redact("; ".join(result.warnings)) if result.warnings else ""
        handle = claim.account.handle if claim.account else ""
        with self.db.write() as session:
            session.execute(update(Attempt).where(Attempt.id == attempt_id).values(
                outcome=AttemptOutcome.SUCCEEDED.value, finished_at=now, error=warning, duration_ms=duration))
            session.execute(update(Target).where(Target.id == claim.target_id).values(
                status=TargetStatus.PUBLISHED.value, external_id=result.external_id, external_url=result.url,
                last_error=warning, last_error_kind="", due_at=None, natively_scheduled=result.natively_scheduled))
            statuses = session.scalars(select(Target.status).where(Target.post_id == claim.post_id)).all()
            session.execute(update(Post).where(Post.id == claim.post_id).values(
                status=rollup(TargetStatus(x) for x in statuses).value))
            message = f"Published post #{claim.post_id} on {handle}."
            if warning:
                message = f"Published post #{claim.post_id} on {handle} with a warning: {warning}"
            session.execute(insert(Event).values(
                at=now, level="warning" if warning else "info", kind="published", message=message,
                post_id=claim.post_id, target_id=claim.target_id, platform=claim.platform.value))

    def _mark_published(self, session: object, target: Target, external_id: str, url: str, now: datetime) -> None:
        target.status = TargetStatus.PUBLISHED.value
        target.external_id = external_id
        target.external_url = url
        target.last_error = ""
        target.last_error_kind = ""
        target.due_at = None
        repo.refresh_post_status(target.post)
        repo.add_event(session, f"Published post #{target.post_id} on {target.account.handle}.",  # type: ignore[arg-type]
                       kind="published", post_id=target.post_id, target_id=target.id,
                       platform=target.account.platform, at=now)

    async def _failed(self, claim: _Claim, job: PublishJob, exc: PublishError, started: float) -> None:
        duration = int((time.monotonic() - started) * 1000)
        self._finish_attempt(job.attempt_id, exc, duration)
        log.warning("publish failed: %s", one_line(exc.message),
                    extra={"post": claim.post_id, "target": claim.target_id, "platform": claim.platform.value,
                           "attempt": job.attempt_id, "kind": exc.kind.value})
        if exc.kind is ErrorKind.UNKNOWN:
            self._count_server_failure(claim.platform)
            job = self._with_journaled_steps(job)
            reconciliation = await self._reconcile(claim.platform, job)
            self._apply_reconciliation(claim, job, reconciliation, exc.message)
            return
        now = self.clock()
        with self.db.write() as session:
            target = session.get(Target, claim.target_id)
            assert target is not None
            target.last_error = exc.message
            target.last_error_kind = exc.kind.value
            label = f"{target.account.display_name or target.account.handle} ({claim.platform.label})"
            if exc.kind is ErrorKind.AUTH:
                account = target.account
                account.status = AccountStatus.NEEDS_RECONNECT.value
                account.status_reason = exc.message
                target.status = TargetStatus.SCHEDULED.value
                self._schedule_dirty = True
                target.last_error = f"Reconnect {label} to publish: {exc.message}"
                repo.add_event(session, f"{label} needs to be reconnected: {exc.message}", level="error",
                               kind="auth", post_id=target.post_id, target_id=target.id,
                               platform=claim.platform.value)
                self._notify("error", f"Reconnect {label}", "Its posts are held until you reconnect it.")
            elif exc.kind is ErrorKind.RATE_LIMIT and target.attempts < self.settings.max_rate_limit_waits:
                wait = timedelta(seconds=exc.retry_after if exc.retry_after is not None else 60)
                self.gates.hold_account(target.account_id, now + wait, f"{claim.platform.label} asked Outpost to "
                                        f"wait {humanize_delta(wait)} for {label} (rate limit).")
                target.status = TargetStatus.SCHEDULED.value
                target.due_at = now + wait
                self._schedule_dirty = True
                repo.add_event(session, f"{claim.platform.label} rate limit: post #{target.post_id} waits "
                               f"{humanize_delta(wait)}.", level="warning", kind="rate_limit",
                               post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
            elif exc.kind is ErrorKind.TRANSIENT and target.attempts < self.settings.max_attempts:
                self._count_server_failure(claim.platform, session)
                wait = self._backoff(target.attempts)
                target.status = TargetStatus.SCHEDULED.value
                target.due_at = now + wait
                self._schedule_dirty = True
                repo.add_event(session, f"Post #{target.post_id} on {label} will be retried in "
                               f"{humanize_delta(wait)}: {exc.message}", level="warning", kind="retry",
                               post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
            else:
                if exc.kind is ErrorKind.TRANSIENT:
                    self._count_server_failure(claim.platform, session)
                    target.last_error = f"Gave up after {target.attempts} attempts: {exc.message}"
                target.status = TargetStatus.FAILED.value
                target.due_at = None
                repo.add_event(session, f"Post #{target.post_id} failed on {label}: {target.last_error}",
                               level="error", kind="failed", post_id=target.post_id, target_id=target.id,
                               platform=claim.platform.value)
                self._notify("error", f"A post failed on {label}", target.last_error)
            repo.refresh_post_status(target.post)
        self._changed("posts")

    def _finish_attempt(self, attempt_id: int, exc: PublishError, duration_ms: int | None) -> None:
        with self.db.write() as session:
            attempt = session.get(Attempt, attempt_id)
            assert attempt is not None
            attempt.outcome = (AttemptOutcome.UNKNOWN if exc.kind is ErrorKind.UNKNOWN else AttemptOutcome.FAILED).value
            attempt.finished_at = self.clock()
            attempt.error = exc.message
            attempt.error_kind = exc.kind.value
            attempt.http_status = exc.http_status
            attempt.duration_ms = duration_ms

    def _count_server_failure(self, platform: Platform, session: Session | None = None) -> None:
        hold = self.gates.record_failure(platform, self.clock())
        if hold is None:
            return
        if session is not None:
            repo.add_event(session, hold.reason, level="error", kind="breaker", platform=platform.value)
        else:
            with self.db.write() as own:
                repo.add_event(own, hold.reason, level="error", kind="breaker", platform=platform.value)
        self._notify("error", f"{platform.label} paused", hold.reason)
        self._changed("publisher")

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter (capped)."""
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * (2 ** max(0, attempts - 1)))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))

    # --- unknown outcomes -------------------------------------------------------------------------

    def _with_journaled_steps(self, job: PublishJob) -> PublishJob:
        """The job as the journal knows it now: steps recorded during the failed call included."""
        with self.db.read() as session:
            target = session.get(Target, job.target_id)
            attempt = session.get(Attempt, job.attempt_id)
            steps = {**((target.checkpoints or {}) if target else {}), **((attempt.steps or {}) if attempt else {})}
        return replace(job, checkpoints=steps)

    async def _reconcile(self, platform: Platform, job: PublishJob) -> Reconciliation:
        try:
            return await asyncio.wait_for(self.adapter_for(platform).reconcile(job),
                                          timeout=self.settings.reconcile_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return Reconciliation(ReconcileStatus.UNKNOWN, detail=redact(f"{type(exc).__name__}: {exc}"))

    def _apply_reconciliation(self, claim: _Claim, job: PublishJob, rec: Reconciliation, reason: str) -> None:
        now = self.clock()
        with self.db.write() as session:
            target = session.get(Target, claim.target_id)
            assert target is not None
            label = f"{target.account.display_name or target.account.handle} ({claim.platform.label})"
            if rec.status is ReconcileStatus.PUBLISHED:
                self._mark_published(session, target, rec.external_id, rec.url, now)
                repo.add_event(session, f"Confirmed post #{target.post_id} on {label} after an unclear answer.",
                               kind="reconciled", post_id=target.post_id, target_id=target.id,
                               platform=claim.platform.value)
            elif rec.status is ReconcileStatus.NOT_PUBLISHED and target.attempts < self.settings.max_attempts:
                wait = self._backoff(target.attempts)
                target.status = TargetStatus.SCHEDULED.value
                target.due_at = now + wait
                self._schedule_dirty = True
                target.last_error = f"{reason} It was not published; retrying in {humanize_delta(wait)}."
                repo.refresh_post_status(target.post)
            elif rec.status is ReconcileStatus.NOT_PUBLISHED:  # known not published: nothing to check
                target.status = TargetStatus.FAILED.value
                target.due_at = None
                target.last_error = (f"Gave up after {target.attempts} attempts: {reason} It was not published; "
                                     "publish it again when you are ready.")
                repo.refresh_post_status(target.post)
                repo.add_event(session, f"Post #{target.post_id} failed on {label}: {target.last_error}",
                               level="error", kind="failed", post_id=target.post_id, target_id=target.id,
                               platform=claim.platform.value)
                self._notify("error", f"A post failed on {label}", target.last_error)
            else:
                target.status = TargetStatus.NEEDS_REVIEW.value
                target.due_at = None
                detail = f" ({rec.detail.rstrip('.')})" if rec.detail else ""
                target.last_error = (f"{reason} Outpost could not confirm whether it was published{detail}. "
                                     f"Check {label} before publishing it again.")
                repo.refresh_post_status(target.post)
                repo.add_event(session, f"Post #{target.post_id} needs review on {label}: {reason}",
                               level="error", kind="needs_review", post_id=target.post_id, target_id=target.id,
                               platform=claim.platform.value)
                self._notify("warning", f"Check {label}", f"Post #{target.post_id} may or may not be published.")
        self._changed("posts")

    def _record_unknown_on_shutdown(self, claim: _Claim, attempt_id: int) -> None:
        """Quit while a call was in flight: the outcome is unknown; the next start reconciles it."""
        with self.db.write() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is not None and attempt.outcome == AttemptOutcome.IN_FLIGHT.value:
                attempt.outcome = AttemptOutcome.UNKNOWN.value
                attempt.error = "Outpost quit before the platform answered."
                attempt.finished_at = self.clock()

    def _release(self, claim: _Claim, due_at: datetime | None, reason: str) -> None:
        """Give a claim back before anything was sent."""
        with self.db.write() as session:
            target = session.get(Target, claim.target_id)
            if target is None or target.status != TargetStatus.PUBLISHING.value:
                return
            target.status = TargetStatus.SCHEDULED.value
            self._schedule_dirty = True
            if due_at is not None:
                target.due_at = due_at
            if reason:
                target.last_error = reason
            repo.refresh_post_status(target.post)

    # --- start-up recovery ----------------------------------------------------------------------

    def recover(self) -> None:
        """Targets a previous run left in PUBLISHING: give back the unsent, reconcile the rest (P4)."""
        to_reconcile: list[tuple[_Claim, PublishJob]] = []
        with self.db.write() as session:
            for target in repo.publishing_targets(session):
                attempt = repo.open_attempt(target)
                if attempt is None:
                    target.status = TargetStatus.SCHEDULED.value
                    repo.refresh_post_status(target.post)
                    continue
                attempt.outcome = AttemptOutcome.UNKNOWN.value
                attempt.error = attempt.error or "Outpost stopped before the platform answered."
                attempt.finished_at = attempt.finished_at or self.clock()
                claim = _Claim(target.id, target.post_id, Platform(target.account.platform),
                               as_utc(target.due_at or self.clock()), as_utc(target.scheduled_at or self.clock()))
                content = _content_for(target.post, target.account_id)
                job = PublishJob(
                    target_id=target.id, post_id=target.post_id, attempt_id=attempt.id,
                    account=repo.account_info(target.account), content=content,
                    idempotency_key=attempt.idempotency_key, scheduled_at=claim.scheduled_at,
                    checkpoints={**(target.checkpoints or {}), **(attempt.steps or {})},
                )
                self._claimed.add(target.id)
                to_reconcile.append((claim, job))
        for claim, job in to_reconcile:
            self._spawn(self._recover_one(claim, job))

    async def _recover_one(self, claim: _Claim, job: PublishJob) -> None:
        try:
            rec = await self._reconcile(claim.platform, job)
            self._apply_reconciliation(claim, job, rec, "Outpost stopped while publishing.")
        finally:
            self._claimed.discard(claim.target_id)
            if not self._stopping:
                self.rearm()

    def _changed(self, kind: str) -> None:
        try:
            self._on_change(kind)
        except Exception:
            log.exception("a change listener failed")


class _Journal:
    """Durable checkpoints for multi-step publishes (P7): committed before `record` returns."""

    def __init__(self, db: Database, attempt_id: int) -> None:
        self.db = db
        self.attempt_id = attempt_id

    def record(self, step: str, value: str) -> None:
        with self.db.write() as session:
            attempt = session.get(Attempt, self.attempt_id)
            assert attempt is not None
            attempt.steps = {**(attempt.steps or {}), step: value}
            target = attempt.target
            target.checkpoints = {**(target.checkpoints or {}), step: value}


def _content_for(post: object, account_id: int) -> PostContent:
    from app.store.schema import Post

    assert isinstance(post, Post)
    overrides = post.overrides or {}
    text = overrides.get(str(account_id), post.text)
    return PostContent(
        text=text,
        media=tuple(MediaItem.from_dict(m) for m in (post.media or [])),
        first_comment=post.first_comment or "",
        thread=tuple(post.thread or []),
        title=post.title or "",
    )
