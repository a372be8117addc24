"""The engine's one writer thread: every publisher write is committed there, in submission order.

The loop (the window's UI thread) never waits for SQLite's write lock or an fsync: it hands a
transaction to the writer and awaits its commit (reliability.md §7). With one thread the engine's
own writes never contend with each other, so each waits only for the ones queued before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from app.core.redact import redact
from app.store.db import Database

log = logging.getLogger("outpost.writer")

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 (an item of a group commit)
R = TypeVar("R")


class DatabaseWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.transactions = 0  # committed or rolled back on the writer thread (tests read it)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one write transaction (BEGIN IMMEDIATE) on the writer thread and
        return its result once committed; its error is raised after the rollback.

        Once submitted, the transaction runs even if the caller is cancelled meanwhile: a commit is
        never dropped half-way through the engine's bookkeeping (the caller may not see it, though).
        """
        future = self.submit(work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_log_abandoned)
            raise

    def submit(self, work: Callable[[Session], T]) -> asyncio.Future[T]:
        """Queue `work` as `write` does and return the future of its result, for a caller that must
        learn the result even if it is cancelled (await it through `asyncio.shield`: cancelling
        this future drops a transaction that has not started)."""
        return asyncio.wrap_future(self._pool().submit(self._transaction, work))

    async def close(self) -> None:
        """Wait until everything submitted so far is committed, then stop the thread.
        A later `write` starts a new one."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.wrap_future(executor.submit(_nothing))  # the queue is first-in, first-out
        executor.shutdown(wait=True)

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:  # created on the first write: a process that never publishes has no thread
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="outpost-writer")
        return self._executor

    def _transaction(self, work: Callable[[Session], T]) -> T:
        self.transactions += 1
        with self.db.write() as session:
            return work(session)


@dataclass
class Queued(Generic[I, R]):
    item: I
    future: asyncio.Future[R]
    sent: bool = False  # its batch went to the writer thread: it will be committed or fail, not dropped


class GroupCommit(Generic[I, R]):
    """Items queued while a batch is being committed are written together in the next batch: one
    transaction and one fsync for all of them, by `write_all(session, items)` on the writer thread,
    which returns one result per item. Each caller still waits for its own item's commit."""

    def __init__(self, writes: DatabaseWriter, write_all: Callable[[Session, list[I]], list[R]]) -> None:
        self.writes = writes
        self.write_all = write_all
        self._pending: list[Queued[I, R]] = []
        self._flusher: asyncio.Task[None] | None = None

    def submit(self, item: I) -> Queued[I, R]:
        """Queue `item`. Cancelling its future before its batch is sent drops it."""
        loop = asyncio.get_running_loop()
        queued: Queued[I, R] = Queued(item, loop.create_future())
        self._pending.append(queued)
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())  # next tick: this tick's items go together
        return queued

    async def write(self, item: I) -> R:
        """Queue `item` and return its result once committed; it is written even if the caller is
        cancelled meanwhile."""
        return await asyncio.shield(self.submit(item).future)

    async def idle(self) -> None:
        """Wait until every queued item is committed (or failed)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        while self._pending:
            batch = [q for q in self._pending if not q.future.cancelled()]
            self._pending = []
            if not batch:
                continue
            for queued in batch:
                queued.sent = True
            try:
                results = await self.writes.write(partial(_write_batch, self.write_all, [q.item for q in batch]))
            except Exception as exc:
                for queued in batch:
                    if not queued.future.done():
                        queued.future.set_exception(exc)
                continue
            for queued, result in zip(batch, results, strict=True):
                if not queued.future.done():
                    queued.future.set_result(result)


def _write_batch(write_all: Callable[[Session, list[I]], list[R]], items: list[I], session: Session) -> list[R]:
    return write_all(session, items)


def _nothing() -> None:
    return None


def _log_abandoned(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a write whose caller had gone failed: %s", redact(str(future.exception())))
