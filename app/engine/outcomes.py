"""The publisher's transactions: claims, and what happened to each publish, written down.

Each function here runs on the writer thread (app/engine/writer.py) inside the transaction it is
given, and takes plain values: it never touches the publisher's in-memory state (gates, timers,
listeners), which belongs to the loop. What the loop must still do once the commit is done
(notices to show, a re-arm) comes back as a `FollowUp`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from app.core.errors import PublishError
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
from app.core.redact import redact
from app.core.rules import RULES
from app.core.status import rollup
from app.core.timeutil import as_utc, humanize_delta
from app.engine import retry_policy
from app.engine.recurring import spawn_next_occurrence
from app.platforms.base import PublishJob, PublishResult, ReconcileStatus, Reconciliation
from app.store import repo
from app.store.schema import Account, Attempt, Event, Post, Target

Notice = tuple[str, str, str]  # (level, title, message)
NOT_SENT = "Outpost stopped before sending it."


@dataclass(frozen=True)
class Claim:
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


@dataclass
class FollowUp:
    """What the loop does after a commit."""

    notices: list[Notice] = field(default_factory=list)
    rearm: bool = False  # a target went back in the queue


@dataclass(frozen=True)
class Claimed:
    claims: list[Claim]
    due: int  # due targets seen (claimed, missed or handed), at most the room asked for
    missed: list[tuple[int, datetime]]  # (post id, due at) of targets marked missed
    handed: int  # targets found published by the platform's own scheduler


# --- claims ---------------------------------------------------------------------------------------


def claim_due(session: Session, now: datetime, until: datetime, exclude_platforms: list[str], room: int,
              catchup_window: timedelta) -> Claimed:
    """Mark missed and natively published targets, claim the due ones (compare-and-set, P2)."""
    due = repo.due_targets(session, until, exclude_platforms=exclude_platforms, limit=room)
    # A post handed to the platform's scheduler went out while we were away, however long ago.
    handed = [t for t in due if t.natively_scheduled]
    for target in handed:
        _mark_published_natively(session, target)
    missed = [t for t in due if not t.natively_scheduled and t.due_at is not None
              and now - t.due_at > catchup_window]
    for target in missed:
        _mark_missed(session, target, now)
    settled = {t.id for t in handed} | {t.id for t in missed}
    wanted = [t for t in due if t.id not in settled]
    won = set(repo.claim_targets(session, [t.id for t in wanted]))
    claimed = [t for t in wanted if t.id in won]
    claims: list[Claim] = []
    for target in claimed:
        assert target.due_at is not None and target.scheduled_at is not None
        claims.append(Claim(target.id, target.post_id, Platform(target.account.platform),
                            target.due_at, target.scheduled_at, repo.account_info(target.account),
                            content_for(target.post, target.account_id), dict(target.checkpoints or {})))
    # A post with a target in PUBLISHING rolls up to PUBLISHING (status.rollup): one statement.
    claimed_posts = {t.post_id for t in claimed}
    if claimed_posts:
        session.execute(update(Post).where(Post.id.in_(claimed_posts)).values(status=PostStatus.PUBLISHING.value))
    for target in missed:
        repo.refresh_post_status(target.post)
    for target in claimed + missed:
        if target.post.recurrence:
            spawn_next_occurrence(session, target.post, now, catchup_window)
    return Claimed(claims, len(due), [(t.post_id, as_utc(t.due_at)) for t in missed if t.due_at], len(handed))


def claim_for_handoff(session: Session, now: datetime) -> Claimed:
    """Claim the targets far enough ahead on platforms that schedule natively (Mastodon...)."""
    native = [p.value for p in Platform if RULES[p].native_scheduling]
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
    claims = []
    for t in wanted:
        if t.id in won:
            assert t.due_at is not None and t.scheduled_at is not None
            claims.append(Claim(t.id, t.post_id, Platform(t.account.platform), t.due_at, t.scheduled_at,
                                repo.account_info(t.account), content_for(t.post, t.account_id),
                                dict(t.checkpoints or {}), native=True))
    return Claimed(claims, len(wanted), [], 0)


def release(session: Session, target_id: int, due_at: datetime | None, reason: str) -> bool:
    """Give a claim back before anything was sent; True if the target is back in the queue."""
    target = session.get(Target, target_id)
    if target is None or target.status != TargetStatus.PUBLISHING.value:
        return False
    target.status = TargetStatus.SCHEDULED.value
    if due_at is not None:
        target.due_at = due_at
    if reason:
        target.last_error = reason
    repo.refresh_post_status(target.post)
    return True


def release_unsent(session: Session, target_id: int, attempt_id: int, now: datetime, due_at: datetime | None = None,
                   reason: str = "") -> bool:
    """Journaled, then stopped before the call: the attempt is closed as not sent (it does not count
    as one), the claim given back."""
    if close_unsent_attempt(session, attempt_id, now):
        session.execute(update(Target).where(Target.id == target_id, Target.attempts > 0)
                        .values(attempts=Target.attempts - 1))
    return release(session, target_id, due_at, reason)


def close_unsent_attempt(session: Session, attempt_id: int, now: datetime) -> bool:
    """True if the attempt was still open (and is now closed as not sent)."""
    closed = session.execute(
        update(Attempt).where(Attempt.id == attempt_id, Attempt.outcome == AttemptOutcome.IN_FLIGHT.value)
        .values(outcome=AttemptOutcome.FAILED.value, finished_at=now, error=NOT_SENT)
        .returning(Attempt.id)).first()
    return closed is not None


def release_all(session: Session, target_ids: list[int]) -> None:
    for target_id in target_ids:
        release(session, target_id, None, "")


def recover_publishing(session: Session, now: datetime) -> list[tuple[Claim, PublishJob]]:
    """Targets a previous run left in PUBLISHING: give back the unsent, return the rest to reconcile (P4).

    An attempt journaled ahead of an instant that has not come yet was not sent: the engine calls
    only at the instant. One waiting for a later check stays in the schedule (`claim_rechecks`)."""
    to_reconcile: list[tuple[Claim, PublishJob]] = []
    for target in repo.publishing_targets(session):
        attempt = repo.open_attempt(target)
        if attempt is not None and attempt.recheck_at is not None:
            continue
        if attempt is not None and attempt.outcome == AttemptOutcome.IN_FLIGHT.value and as_utc(attempt.started_at) > now:
            close_unsent_attempt(session, attempt.id, now)
            target.attempts = max(0, target.attempts - 1)
            attempt = None
        if attempt is None:
            target.status = TargetStatus.SCHEDULED.value
            repo.refresh_post_status(target.post)
            continue
        platform = Platform(target.account.platform)
        if attempt.outcome == AttemptOutcome.IN_FLIGHT.value:
            attempt.error = retry_policy.answer_lost(platform.label, stopped=True)
        attempt.outcome = AttemptOutcome.UNKNOWN.value
        attempt.finished_at = attempt.finished_at or now
        to_reconcile.append(_to_check(target, attempt, now))
    return to_reconcile


def claim_rechecks(session: Session, until: datetime, exclude: list[int]) -> list[tuple[Claim, PublishJob]]:
    """Unknown outcomes whose next check is due by `until`: taken off the schedule and returned to
    check (a crash meanwhile leaves them to start-up recovery, which checks them at once)."""
    rows = session.scalars(
        select(Attempt).join(Target).where(
            Attempt.recheck_at.is_not(None), Attempt.recheck_at <= until,
            Attempt.outcome == AttemptOutcome.UNKNOWN.value, Target.status == TargetStatus.PUBLISHING.value,
            Target.id.not_in(exclude),
        ).options(selectinload(Attempt.target).selectinload(Target.post),
                  selectinload(Attempt.target).selectinload(Target.account))
    ).all()
    due = []
    for attempt in rows:
        attempt.recheck_at = None
        due.append(_to_check(attempt.target, attempt, until))
    # A settled target (marked published meanwhile) needs no check: its attempt leaves the schedule.
    session.execute(update(Attempt).where(Attempt.recheck_at.is_not(None), Attempt.recheck_at <= until,
                                          Attempt.target_id.not_in(exclude)).values(recheck_at=None))
    return due


def _to_check(target: Target, attempt: Attempt, now: datetime) -> tuple[Claim, PublishJob]:
    claim = Claim(target.id, target.post_id, Platform(target.account.platform),
                  as_utc(target.due_at or now), as_utc(target.scheduled_at or now))
    job = PublishJob(
        target_id=target.id, post_id=target.post_id, attempt_id=attempt.id,
        account=repo.account_info(target.account), content=content_for(target.post, target.account_id),
        idempotency_key=attempt.idempotency_key, scheduled_at=claim.scheduled_at,
        checkpoints={**(target.checkpoints or {}), **(attempt.steps or {})},
    )
    return claim, job


# --- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Success:
    claim: Claim
    attempt_id: int
    result: PublishResult
    at: datetime
    duration_ms: int


def record_successes(session: Session, successes: list[Success]) -> list[None]:
    """Publishes, in plain statements (the hot path of a catch-up: a group commit of them)."""
    for s in successes:
        record_success(session, s.claim, s.attempt_id, s.result, s.at, s.duration_ms)
    return [None] * len(successes)


def record_success(session: Session, claim: Claim, attempt_id: int, result: PublishResult, now: datetime,
                   duration_ms: int) -> None:
    warning = redact("; ".join(result.warnings)) if result.warnings else ""
    handle = claim.account.handle if claim.account else ""
    session.execute(update(Attempt).where(Attempt.id == attempt_id).values(
        outcome=AttemptOutcome.SUCCEEDED.value, finished_at=now, error=warning, duration_ms=duration_ms))
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


def finish_attempt(session: Session, attempt_id: int, exc: PublishError, now: datetime,
                   duration_ms: int | None) -> None:
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    attempt.outcome = (AttemptOutcome.UNKNOWN if exc.kind is ErrorKind.UNKNOWN else AttemptOutcome.FAILED).value
    attempt.finished_at = now
    attempt.error = exc.message
    attempt.error_kind = exc.kind.value
    attempt.http_status = exc.http_status
    attempt.duration_ms = duration_ms


@dataclass(frozen=True)
class Verdict:
    """What a failed publish leads to, decided on the loop (it may hold the account at once)."""

    kind: str  # "reconnect", "wait" (rate limit), "retry" or "fail"
    due_at: datetime | None = None  # the next attempt, for "wait" and "retry"
    gave_up: bool = False  # "fail" after the last transient attempt


def record_failure(session: Session, claim: Claim, attempt_id: int, exc: PublishError, verdict: Verdict,
                   now: datetime, duration_ms: int, breaker: str | None) -> FollowUp:
    """A failure whose outcome is known (the request was refused or never arrived)."""
    follow = FollowUp()
    finish_attempt(session, attempt_id, exc, now, duration_ms)
    if breaker is not None:
        repo.add_event(session, breaker, level="error", kind="breaker", platform=claim.platform.value)
    target = session.get(Target, claim.target_id)
    assert target is not None
    target.last_error = exc.message
    target.last_error_kind = exc.kind.value
    label = f"{target.account.display_name or target.account.handle} ({claim.platform.label})"
    if verdict.kind == "reconnect":
        account = target.account
        account.status = AccountStatus.NEEDS_RECONNECT.value
        account.status_reason = exc.message
        target.status = TargetStatus.SCHEDULED.value
        follow.rearm = True
        target.last_error = f"Reconnect {label} to publish: {exc.message}"
        repo.add_event(session, f"{label} needs to be reconnected: {exc.message}", level="error",
                       kind="auth", post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
        follow.notices.append(("error", f"Reconnect {label}", "Its posts are held until you reconnect it."))
    elif verdict.kind == "wait":
        assert verdict.due_at is not None
        target.status = TargetStatus.SCHEDULED.value
        target.due_at = verdict.due_at
        follow.rearm = True
        repo.add_event(session, f"{claim.platform.label} rate limit: post #{target.post_id} waits "
                       f"{humanize_delta(verdict.due_at - now)}.", level="warning", kind="rate_limit",
                       post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
    elif verdict.kind == "retry":
        assert verdict.due_at is not None
        target.status = TargetStatus.SCHEDULED.value
        target.due_at = verdict.due_at
        follow.rearm = True
        repo.add_event(session, f"Post #{target.post_id} on {label} will be retried in "
                       f"{humanize_delta(verdict.due_at - now)}: {exc.message}", level="warning", kind="retry",
                       post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
    else:
        if verdict.gave_up:
            target.last_error = f"Gave up after {target.attempts} attempts: {exc.message}"
        target.status = TargetStatus.FAILED.value
        target.due_at = None
        repo.add_event(session, f"Post #{target.post_id} failed on {label}: {target.last_error}",
                       level="error", kind="failed", post_id=target.post_id, target_id=target.id,
                       platform=claim.platform.value)
        follow.notices.append(("error", f"A post failed on {label}", target.last_error))
    repo.refresh_post_status(target.post)
    return follow


def record_unknown(session: Session, attempt_id: int, exc: PublishError, now: datetime, duration_ms: int,
                   platform: Platform, breaker: str | None, what: str = "") -> None:
    """The request may have reached the platform: the attempt is closed as unknown, to reconcile.
    `what` (retry_policy.answer_lost) is kept as the attempt's error: the checks' messages start with it."""
    finish_attempt(session, attempt_id, exc, now, duration_ms)
    if what:
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(error=what))
    if breaker is not None:
        repo.add_event(session, breaker, level="error", kind="breaker", platform=platform.value)


def record_reconciliation(session: Session, claim: Claim, attempt_id: int, rec: Reconciliation, now: datetime,
                          max_attempts: int, backoff: Callable[[int], timedelta],
                          delays: tuple[timedelta, ...] = retry_policy.RECHECK_DELAYS) -> FollowUp:
    """What a check of an unknown outcome found: published, not published (retry or fail), or unclear:
    checked again later while the platform cannot be reached, else the person is asked."""
    follow = FollowUp()
    target = session.get(Target, claim.target_id)
    attempt = session.get(Attempt, attempt_id)
    assert target is not None and attempt is not None
    if target.status != TargetStatus.PUBLISHING.value:
        attempt.recheck_at = None
        return follow  # settled meanwhile (the person marked it published): nothing to add
    attempt.checks = (attempt.checks or 0) + 1
    attempt.recheck_at = None
    label = f"{target.account.display_name or target.account.handle} ({claim.platform.label})"
    what = attempt.error or retry_policy.answer_lost(claim.platform.label)
    if rec.status is ReconcileStatus.PUBLISHED:
        attempt.outcome = AttemptOutcome.SUCCEEDED.value
        mark_published(session, target, rec.external_id, rec.url, now)
        repo.add_event(session, f"Confirmed post #{target.post_id} on {label} after an unclear answer.",
                       kind="reconciled", post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
    elif rec.status is ReconcileStatus.NOT_PUBLISHED and not attempt.error_kind:
        # Outpost stopped (a kill, a crash, a quit) with this attempt open, and it never arrived: no
        # platform failed, so no backoff, and it does not count (attempts journaled ahead of their
        # instant are open at every kill: a few kills must not use up a post's attempts).
        attempt.outcome = AttemptOutcome.FAILED.value
        target.attempts = max(0, target.attempts - 1)
        target.status = TargetStatus.SCHEDULED.value
        target.due_at = now
        follow.rearm = True
        target.last_error = f"{what} It was not published; Outpost sends it now."
        repo.refresh_post_status(target.post)
    elif rec.status is ReconcileStatus.NOT_PUBLISHED and target.attempts < max_attempts:
        attempt.outcome = AttemptOutcome.FAILED.value
        due = now + backoff(target.attempts)
        target.status = TargetStatus.SCHEDULED.value
        target.due_at = due
        follow.rearm = True
        target.last_error = retry_policy.not_sent(what, due, now, target.attempts)
        repo.refresh_post_status(target.post)
    elif rec.status is ReconcileStatus.NOT_PUBLISHED:  # known not published: nothing to check
        attempt.outcome = AttemptOutcome.FAILED.value
        target.status = TargetStatus.FAILED.value
        target.due_at = None
        target.last_error = retry_policy.not_sent(what, None, now, target.attempts)
        repo.refresh_post_status(target.post)
        repo.add_event(session, f"Post #{target.post_id} failed on {label}: {target.last_error}",
                       level="error", kind="failed", post_id=target.post_id, target_id=target.id,
                       platform=claim.platform.value)
        follow.notices.append(("error", f"A post failed on {label}", target.last_error))
    else:
        decision = retry_policy.decide(attempt.checks, rec.platform_answered, now, delays)
        if decision.recheck_at is not None:
            attempt.recheck_at = decision.recheck_at
            follow.rearm = True
            target.last_error = retry_policy.checking_again(what, claim.platform.label, attempt.checks,
                                                            decision.recheck_at, now)
            repo.add_event(session, f"Post #{target.post_id} on {label}: {target.last_error}", level="warning",
                           kind="recheck", post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
            return follow
        target.status = TargetStatus.NEEDS_REVIEW.value
        target.due_at = None
        target.last_error = retry_policy.ask_the_person(what, claim.platform.label, label, decision, attempt.checks,
                                                        rec.detail)
        repo.refresh_post_status(target.post)
        repo.add_event(session, f"Post #{target.post_id} needs review on {label}: {target.last_error}",
                       level="error", kind="needs_review", post_id=target.post_id, target_id=target.id,
                       platform=claim.platform.value)
        follow.notices.append(("warning", f"Check {label}", f"Post #{target.post_id} may or may not be published."))
    return follow


def record_unknown_on_shutdown(session: Session, attempt_id: int, now: datetime) -> None:
    """Quit while a call was in flight: the outcome is unknown; the next start reconciles it."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is not None and attempt.outcome == AttemptOutcome.IN_FLIGHT.value:
        attempt.outcome = AttemptOutcome.UNKNOWN.value
        attempt.error = "Outpost quit before the platform answered."
        attempt.finished_at = now


# --- the platform's own scheduler -----------------------------------------------------------------


def record_handed_off(session: Session, claim: Claim, attempt_id: int, result: PublishResult, now: datetime,
                      duration_ms: int) -> None:
    target = session.get(Target, claim.target_id)
    attempt = session.get(Attempt, attempt_id)
    assert target is not None and attempt is not None
    attempt.outcome = AttemptOutcome.SUCCEEDED.value
    attempt.finished_at = now
    attempt.duration_ms = duration_ms
    target.status = TargetStatus.SCHEDULED.value
    target.natively_scheduled = True
    target.external_id = result.external_id
    target.external_url = result.url
    target.last_error = redact("; ".join(result.warnings)) if result.warnings else ""
    repo.refresh_post_status(target.post)
    repo.add_event(session, f"Post #{claim.post_id} handed to {claim.platform.label}'s scheduler: it will "
                   "go out even if this computer is off.", kind="handoff", post_id=claim.post_id,
                   target_id=claim.target_id, platform=claim.platform.value)


def record_handoff_refused(session: Session, claim: Claim, attempt_id: int, exc: PublishError,
                           now: datetime) -> None:
    finish_attempt(session, attempt_id, exc, now, None)
    target = session.get(Target, claim.target_id)
    assert target is not None
    target.status = TargetStatus.SCHEDULED.value
    target.checkpoints = {**(target.checkpoints or {}), "handoff": "refused"}
    repo.refresh_post_status(target.post)
    repo.add_event(session, f"{claim.platform.label} did not take post #{claim.post_id} for its own "
                   f"scheduler ({exc.message}); Outpost will publish it at the time.", level="warning",
                   kind="handoff", post_id=claim.post_id, target_id=claim.target_id, platform=claim.platform.value)


# --- rows ---------------------------------------------------------------------------------------


def mark_published(session: Session, target: Target, external_id: str, url: str, now: datetime) -> None:
    target.status = TargetStatus.PUBLISHED.value
    target.external_id = external_id
    target.external_url = url
    target.last_error = ""
    target.last_error_kind = ""
    target.due_at = None
    repo.refresh_post_status(target.post)
    repo.add_event(session, f"Published post #{target.post_id} on {target.account.handle}.",
                   kind="published", post_id=target.post_id, target_id=target.id,
                   platform=target.account.platform, at=now)


def _mark_published_natively(session: Session, target: Target) -> None:
    platform = Platform(target.account.platform)
    target.status = TargetStatus.PUBLISHED.value
    target.due_at = None
    repo.refresh_post_status(target.post)
    repo.add_event(session, f"Post #{target.post_id} was published by {platform.label}'s own scheduler.",
                   kind="published", post_id=target.post_id, target_id=target.id, platform=platform.value)


def _mark_missed(session: Session, target: Target, now: datetime) -> None:
    assert target.due_at is not None
    late = humanize_delta(now - target.due_at)
    target.status = TargetStatus.MISSED.value
    target.last_error = (f"Outpost was not running at the scheduled time ({late} ago). "
                         "Publish now, reschedule or discard it.")
    repo.add_event(session, f"Missed post #{target.post_id} on {target.account.handle}: {late} late.",
                   level="warning", kind="missed", post_id=target.post_id, target_id=target.id,
                   platform=target.account.platform)


def content_for(post: Post, account_id: int) -> PostContent:
    overrides = post.overrides or {}
    text = overrides.get(str(account_id), post.text)
    return PostContent(
        text=text,
        media=tuple(MediaItem.from_dict(m) for m in (post.media or [])),
        first_comment=post.first_comment or "",
        thread=tuple(post.thread or []),
        title=post.title or "",
    )
