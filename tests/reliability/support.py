"""Shared pieces of the reliability suites: a recording platform, bulk posts, logical dumps."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.core.models import Platform, PostSpec
from app.engine.runtime import Runtime
from app.platforms.base import PublishJob, PublishResult, ReconcileStatus, Reconciliation, StepJournal
from app.platforms.sandbox import SandboxAdapter


@dataclass
class Published:
    post_id: int
    target_id: int
    key: str
    at: datetime  # the engine's clock when the platform received it
    monotonic: float


class RecordingPlatform(SandboxAdapter):
    """The sandbox's rules and validation, but it keeps its record in memory (no file per post),
    so 10,000 posts measure the engine, not the disk. Its record is what the tests count."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime.context)
        self.record: list[Published] = []
        self._by_key: dict[str, Published] = {}

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        await asyncio.sleep(0)  # a real adapter yields at least once
        item = Published(job.post_id, job.target_id, job.idempotency_key, self.context.clock(), time.monotonic())
        self.record.append(item)
        self._by_key[job.idempotency_key] = item
        return PublishResult(external_id=f"rec-{job.target_id}-{len(self.record)}")

    async def reconcile(self, job: PublishJob) -> Reconciliation:
        found = self._by_key.get(job.idempotency_key)
        if found is None:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED)
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id=f"rec-{found.target_id}")

    def counts(self) -> Counter[int]:
        return Counter(p.target_id for p in self.record)


def install_recorder(runtime: Runtime) -> RecordingPlatform:
    recorder = RecordingPlatform(runtime)
    runtime._adapters[Platform.SANDBOX] = recorder
    return recorder


def year_of_posts(runtime: Runtime, *, total: int, due_now: int, now: datetime,
                  offline: timedelta = timedelta(days=7)) -> list[int]:
    """`total` posts: `due_now` spread over the last `offline` (the computer was off), the rest over
    the coming year. Written in one transaction, as an import would."""
    account = runtime.planner.default_account_id()
    assert account is not None
    specs = []
    for i in range(due_now):
        at = now - offline + offline * (i + 1) / (due_now + 1)
        specs.append(PostSpec(text=f"overdue {i}", account_ids=(account,), scheduled_at=at, timezone="UTC"))
    ahead = total - due_now
    for i in range(ahead):
        at = now + timedelta(hours=1) + timedelta(days=365) * i / max(1, ahead)
        specs.append(PostSpec(text=f"ahead {i}", account_ids=(account,), scheduled_at=at, timezone="UTC"))
    return runtime.planner.create_posts(specs, validate=False)


def logical_dump(path: Path) -> list[str]:
    """The database's content as SQL statements, read through SQLite (never the file's bytes)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def busiest_window(instants: list[float], window: float) -> int:
    """The most events inside any `window` seconds (instants from time.monotonic)."""
    ordered = sorted(instants)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def record_figures(suite: str, figures: dict[str, object]) -> None:
    """Keep a suite's figures for docs/reliability.md when the report runs the suites
    (OUTPOST_RELIABILITY_FIGURES names the folder); a no-op otherwise."""
    import json
    import os

    folder = os.environ.get("OUTPOST_RELIABILITY_FIGURES")
    if not folder:
        return
    path = Path(folder) / f"{suite}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    existing.update(figures)
    path.write_text(json.dumps(existing, indent=1, default=str), encoding="utf-8")
