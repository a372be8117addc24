"""Helpers for tests that drive adapters against the fakes: a journal, tiny timeouts, jobs."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, PostContent
from app.platforms.base import AdapterContext, PublishJob
from app.platforms.http import Tuning

# Real timeouts are seconds to minutes; the fakes answer in milliseconds.
FAST = Tuning(
    connect_timeout=1.0, read_timeout=0.4, write_timeout=1.0, pool_timeout=1.0,
    poll_interval=0.02, max_processing_wait=2.0, backoff_base=0.02, not_ready_retries=4,
)


@dataclass
class MemoryJournal:
    """The StepJournal protocol, kept in memory: what an adapter would have committed."""

    steps: dict[str, str] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)

    def record(self, step: str, value: str) -> None:
        self.steps[step] = value
        self.history.append((step, value))


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def context(data_dir: Path, *, api_base: dict[str, str] | None = None,
            clock: Callable[[], datetime] | None = None, post_language: str = "") -> AdapterContext:
    return AdapterContext(data_dir=data_dir, secrets=KeyringSecrets(), clock=clock or (lambda: datetime.now(UTC)),
                          api_base=api_base or {}, post_language=lambda: post_language)


def png(width: int, height: int) -> bytes:
    """A real PNG of `width` x `height` transparent pixels (for sizes read from the file's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\0\0\0\0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def job(account: AccountInfo, content: PostContent, *, key: str = "key-1", attempt_id: int = 1,
        checkpoints: dict[str, str] | None = None, native_schedule_at: datetime | None = None) -> PublishJob:
    return PublishJob(
        target_id=1, post_id=1, attempt_id=attempt_id, account=account, content=content, idempotency_key=key,
        scheduled_at=datetime.now(UTC), checkpoints=dict(checkpoints or {}), native_schedule_at=native_schedule_at,
    )


def browser() -> tuple[Callable[[str], object], list[asyncio.Task[httpx.Response]]]:
    """A stand-in for the system browser: follows the authorization page's redirect to the listener."""
    tasks: list[asyncio.Task[httpx.Response]] = []

    async def visit(url: str) -> httpx.Response:
        async with httpx.AsyncClient(follow_redirects=True, timeout=5.0) as client:
            return await client.get(url)

    def open_url(url: str) -> None:
        tasks.append(asyncio.get_running_loop().create_task(visit(url)))

    return open_url, tasks


# The smallest JPEG there is (1x1): for platforms that take JPEG only (Instagram).
JPEG_1PX = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300ffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc2000b080001000101011100ffc40014100100000000000000000000000000000000ffda0008010100013f10"
)
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
