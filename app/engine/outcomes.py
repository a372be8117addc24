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


def release_unsent(session: Session, target_id: int, attempt_id: int, now: datetime) -> bool:
    """Journaled, then stopped before the call: the attempt is closed as not sent, the claim given back."""
    close_unsent_attempt(session, attempt_id, now)
    return release(session, target_id, None, "")


def close_unsent_attempt(session: Session, attempt_id: int, now: datetime) -> None:
    session.execute(update(Attempt).where(Attempt.id == attempt_id, Attempt.outcome == AttemptOutcome.IN_FLIGHT.value)
                    .values(outcome=AttemptOutcome.FAILED.value, finished_at=now, error=NOT_SENT))


def release_all(session: Session, target_ids: list[int]) -> None:
    for target_id in target_ids:
        release(session, target_id, None, "")


def recover_publishing(session: Session, now: datetime) -> list[tuple[Claim, PublishJob]]:
    """Targets a previous run left in PUBLISHING: give back the unsent, return the rest to reconcile (P4)."""
    to_reconcile: list[tuple[Claim, PublishJob]] = []
    for target in repo.publishing_targets(session):
        attempt = repo.open_attempt(target)
        if attempt is None:
            target.status = TargetStatus.SCHEDULED.value
            repo.refresh_post_status(target.post)
            continue
        attempt.outcome = AttemptOutcome.UNKNOWN.value
        attempt.error = attempt.error or "Outpost stopped before the platform answered."
        attempt.finished_at = attempt.finished_at or now
        claim = Claim(target.id, target.post_id, Platform(target.account.platform),
                      as_utc(target.due_at or now), as_utc(target.scheduled_at or now))
        job = PublishJob(
            target_id=target.id, post_id=target.post_id, attempt_id=attempt.id,
            account=repo.account_info(target.account), content=content_for(target.post, target.account_id),
            idempotency_key=attempt.idempotency_key, scheduled_at=claim.scheduled_at,
            checkpoints={**(target.checkpoints or {}), **(attempt.steps or {})},
        )
        to_reconcile.append((claim, job))
    return to_reconcile


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
                   platform: Platform, breaker: str | None) -> None:
    """The request may have reached the platform: the attempt is closed as unknown, to reconcile."""
    finish_attempt(session, attempt_id, exc, now, duration_ms)
    if breaker is not None:
        repo.add_event(session, breaker, level="error", kind="breaker", platform=platform.value)


def record_reconciliation(session: Session, claim: Claim, rec: Reconciliation, reason: str, now: datetime,
                          max_attempts: int, backoff: Callable[[int], timedelta]) -> FollowUp:
    """What reconciling an unknown outcome found: published, not published (retry or fail), or unclear."""
    follow = FollowUp()
    target = session.get(Target, claim.target_id)
    assert target is not None
    label = f"{target.account.display_name or target.account.handle} ({claim.platform.label})"
    if rec.status is ReconcileStatus.PUBLISHED:
        mark_published(session, target, rec.external_id, rec.url, now)
        repo.add_event(session, f"Confirmed post #{target.post_id} on {label} after an unclear answer.",
                       kind="reconciled", post_id=target.post_id, target_id=target.id, platform=claim.platform.value)
    elif rec.status is ReconcileStatus.NOT_PUBLISHED and target.attempts < max_attempts:
        wait = backoff(target.attempts)
        target.status = TargetStatus.SCHEDULED.value
        target.due_at = now + wait
        follow.rearm = True
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
        follow.notices.append(("error", f"A post failed on {label}", target.last_error))
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
