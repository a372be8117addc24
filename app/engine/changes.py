"""The change channel: a process that changed the store tells the publishing process at once.

The process that holds the data-folder lock and publishes (the window, `outpost run`) listens on
a loopback UDP port through asyncio's datagram endpoint (plain asyncio and qasync alike, on every
OS). Its pid, port and a random token are in `publisher-endpoint.json`, owner-only, in the data
folder; a datagram without the token is ignored, so another local user cannot make it re-plan.
The first datagram is acted on at once; the rest of a burst (an import of 1,000 rows) is
gathered into at most one re-plan per COALESCE_S. Nothing polls: the listener
costs nothing until a datagram arrives. A stale file from a killed process only makes senders
talk to a closed port, which UDP drops without a word; the next publisher overwrites it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store.paths import endpoint_path
from app.store.private import write_private_text

log = logging.getLogger("outpost.changes")

KINDS = frozenset({"posts", "accounts"})
_MAGIC = b"outpost-changed"
COALESCE_S = 0.01  # at most one re-plan per this many seconds; the first of a burst is not delayed


@dataclass(frozen=True)
class Endpoint:
    """How to reach the publishing process."""

    pid: int
    port: int
    token: str


def read_endpoint(data_dir: Path) -> Endpoint | None:
    """The endpoint the publishing process announced, or None (none announced, or unreadable)."""
    try:
        data = json.loads(endpoint_path(data_dir).read_text(encoding="utf-8"))
        endpoint = Endpoint(pid=int(data["pid"]), port=int(data["port"]), token=str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return endpoint if 0 < endpoint.port < 65536 else None


def tell_publisher(data_dir: Path, kind: str) -> Endpoint | None:
    """Tell the publishing process that `kind` ("posts", "accounts") changed. Returns the endpoint
    told, or None when no publisher announced one. Never blocks and never raises."""
    endpoint = read_endpoint(data_dir)
    if endpoint is None:
        return None
    message = b" ".join((_MAGIC, endpoint.token.encode("ascii", "replace"), kind.encode("ascii", "replace")))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, ("127.0.0.1", endpoint.port))
    except OSError as exc:
        log.debug("could not tell the publisher (pid %s) about the change: %s", endpoint.pid, exc)
        return None
    return endpoint


class ChangeListener(asyncio.DatagramProtocol):
    """Listens for change datagrams on the running loop; calls `on_changes(kinds)` at once for the
    first, then at most once per COALESCE_S for the rest of a burst."""

    def __init__(self, data_dir: Path, on_changes: Callable[[set[str]], None]) -> None:
        self.data_dir = data_dir
        self.on_changes = on_changes
        self.token = secrets.token_hex(16)
        self.port: int | None = None
        self.heard = 0  # datagrams accepted (tests and benches read it)
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[str] = set()
        self._flush_handle: asyncio.Handle | None = None
        self._quiet_until = 0.0  # loop time before which another re-plan waits

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and announce it. Raises OSError if nothing can be bound."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        write_private_text(endpoint_path(self.data_dir),
                           json.dumps({"pid": os.getpid(), "port": self.port, "token": self.token}))

    def close(self) -> None:
        """Stop listening and withdraw the announcement (only if it is still ours)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        current = read_endpoint(self.data_dir)
        if current is not None and current.token == self.token:
            with contextlib.suppress(OSError):
                endpoint_path(self.data_dir).unlink()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        parts = data.split(b" ")
        if len(parts) != 3 or parts[0] != _MAGIC or not hmac.compare_digest(parts[1], self.token.encode()):
            return  # not ours, or not from someone who can read the data folder
        kind = parts[2].decode("ascii", "replace")
        if kind not in KINDS:
            return
        self.heard += 1
        self._pending.add(kind)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            wait = self._quiet_until - loop.time()
            self._flush_handle = loop.call_later(wait, self._flush) if wait > 0 else loop.call_soon(self._flush)

    def error_received(self, exc: Exception) -> None:
        log.debug("change channel: %s", exc)  # e.g. Windows' ICMP port-unreachable echoes; harmless

    def _flush(self) -> None:
        self._flush_handle = None
        self._quiet_until = asyncio.get_running_loop().time() + COALESCE_S
        kinds, self._pending = self._pending, set()
        if kinds:
            self.on_changes(kinds)
