"""Unknown outcomes: when Outpost checks again, and what it tells the person meanwhile.

Pure functions. After a publish whose answer was lost, the engine asks the platform whether the
post went out (a "check"). `decide` says what follows a check that could not tell; the messages
say exactly what happened and what Outpost does next, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Waits between checks while the platform cannot be reached: 1, 5, 15 and 60 minutes (81 in all).
RECHECK_DELAYS: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                                         timedelta(minutes=60))

UNREACHABLE = "unreachable"  # the check could not reach the platform: check again later
CANNOT_TELL = "cannot_tell"  # the platform answered the check and still cannot say: ask the person
USED_UP = "used_up"  # every check is spent and the platform was never reached: ask the person


@dataclass(frozen=True)
class Decision:
    why: str  # UNREACHABLE, CANNOT_TELL or USED_UP
    recheck_at: datetime | None = None  # the next check (UNREACHABLE only)

    @property
    def ask_the_person(self) -> bool:
        return self.recheck_at is None


def decide(checks: int, platform_answered: bool, now: datetime,
           delays: tuple[timedelta, ...] = RECHECK_DELAYS) -> Decision:
    """After the `checks`-th check (1 for the first) of an unknown outcome could not tell whether
    the post went out: check again after `delays[checks - 1]` while the platform could not be
    reached; ask the person once it answered and still cannot say, or once the delays are used up."""
    if platform_answered:
        return Decision(CANNOT_TELL)
    if checks > len(delays):
        return Decision(USED_UP)
    return Decision(UNREACHABLE, now + delays[max(checks, 1) - 1])


# --- what the person reads ------------------------------------------------------------------------


def answer_lost(platform: str, *, http_status: int | None = None, code: str | None = None,
                timed_out: bool = False, stopped: bool = False) -> str:
    """What happened, in one sentence: why Outpost does not know whether the post went out."""
    if stopped:
        return f"Outpost stopped before {platform} answered."
    if http_status is not None and http_status >= 500:
        return f"{platform} had a server error (HTTP {http_status}) while receiving the post."
    name = code or ""
    if timed_out or "Timeout" in name:
        return f"The answer from {platform} was lost (timeout)."
    if name in ("ReadError", "WriteError", "RemoteProtocolError", "ConnectionResetError", "LocalProtocolError"):
        return f"The answer from {platform} was lost (the connection broke)."
    return f"The answer from {platform} was lost."


def at_clock(instant: datetime, now: datetime) -> str:
    """14:05 today, or Dec 8 14:05 on another day (this computer's time zone)."""
    local, today = instant.astimezone(), now.astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{local.strftime('%b')} {local.day} {local.strftime('%H:%M')}"


def checking_again(what: str, platform: str, checks: int, at: datetime, now: datetime) -> str:
    """While a check is pending: what happened, and when Outpost looks again."""
    tried = "" if checks <= 1 else f" {platform} could not be reached to check ({checks} tries so far)."
    return f"{what}{tried} Outpost checks again at {at_clock(at, now)} whether it went out; it will not send it twice."


def ask_the_person(what: str, platform: str, where: str, decision: Decision, checks: int, detail: str) -> str:
    """Needs review: what happened, and what the person does now. `where` names the account."""
    if decision.why == USED_UP:
        why = (f" {platform} could not be reached in {checks} checks, so Outpost cannot tell whether it went "
               "out and stopped checking.")
    else:
        said = f" ({detail.rstrip('.')})" if detail else ""
        why = f" {platform} cannot tell whether it went out{said}."
    return f"{what}{why} Check {where}, then mark it published or publish it again."


def not_sent(what: str, at: datetime | None, now: datetime, attempts: int) -> str:
    """The check found the post was not published: it goes out again, or the attempts are used up."""
    if at is None:
        return (f"Gave up after {attempts} attempts: {what} It was not published; publish it again when you "
                "are ready.")
    return f"{what} It was not published; Outpost sends it again at {at_clock(at, now)}."
