"""The publisher: one wake-up armed at the next due target; the database is the truth.

A cycle claims the targets due within CLAIM_WINDOW by compare-and-set and journals an Attempt
for each one not yet due at once (group commits, ahead of the instant); each claimed target then
waits for its exact instant, calls its adapter under a global concurrency bound and the platform's
gate, and records the outcome. An overdue target is journaled just before its call. An unknown
outcome is reconciled through the adapter, checked again on a bounded schedule while the platform
cannot be reached (retry_policy.py), and sent to review only when that cannot tell; it is never
retried blindly (reliability.md §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.errors import OutpostError, PublishError
from app.core.models import ErrorKind, Platform
from app.core.redact import one_line, redact
from app.core.timeutil import humanize_delta
from app.engine import outcomes, retry_policy
from app.engine.crashpoints import crash_point
from app.engine.gates import Hold, PlatformGates
from app.engine.journal import Journaled, JournalWriter
from app.engine.outcomes import Claim, Claimed, FollowUp, Success, Verdict
from app.engine.retry_policy import RECHECK_DELAYS
from app.engine.scheduler import PublisherScheduler
from app.engine.writer import DatabaseWriter, GroupCommit
from app.platforms.base import Adapter, PublishJob, PublishResult, ReconcileStatus, Reconciliation
from app.store import repo
from app.store.db import Database
from app.store.schema import Attempt, Target

log = logging.getLogger("outpost.publisher")
T = TypeVar("T")

JOB_ID = "outpost-publish-cycle"
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError, OutpostError)


@dataclass
class PublisherSettings:
    catchup_window: timedelta = timedelta(hours=24)
    claim_window: timedelta = timedelta(seconds=5)
    # Wake this early: the claims and their journal rows are committed before the instant, then the
    # calls wait for it (a commit with synchronous=FULL takes 10-20 ms, more on a busy disk).
    arm_lead: timedelta = timedelta(seconds=1)
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
    # Ahead of the instant (nothing overdue) a wake-up claims up to this many: all the posts of a
    # busy second are journaled before it, not 64 at a time after it.
    claim_ahead: int = 512
    database_retry: timedelta = timedelta(seconds=15)  # after a failed claim (disk full, read-only)
    rate_scale: float = 1.0  # multiplies every platform's calls per period (tests speed it up)
    # Waits between checks of an unknown outcome while the platform cannot be reached.
    recheck_delays: tuple[timedelta, ...] = RECHECK_DELAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PublisherSettings:
        """Defaults, with `OUTPOST_ENGINE_TUNING="backoff_base=0.05,rate_scale=100,recheck_delays=1/2"`
        applied (used when a test runs `outpost run` in a subprocess; a list is seconds joined by "/");
        unknown names and unreadable values are ignored."""
        env = os.environ if environ is None else environ
        settings = cls()
        for item in env.get("OUTPOST_ENGINE_TUNING", "").split(","):
            name, _, raw = item.partition("=")
            name, raw = name.strip(), raw.strip()
            current = getattr(settings, name, None) if name in cls.__dataclass_fields__ else None
            try:
                if isinstance(current, timedelta):
                    setattr(settings, name, timedelta(seconds=float(raw)))
                elif isinstance(current, tuple):
                    setattr(settings, name, tuple(timedelta(seconds=float(x)) for x in raw.split("/")))
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
        on_wakeup: Callable[[], None] | None = None,
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
        self._cycle_lock = asyncio.Lock()  # one claim at a time: each sees the room the last one left
        self._paused = False
        self._stopping = False
        self._next_due: datetime | None = None
        self._next_recheck: datetime | None = None  # the next check of an unknown outcome
        self._next_wakeup: datetime | None = None
        self.writes = DatabaseWriter(db)  # every write of the engine's own goes through its one thread
        self._journal = JournalWriter(self.writes, clock)
        self._successes: GroupCommit[Success, None] = GroupCommit(self.writes, outcomes.record_successes)
        self._on_wakeup = on_wakeup or (lambda: None)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a previous run left, then arm. Needs the running loop (T2)."""
        self._semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        self._cycle_lock = asyncio.Lock()
        self.scheduler = PublisherScheduler(on_clock_jump=self._clock_jumped, on_wakeup=self._woke)
        self.scheduler.add_listener(self._job_not_run, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        self.scheduler.start()
        self._stopping = False
        await self.recover()
        self.rearm()

    async def stop(self) -> None:
        """Stop arming, let in-flight publishes finish within a bound, record the rest as unknown;
        returns once every write queued on the writer thread is committed."""
        self._stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.drain_timeout
        while self._tasks:  # (a task may spawn another while it drains: wait for that one too)
            _done, pending = await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - loop.time()))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self._journal.idle()
        await self._successes.idle()
        await self.writes.close()
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
            self._next_recheck = repo.next_recheck_instant(session)
        self._next_due = next_due
        # A publish wakes arm_lead early (claim and journal first); a check at its time.
        wake_for = [t for t in (next_due and next_due - self.settings.arm_lead, self._next_recheck) if t is not None]
        if not wake_for:
            self._disarm()
            return
        run_at = max(min(wake_for), now + timedelta(milliseconds=1))
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

    def _woke(self) -> None:
        """Every timer wake-up (at most MAX_WAIT apart): the owner's cheap checks (stat() calls, no SQL)."""
        self._on_wakeup()

    def _clock_jumped(self, drift: float) -> None:
        log.warning("the wall clock jumped by %.0f s (sleep, resume or a clock change); re-checking", drift)
        self.rearm()

    # --- the cycle ----------------------------------------------------------------------------

    async def _cycle(self) -> None:
        async with self._cycle_lock:
            await self._claim_due()
            if self._next_recheck is not None and self._next_recheck <= self.clock():
                await self._claim_rechecks()

    async def _claim_due(self) -> None:
        if self._stopping or self._paused:
            return
        now = self.clock()
        ahead = self._next_due is not None and self._next_due > now  # nothing overdue: not a catch-up
        room = (self.settings.claim_ahead if ahead else self.settings.claim_batch) - len(self._claimed)
        if room <= 0:
            self._backlog = True  # the next publish to finish re-arms
            return
        holds = self.gates.holds(now)
        try:
            claimed = await self._claim(partial(
                outcomes.claim_due, now=now, until=now + self.settings.claim_window,
                exclude_platforms=[p.value for p in holds], room=room, catchup_window=self.settings.catchup_window))
        except DATABASE_ERRORS as exc:
            self._database_failed(exc)
            return
        if self._database_trouble:
            self._database_trouble = False
            log.warning("the database accepts writes again; publishing resumes")
            self._changed("publisher")
        if claimed is None:
            return
        self._publish(claimed.claims)
        if claimed.missed:
            self._notify_missed(claimed.missed, now)
        if claimed.claims or claimed.missed or claimed.handed:
            self._changed("posts")
        self._backlog = claimed.due >= room
        if self._backlog and len(self._claimed) > self.settings.claim_batch // 2:
            return  # most slots are taken (some may have freed while claiming): a publish finishing re-arms
        self.rearm()  # with a backlog, the next due instant is past: the next batch follows at once

    async def _claim(self, work: Callable[[Session], Claimed]) -> Claimed | None:
        """Commit a claim on the writer thread. None if the publisher stopped or paused meanwhile:
        the claims are then given back, as they are if the caller is cancelled (nothing was sent)."""
        future = self.writes.submit(work)
        try:
            claimed = await asyncio.shield(future)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # it commits anyway: give its claims back
                await self._give_back(await future)
            raise
        if self._stopping or self._paused:
            await self._give_back(claimed)
            return None
        return claimed

    async def _give_back(self, claimed: Claimed) -> None:
        if claimed.claims:
            await self.writes.write(partial(outcomes.release_all, target_ids=[c.target_id for c in claimed.claims]))
        self._changed("posts")

    def _publish(self, claims: list[Claim]) -> None:
        for claim in claims:
            self._claimed.add(claim.target_id)
            self._spawn(self._publish_one(claim))

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

    def _notify_missed(self, missed: list[tuple[int, datetime]], now: datetime) -> None:
        """One notice per cycle, however many were missed (a week offline must not bring 1,000 toasts)."""
        if len(missed) == 1:
            post_id, due_at = missed[0]
            late = humanize_delta(now - due_at)
            self._notify("warning", "A post was missed", f"Post #{post_id} is {late} overdue and waits for you.")
        else:
            self._notify("warning", f"{len(missed)} posts were missed",
                         "Outpost was not running at their scheduled times; they wait for you under Missed.")

    # --- native scheduling handoff ----------------------------------------------------------

    def hand_off(self) -> None:
        """Give posts far enough ahead to platforms that schedule natively (Mastodon...), so they go
        out even if this computer is off. A refused handoff stays with Outpost's own scheduler.
        Returns at once; the claim is committed on the writer thread."""
        if self.scheduler is None or self._stopping or self._paused:
            return
        self._spawn(self._hand_off())

    async def _hand_off(self) -> None:
        try:
            claimed = await self._claim(partial(outcomes.claim_for_handoff, now=self.clock()))
        except DATABASE_ERRORS as exc:
            log.warning("could not hand posts to the platforms' own schedulers: %s", redact(str(exc)))
            return
        if claimed is not None:
            self._publish(claimed.claims)

    async def _handed_off(self, claim: Claim, attempt_id: int, result: PublishResult, started: float) -> None:
        duration = int((time.monotonic() - started) * 1000)
        work = partial(outcomes.record_handed_off, claim=claim, attempt_id=attempt_id, result=result,
                       now=self.clock(), duration_ms=duration)
        await self._save(claim, lambda: self.writes.write(work))
        self._changed("posts")

    async def _handoff_refused(self, claim: Claim, attempt_id: int, exc: PublishError) -> None:
        work = partial(outcomes.record_handoff_refused, claim=claim, attempt_id=attempt_id, exc=exc, now=self.clock())
        await self._save(claim, lambda: self.writes.write(work))
        self._schedule_dirty = True
        self._changed("posts")

    # --- one target ------------------------------------------------------------------------------

    async def _publish_one(self, claim: Claim) -> None:
        attempt_id: int | None = None
        calling = False  # the adapter was called: from then on the outcome may be unknown
        try:
            journaled: Journaled | None = None
            if not claim.native and claim.due_at > self.clock():
                # Ahead of the instant (this wake-up's claims share one commit), so the call itself
                # starts on time. The row carries the instant: a crash before it is not "maybe sent".
                journaled = await self._begin(claim)
                if journaled is None:
                    return
                attempt_id = journaled.job.attempt_id
                crash_point("journaled_ahead")
                delay = (claim.due_at - self.clock()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
            assert self._semaphore is not None
            async with self._semaphore:
                hold = self.gates.held(claim.platform, self.clock())
                if hold is None and claim.account is not None:
                    hold = self.gates.account_held(claim.account.id, self.clock())
                if hold is not None:
                    await self._release(claim, hold.until, hold.reason, journaled)
                    return
                limiter = self.gates.limiter(claim.platform)
                if limiter is not None:
                    if journaled is not None and not limiter.has_capacity():
                        # Over the platform's rate: wait without an open attempt (claimed again, overdue).
                        await self._release(claim, None, "", journaled)
                        return
                    await limiter.acquire()
                if journaled is None:
                    journaled = await self._begin(claim)  # committed: only now may the request leave
                    if journaled is None:
                        return
                job = journaled.job
                attempt_id = job.attempt_id
                crash_point("journaled")
                pacer = self.gates.pacer(claim.platform)
                if pacer is not None:
                    await pacer.acquire()
                adapter = self.adapter_for(claim.platform)
                started = time.monotonic()
                calling = True
                outcome = await self._call(adapter, claim, job)
            # (the outcome is saved outside the concurrency bound: it waits for a commit, not the platform)
            if isinstance(outcome, PublishError):
                if claim.native and outcome.kind not in (ErrorKind.UNKNOWN, ErrorKind.AUTH):
                    await self._handoff_refused(claim, job.attempt_id, outcome)
                else:
                    await self._failed(claim, journaled, outcome, started)
            else:
                crash_point("answered")
                if claim.native and outcome.natively_scheduled:
                    await self._handed_off(claim, job.attempt_id, outcome, started)
                else:
                    await self._succeeded(claim, job.attempt_id, outcome, started)
        except asyncio.CancelledError:
            if attempt_id is None:
                await self._release(claim, None, "")
            elif not calling:
                await self.writes.write(partial(outcomes.release_unsent, target_id=claim.target_id,
                                                attempt_id=attempt_id, now=self.clock()))
            else:  # (queued after any outcome already on its way: that one wins)
                await self.writes.write(partial(outcomes.record_unknown_on_shutdown, attempt_id=attempt_id,
                                                now=self.clock()))
            raise
        except Exception as exc:
            # The claim could not be given back (a database error before anything was sent) or a bug:
            # the target stays claimed in this run and start-up recovery settles it.
            log.exception("could not finish target %s", claim.target_id)
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

    async def _begin(self, claim: Claim) -> Journaled | None:
        """Journal the attempt. None if the database refused the write: nothing was sent, and the
        claim is given back as soon as the database accepts writes (published then, never twice)."""
        try:
            return await self._journal.begin(claim)
        except DATABASE_ERRORS as exc:
            log.error("could not journal target %s: %s", claim.target_id, redact(str(exc)))
            work = partial(outcomes.release, target_id=claim.target_id, due_at=None, reason="")
            await self._save(claim, lambda: self.writes.write(work))
            self._schedule_dirty = True
            return None

    async def _call(self, adapter: Adapter, claim: Claim, job: PublishJob) -> PublishResult | PublishError:
        """The platform call: its result, or the error that says what the publisher does next."""
        try:
            return await asyncio.wait_for(adapter.publish(job, _Journal(self.db, job.attempt_id)),
                                          timeout=self.settings.publish_timeout)
        except PublishError as exc:
            return exc
        except TimeoutError:
            return PublishError(ErrorKind.UNKNOWN, f"No answer from {claim.platform.label} within "
                                f"{self.settings.publish_timeout:.0f} s.", code="PublishTimeout")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an adapter bug: the request may have gone out
            log.exception("adapter %s raised unexpectedly", claim.platform.value)
            return PublishError(ErrorKind.UNKNOWN, f"Unexpected error: {type(exc).__name__}: {exc}",
                                code="AdapterError")

    async def _save(self, claim: Claim, write: Callable[[], Awaitable[T]]) -> T:
        """Commit an outcome. While the database refuses writes (disk full, read-only) the outcome
        waits here, in memory, and is written as soon as the database accepts it: the target never
        stays "publishing" until a restart, and nothing is sent again."""
        told = False
        while True:
            try:
                result = await write()
            except DATABASE_ERRORS as exc:
                if self._stopping:
                    raise
                if not told:
                    told = True
                    log.error("could not save the outcome of target %s: %s", claim.target_id, redact(str(exc)))
                    if not self._stuck:  # one notice however many results wait
                        self._notify("error", "Outpost could not save a result",
                                     f"Post #{claim.post_id}: {redact(str(exc))[:200]}. Outpost keeps the result "
                                     "and saves it as soon as the database accepts writes (is the disk full or "
                                     "read-only?); nothing is sent again.")
                    self._stuck.add(claim.target_id)
                await asyncio.sleep(self.settings.database_retry.total_seconds())
                continue
            if told:
                self._stuck.discard(claim.target_id)
                log.warning("saved the outcome of target %s once the database accepted writes again",
                            claim.target_id)
            return result

    async def _succeeded(self, claim: Claim, attempt_id: int, result: PublishResult, started: float) -> None:
        """Record a publish (on the writer thread, with the others that finish meanwhile: a group
        commit); the task waits for the commit."""
        duration = int((time.monotonic() - started) * 1000)
        success = Success(claim, attempt_id, result, self.clock(), duration)
        await self._save(claim, lambda: self._successes.write(success))
        self.gates.record_success(claim.platform)
        log.info("published", extra={"post": claim.post_id, "target": claim.target_id,
                                     "platform": claim.platform.value, "attempt": attempt_id})
        self._changed("posts")

    async def _failed(self, claim: Claim, journaled: Journaled, exc: PublishError, started: float) -> None:
        job = journaled.job
        now = self.clock()
        duration = int((time.monotonic() - started) * 1000)
        log.warning("publish failed: %s", one_line(exc.message),
                    extra={"post": claim.post_id, "target": claim.target_id, "platform": claim.platform.value,
                           "attempt": job.attempt_id, "kind": exc.kind.value})
        breaker = (self.gates.record_failure(claim.platform, now)
                   if exc.kind in (ErrorKind.UNKNOWN, ErrorKind.TRANSIENT) else None)
        reason = breaker.reason if breaker is not None else None
        if exc.kind is ErrorKind.UNKNOWN:
            what = retry_policy.answer_lost(claim.platform.label, http_status=exc.http_status, code=exc.code)
            unknown = partial(outcomes.record_unknown, attempt_id=job.attempt_id, exc=exc, now=now,
                              duration_ms=duration, platform=claim.platform, breaker=reason, what=what)
            await self._save(claim, lambda: self.writes.write(unknown))
            self._breaker_tripped(claim.platform, breaker)
            job = self._with_journaled_steps(job)
            reconciliation = await self._reconcile(claim.platform, job)
            await self._apply_reconciliation(claim, job.attempt_id, reconciliation)
            return
        verdict = self._verdict(claim, exc, journaled.attempts, now)
        failure = partial(outcomes.record_failure, claim=claim, attempt_id=job.attempt_id, exc=exc, verdict=verdict,
                          now=now, duration_ms=duration, breaker=reason)
        follow = await self._save(claim, lambda: self.writes.write(failure))
        self._breaker_tripped(claim.platform, breaker)
        self._follow(follow)
        self._changed("posts")

    def _verdict(self, claim: Claim, exc: PublishError, attempts: int, now: datetime) -> Verdict:
        """What a known failure leads to. A rate limit holds the account at once, before the commit,
        so no other post of it leaves meanwhile."""
        if exc.kind is ErrorKind.AUTH:
            return Verdict("reconnect")
        if exc.kind is ErrorKind.RATE_LIMIT and attempts < self.settings.max_rate_limit_waits:
            assert claim.account is not None
            wait = timedelta(seconds=exc.retry_after if exc.retry_after is not None else 60)
            label = f"{claim.account.display_name or claim.account.handle} ({claim.platform.label})"
            self.gates.hold_account(claim.account.id, now + wait, f"{claim.platform.label} asked Outpost to "
                                    f"wait {humanize_delta(wait)} for {label} (rate limit).")
            return Verdict("wait", now + wait)
        if exc.kind is ErrorKind.TRANSIENT and attempts < self.settings.max_attempts:
            return Verdict("retry", now + self._backoff(attempts))
        return Verdict("fail", gave_up=exc.kind is ErrorKind.TRANSIENT)

    def _breaker_tripped(self, platform: Platform, hold: Hold | None) -> None:
        if hold is not None:
            self._notify("error", f"{platform.label} paused", hold.reason)
            self._changed("publisher")

    def _follow(self, follow: FollowUp) -> None:
        for level, title, message in follow.notices:
            self._notify(level, title, message)
        if follow.rearm:
            self._schedule_dirty = True

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter (capped)."""
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * (2 ** max(0, attempts - 1)))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))

    async def _release(self, claim: Claim, due_at: datetime | None, reason: str,
                       journaled: Journaled | None = None) -> None:
        """Give a claim back before anything was sent (its attempt, journaled ahead, closed as not sent)."""
        if journaled is None:
            work = partial(outcomes.release, target_id=claim.target_id, due_at=due_at, reason=reason)
        else:
            work = partial(outcomes.release_unsent, target_id=claim.target_id, attempt_id=journaled.job.attempt_id,
                           now=self.clock(), due_at=due_at, reason=reason)
        if await self.writes.write(work):
            self._schedule_dirty = True

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
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        except (TimeoutError, OSError) as exc:  # no answer within the bound, or no connection at all
            return Reconciliation(ReconcileStatus.UNKNOWN, detail=redact(f"{type(exc).__name__}: {exc}"),
                                  platform_answered=False)
        except Exception as exc:  # an adapter bug: waiting will not fix it
            log.exception("adapter %s raised while checking a post", platform.value)
            return Reconciliation(ReconcileStatus.UNKNOWN, detail=redact(f"{type(exc).__name__}: {exc}"))

    async def _apply_reconciliation(self, claim: Claim, attempt_id: int, rec: Reconciliation) -> None:
        work = partial(outcomes.record_reconciliation, claim=claim, attempt_id=attempt_id, rec=rec, now=self.clock(),
                       max_attempts=self.settings.max_attempts, backoff=self._backoff,
                       delays=self.settings.recheck_delays)
        follow = await self._save(claim, lambda: self.writes.write(work))
        self._follow(follow)
        self._changed("posts")

    async def _claim_rechecks(self) -> None:
        """Unknown outcomes whose next check is due: ask the platform again."""
        if self._stopping or self._paused:
            return
        try:
            due = await self.writes.write(partial(outcomes.claim_rechecks, until=self.clock(),
                                                  exclude=sorted(self._claimed)))
        except DATABASE_ERRORS as exc:
            self._database_failed(exc)
            return
        for claim, job in due:
            self._claimed.add(claim.target_id)
            self._spawn(self._recover_one(claim, job))
        self.rearm()

    # --- start-up recovery ----------------------------------------------------------------------

    async def recover(self) -> None:
        """Targets a previous run left in PUBLISHING: give back the unsent, reconcile the rest (P4);
        those waiting for a later check keep their place in the schedule."""
        to_reconcile = await self.writes.write(partial(outcomes.recover_publishing, now=self.clock()))
        for claim, job in to_reconcile:
            self._claimed.add(claim.target_id)
            self._spawn(self._recover_one(claim, job))

    async def _recover_one(self, claim: Claim, job: PublishJob) -> None:
        """Check an unknown outcome (left by a previous run, or due for another check)."""
        try:
            rec = await self._reconcile(claim.platform, job)
            await self._apply_reconciliation(claim, job.attempt_id, rec)
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
    """Durable checkpoints for multi-step publishes (P7): committed before `record` returns.

    The adapter protocol's `record` is synchronous, so this one write is made on the loop, not on
    the writer thread; it is rare (a few per multi-step publish) and nothing else is queued for
    its attempt meanwhile."""

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
