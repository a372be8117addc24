"""Per-platform flow control: a rate limiter, a hold after a 429, and a circuit breaker.

Rate limiting uses aiolimiter (a maintained asyncio leaky bucket) rather than our own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter

from app.core.models import Platform

# Calls per period for each platform's publish path; conservative, below documented limits.
DEFAULT_RATES: dict[Platform, tuple[float, float]] = {
    Platform.THREADS: (30, 60),
    Platform.BLUESKY: (30, 60),
    Platform.MASTODON: (30, 60),
    Platform.X: (50, 900),
    Platform.LINKEDIN: (30, 60),
    Platform.FACEBOOK: (30, 60),
    Platform.INSTAGRAM: (25, 60),
    Platform.PINTEREST: (60, 60),
    Platform.TIKTOK: (6, 60),
    Platform.YOUTUBE: (10, 60),
}


@dataclass
class Hold:
    until: datetime
    reason: str


@dataclass
class PlatformGates:
    breaker_threshold: int = 5
    breaker_cooldown: timedelta = timedelta(minutes=5)
    rates: dict[Platform, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_RATES))
    _limiters: dict[Platform, AsyncLimiter] = field(default_factory=dict)
    _pacers: dict[Platform, AsyncLimiter] = field(default_factory=dict)
    _holds: dict[Platform, Hold] = field(default_factory=dict)
    _failures: dict[Platform, int] = field(default_factory=dict)
    _trips: dict[Platform, int] = field(default_factory=dict)
    _account_holds: dict[int, Hold] = field(default_factory=dict)

    def limiter(self, platform: Platform) -> AsyncLimiter | None:
        if platform not in self.rates:
            return None
        if platform not in self._limiters:
            rate, period = self.rates[platform]
            self._limiters[platform] = AsyncLimiter(rate, period)
        return self._limiters[platform]

    def pacer(self, platform: Platform) -> AsyncLimiter | None:
        """The same rate, taken again just before each call. `limiter` is taken before the attempt
        is journaled (a long wait leaves no open attempt); the journal's commits then take uneven
        time, which must not bunch the calls themselves up beyond the rate. Waits here are short."""
        if platform not in self.rates:
            return None
        if platform not in self._pacers:
            rate, period = self.rates[platform]
            self._pacers[platform] = AsyncLimiter(rate, period)
        return self._pacers[platform]

    def hold(self, platform: Platform, until: datetime, reason: str) -> None:
        current = self._holds.get(platform)
        if current is None or current.until < until:
            self._holds[platform] = Hold(until, reason)

    def held(self, platform: Platform, now: datetime) -> Hold | None:
        hold = self._holds.get(platform)
        if hold is not None and hold.until <= now:
            del self._holds[platform]
            return None
        return hold

    def holds(self, now: datetime) -> dict[Platform, Hold]:
        for platform in list(self._holds):
            self.held(platform, now)
        return dict(self._holds)

    def hold_account(self, account_id: int, until: datetime, reason: str) -> None:
        """A rate limit that applies to one account (its token), not to the whole platform."""
        current = self._account_holds.get(account_id)
        if current is None or current.until < until:
            self._account_holds[account_id] = Hold(until, reason)

    def account_held(self, account_id: int, now: datetime) -> Hold | None:
        hold = self._account_holds.get(account_id)
        if hold is not None and hold.until <= now:
            del self._account_holds[account_id]
            return None
        return hold

    def account_holds(self, now: datetime) -> dict[int, Hold]:
        for account_id in list(self._account_holds):
            self.account_held(account_id, now)
        return dict(self._account_holds)

    def record_success(self, platform: Platform) -> None:
        self._failures[platform] = 0
        self._trips[platform] = 0

    def record_failure(self, platform: Platform, now: datetime) -> Hold | None:
        """Count a server-side failure; returns the new hold when the breaker trips."""
        n = self._failures.get(platform, 0) + 1
        self._failures[platform] = n
        if n < self.breaker_threshold:
            return None
        trips = self._trips.get(platform, 0)
        self._trips[platform] = trips + 1
        self._failures[platform] = 0
        cooldown = min(self.breaker_cooldown * (2**trips), timedelta(hours=1))
        minutes = max(1, round(cooldown.total_seconds() / 60))
        hold = Hold(now + cooldown, f"{platform.label} failed {n} times in a row; paused for {minutes} min.")
        self._holds[platform] = hold
        return hold

    def release(self, platform: Platform) -> None:
        self._holds.pop(platform, None)
        self._failures[platform] = 0
