"""APScheduler 3 tuned for a desktop publisher (reliability.md T1, T6, T7).

- No single timer waits longer than MAX_WAIT seconds: qasync overflows on waits over 24.8 days,
  and a capped wait notices a wake from sleep or a clock change within a minute. Such wake-ups
  only compare clocks; they never touch the database.
- A wall-clock jump (suspend/resume, the clock set by hand) is reported to `on_clock_jump`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

MAX_WAIT = 60.0
JUMP_THRESHOLD = 5.0  # seconds of disagreement between wall clock and monotonic clock


class PublisherScheduler(AsyncIOScheduler):
    def __init__(
        self,
        on_clock_jump: Callable[[float], None] | None = None,
        on_wakeup: Callable[[], None] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("job_defaults", {"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        super().__init__(**options)
        self.on_clock_jump = on_clock_jump
        self.on_wakeup = on_wakeup
        self.wakeups = 0
        self._last_wall = time.time()
        self._last_mono = time.monotonic()

    def _start_timer(self, wait_seconds: float | None) -> None:
        if wait_seconds is not None:
            wait_seconds = min(wait_seconds, MAX_WAIT)
        super()._start_timer(wait_seconds)

    def _process_jobs(self) -> float | None:
        self.wakeups += 1
        wall, mono = time.time(), time.monotonic()
        drift = (wall - self._last_wall) - (mono - self._last_mono)
        self._last_wall, self._last_mono = wall, mono
        if abs(drift) > JUMP_THRESHOLD and self.on_clock_jump is not None:
            self.on_clock_jump(drift)
        elif self.on_wakeup is not None:
            self.on_wakeup()
        result: float | None = super()._process_jobs()
        return result
