"""Run the real engine (real SQLite file, real timers) for end-to-end tests.

    async with EngineHarness.start(tmp_path) as h:
        account = h.add_account(Platform.SANDBOX, "me", settings={"fail": "transient", "fail_times": 1})
        post_id = h.add_post(account, "hello", in_seconds=0.5)
        target = await h.wait_settled(post_id)
        assert target.status is TargetStatus.PUBLISHED
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.core.models import AccountStatus, MediaItem, Platform, PostSpec, PostStatus, TargetStatus
from app.core.timeutil import utcnow
from app.engine.publisher import PublisherSettings
from app.engine.runtime import Runtime
from app.store.views import AccountView, PostView, TargetView

FAST = PublisherSettings(backoff_base=0.05, backoff_cap=0.2, publish_timeout=5.0, reconcile_timeout=5.0,
                         drain_timeout=2.0, recheck_delays=(timedelta(seconds=0.05),) * 4)

SETTLED = {TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.NEEDS_REVIEW, TargetStatus.MISSED,
           TargetStatus.CANCELLED}


class EngineHarness:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    @asynccontextmanager
    async def start(cls, tmp_path: Path, *, api_base: dict[str, str] | None = None,
                    settings: PublisherSettings | None = None, **overrides: Any) -> AsyncIterator[EngineHarness]:
        runtime = Runtime.open(tmp_path / "data", settings=replace(settings or FAST, **overrides))
        runtime.context.api_base = {**runtime.context.api_base, **(api_base or {})}
        await runtime.start()
        try:
            yield cls(runtime)
        finally:
            await runtime.stop()

    @property
    def planner(self):  # type: ignore[no-untyped-def]
        return self.runtime.planner

    @property
    def data_dir(self) -> Path:
        return self.runtime.data_dir

    def sandbox(self) -> AccountView:
        return next(a for a in self.planner.accounts() if a.platform is Platform.SANDBOX)

    def add_account(self, platform: Platform, handle: str, *, server: str = "", display_name: str = "",
                    settings: dict[str, object] | None = None, secrets: dict[str, str] | None = None) -> AccountView:
        account = self.planner.add_account(platform, handle, server=server, display_name=display_name,
                                           settings=settings, timezone="UTC")
        if secrets is not None:
            self.runtime.secrets.put(account.id, secrets)
        return account

    def add_post(self, account: AccountView | int, text: str, *, in_seconds: float = 0.5,
                 media: list[MediaItem] | None = None, first_comment: str = "", **spec: Any) -> int:
        account_id = account if isinstance(account, int) else account.id
        return self.planner.create_post(PostSpec(
            text=text, account_ids=(account_id,), scheduled_at=utcnow() + timedelta(seconds=in_seconds),
            timezone="UTC", media=tuple(media or ()), first_comment=first_comment, **spec))

    def post(self, post_id: int) -> PostView:
        return self.planner.post(post_id)

    def target(self, post_id: int) -> TargetView:
        return self.post(post_id).targets[0]

    async def wait_settled(self, post_id: int, timeout: float = 10.0) -> TargetView:
        """Wait until the post's first target is settled, or held for a reconnect; returns it."""
        return (await self.wait_until(post_id, lambda p: all(self._settled(t) for t in p.targets), timeout)).targets[0]

    async def wait_status(self, post_id: int, status: PostStatus, timeout: float = 10.0) -> PostView:
        return await self.wait_until(post_id, lambda p: p.status is status, timeout)

    async def wait_until(self, post_id: int, predicate: Any, timeout: float = 10.0) -> PostView:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            view = self.post(post_id)
            if predicate(view):
                return view
            if loop.time() > deadline:
                raise AssertionError(f"post {post_id} did not settle in {timeout} s: {view.to_json()}")
            await asyncio.sleep(0.05)

    async def quiet(self, timeout: float = 5.0) -> None:
        """Wait until the publisher has no task running (a change's handoff is committed, say)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.runtime.publisher._tasks:
            if loop.time() > deadline:
                raise AssertionError(f"the publisher is still busy after {timeout} s")
            await asyncio.sleep(0.01)

    def _settled(self, target: TargetView) -> bool:
        if target.status in SETTLED:
            return True
        if target.status is TargetStatus.SCHEDULED:
            account = self.planner.account(target.account_id)
            return account.status is not AccountStatus.ACTIVE
        return False

    def sandbox_items(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(p.read_text()) for p in sorted((self.data_dir / "sandbox").glob("*/*.json"))]
