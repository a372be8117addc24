"""The sandbox channel: a real adapter with no network that "publishes" into the data dir.

Each published item is one JSON file (written atomically, named by the attempt's idempotency
key) under ``<data dir>/sandbox/<account>/``, and ``<data dir>/sandbox/feed.html`` shows them
all, newest first, for a person to open in a browser.

Account settings simulate a real platform: ``latency_ms``; ``fail`` = transient | permanent |
rate_limit | auth | unknown | unknown_after_write, for the first ``fail_times`` attempts
(default: every attempt). ``unknown_after_write`` publishes and then reports an unknown outcome,
like a read timeout after the platform created the post; reconcile then finds it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, Platform, PostContent, Problem
from app.core.rules import PlatformRules, rules_for, validate_content
from app.platforms.base import (
    AdapterContext,
    PublishJob,
    PublishResult,
    ReconcileStatus,
    Reconciliation,
    StepJournal,
)
from app.store.private import PRIVATE_FILE, make_private_dir, write_private_text

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
FEED_DELAY_S = 0.2


class SandboxAdapter:
    platform = Platform.SANDBOX

    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        self.root = context.data_dir / "sandbox"
        self._failures: dict[int, int] = {}  # account id -> simulated failures so far
        self._feed_task: asyncio.TimerHandle | None = None

    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.SANDBOX)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        return validate_content(content, self.rules(account))

    def account_dir(self, account: AccountInfo) -> Path:
        return self.root / f"{account.id}-{_SAFE.sub('_', account.handle).strip('_') or 'account'}"

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        settings = job.account.settings
        latency = float(settings.get("latency_ms", 0) or 0) / 1000  # type: ignore[arg-type]
        if latency:
            await asyncio.sleep(latency)
        mode = str(settings.get("fail", "") or "")
        if mode and self._should_fail(job.account):
            if mode == "unknown_after_write":
                self._write_item(job)
                raise PublishError(ErrorKind.UNKNOWN, "The sandbox timed out after receiving the post.")
            raise _simulated(mode)
        item = self._write_item(job)
        return PublishResult(external_id=item["id"], url=item["url"])

    def _should_fail(self, account: AccountInfo) -> bool:
        times = account.settings.get("fail_times")
        done = self._failures.get(account.id, 0)
        if times is not None and done >= int(times):  # type: ignore[call-overload]
            return False
        self._failures[account.id] = done + 1
        return True

    def _write_item(self, job: PublishJob) -> dict[str, Any]:
        folder = self.account_dir(job.account)
        make_private_dir(self.root)
        make_private_dir(folder)
        item_id = f"sbx-{job.idempotency_key[:16]}"
        url = (self.root / "feed.html").as_uri() + f"#{item_id}"
        now = self.context.clock()
        item: dict[str, Any] = {
            "id": item_id,
            "url": url,
            "idempotency_key": job.idempotency_key,
            "post_id": job.post_id,
            "target_id": job.target_id,
            "account": job.account.handle,
            "text": job.content.text,
            "title": job.content.title,
            "media": [m.to_dict() for m in job.content.media],
            "first_comment": job.content.first_comment,
            "thread": list(job.content.thread),
            "scheduled_at": job.scheduled_at.isoformat(),
            "published_at": now.isoformat(),
        }
        path = folder / f"{job.idempotency_key}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE_FILE)  # owner-only whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(item, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self._schedule_feed()
        return item

    async def reconcile(self, job: PublishJob) -> Reconciliation:
        path = self.account_dir(job.account) / f"{job.idempotency_key}.json"
        if path.exists():
            item = json.loads(path.read_text(encoding="utf-8"))
            return Reconciliation(ReconcileStatus.PUBLISHED, item["id"], item["url"], "found in the sandbox")
        return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="not in the sandbox")

    async def refresh_credentials(self, account: AccountInfo) -> None:
        return None

    def _schedule_feed(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write_feed()
            return
        if self._feed_task is None:
            self._feed_task = loop.call_later(FEED_DELAY_S, self._flush_feed)

    def _flush_feed(self) -> None:
        self._feed_task = None
        self.write_feed()

    def write_feed(self) -> Path:
        """Write feed.html from the item files (the files are the record, the feed a view)."""
        items = []
        for path in self.root.glob("*/*.json"):
            try:
                items.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        items.sort(key=lambda i: i.get("published_at", ""), reverse=True)
        make_private_dir(self.root)
        feed = self.root / "feed.html"
        write_private_text(feed, _render_feed(items))
        return feed

    async def aclose(self) -> None:
        if self._feed_task is not None:
            self._feed_task.cancel()
            self._feed_task = None
            self.write_feed()


def _simulated(mode: str) -> PublishError:
    if mode == "transient":
        return PublishError(ErrorKind.TRANSIENT, "The sandbox could not be reached (simulated).", http_status=503)
    if mode == "rate_limit":
        return PublishError(ErrorKind.RATE_LIMIT, "The sandbox says: too many posts (simulated).",
                            http_status=429, retry_after=1.0)
    if mode == "auth":
        return PublishError(ErrorKind.AUTH, "The sandbox refused the sign-in (simulated).", http_status=401)
    if mode == "unknown":
        return PublishError(ErrorKind.UNKNOWN, "No answer from the sandbox (simulated).")
    return PublishError(ErrorKind.PERMANENT, "The sandbox rejected the post (simulated).", http_status=422)


def _render_feed(items: list[dict[str, Any]]) -> str:
    cards = []
    for item in items:
        text = html.escape(str(item.get("text", ""))).replace("\n", "<br>")
        comment = html.escape(str(item.get("first_comment") or ""))
        thread = "".join(f'<p class="reply">{html.escape(str(t))}</p>' for t in item.get("thread") or [])
        media = "".join(f'<li>{html.escape(str(m.get("source", "")))}</li>' for m in item.get("media") or [])
        when = str(item.get("published_at", ""))[:19].replace("T", " ")
        cards.append(
            f'<article id="{html.escape(str(item["id"]))}"><header><b>@{html.escape(str(item.get("account")))}'
            f"</b> · <time>{when} UTC</time></header><p>{text}</p>"
            + (f"<ul>{media}</ul>" if media else "")
            + thread
            + (f'<p class="reply">💬 {comment}</p>' if comment else "")
            + "</article>"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    body = "\n".join(cards) or "<p>Nothing published yet.</p>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Outpost sandbox feed</title>
<style>body{{font:15px system-ui,sans-serif;max-width:640px;margin:2em auto;color:#222}}
article{{border:1px solid #ddd;border-radius:10px;padding:12px 16px;margin:12px 0}}
header{{color:#666;font-size:13px}}.reply{{border-left:3px solid #8ab;padding-left:8px;color:#345}}</style>
</head><body><h1>Sandbox feed</h1><p>{len(items)} published · updated {stamp} UTC</p>{body}</body></html>
"""
