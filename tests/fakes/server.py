"""A small, real HTTP/1.1 server on 127.0.0.1 that the platform fakes build on.

Each fake runs its own asyncio loop in a background thread, so it serves tests written with
pytest-asyncio, synchronous tests and other processes alike. Faults are injected per path:
an HTTP status (5xx, 429 with Retry-After), a hang or a connection reset, either before the
handler runs (nothing created) or after it (the post exists but the client never hears so).

From another process: `python -m tests.fakes.<platform> --port 0` prints the base URL; control
it with `POST /__fake__/fault`, `POST /__fake__/config` and read `GET /__fake__/state`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.parser
import email.policy
import json
import re
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Part:
    name: str
    data: bytes
    filename: str = ""
    content_type: str = ""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_path: str = ""  # as sent on the wire, still percent-encoded (Rest.li key encoding is checked on it)
    raw_query: str = ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        ctype = self.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return parse_qs(self.body.decode(), keep_blank_values=True)
        if ctype.startswith("multipart/form-data"):
            return {p.name: [p.data.decode("utf-8", "replace")] for p in self.multipart().values() if not p.filename}
        return {}

    def arg(self, name: str) -> str | None:
        """A parameter from the query string or a form body (Graph accepts both)."""
        values = self.query.get(name) or self.form().get(name)
        return values[0] if values else None

    def multipart(self) -> dict[str, Part]:
        raw = b"Content-Type: " + self.headers.get("content-type", "").encode() + b"\r\n\r\n" + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        parts: dict[str, Part] = {}
        for item in message.iter_parts():
            name = item.get_param("name", header="content-disposition") or ""
            filename = item.get_param("filename", header="content-disposition") or ""
            payload = item.get_payload(decode=True) or b""
            parts[str(name)] = Part(str(name), payload, str(filename), item.get_content_type())
        return parts

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token if scheme.lower() in ("bearer", "oauth") and token else None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """One injected failure. `path` is a regular expression matched against the whole path.

    kind: "status" (answer `status`/`body`/`headers` without running the handler), "hang" or
    "reset" (before the handler: nothing happens), "status_after", "hang_after", "reset_after"
    (the handler runs, so the post is created, then the client gets the failure).
    """

    path: str
    kind: str = "status"
    method: str = "POST"
    times: int = 1
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 30.0

    def hits(self, request: Request) -> bool:
        return self.times > 0 and self.method in (request.method, "*") and re.fullmatch(self.path, request.path) is not None


Handler = Callable[..., Response | dict[str, Any] | list[Any]]
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 206: "Partial Content", 302: "Found", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


class FakeServer:
    """Base class: routing, fault injection, a call log and the background thread."""

    name = "fake"

    def __init__(self, port: int = 0) -> None:
        self.requested_port = port
        self.port = 0
        self.lock = threading.RLock()
        self.calls: list[tuple[str, str]] = []
        # Every request with the answer it got, for the contract tests (tests/contracts) to check.
        self.exchanges: list[tuple[Request, Response]] = []
        self.faults: list[Fault] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.routes()

    # ---- to override -------------------------------------------------------------------
    def routes(self) -> None:
        """Register the platform's endpoints with `self.route`."""

    def decorate(self, request: Request, response: Response) -> Response:
        """Add headers every answer carries (rate-limit headers)."""
        return response

    def default_error(self, status: int) -> Any:
        return {"error": _REASONS.get(status, "Error")}

    def state(self) -> dict[str, Any]:
        """What the fake published, as JSON (the record tests count duplicates with)."""
        return {}

    def configure(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, value)

    # ---- public API --------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def calls_to(self, pattern: str, method: str = "*") -> int:
        with self.lock:
            return sum(1 for m, p in self.calls if method in ("*", m) and re.fullmatch(pattern, p))

    def start(self) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._stopping = asyncio.Event()
                server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.requested_port))
                self.port = int(server.sockets[0].getsockname()[1])
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                for writer in list(self._writers):  # idle keep-alive connections end their handlers
                    writer.close()
                tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
                if tasks:
                    loop.run_until_complete(asyncio.wait(tasks, timeout=2))
                for task in tasks:
                    task.cancel()
                loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.url

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is None or stopping is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stopping.set)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- internals ---------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    break
                method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = b""
                if "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await self._read_chunked(reader)
                url = urlsplit(target)
                request = Request(method, unquote(url.path), parse_qs(url.query, keep_blank_values=True), headers, body,
                                  url.path, url.query)
                keep = await self._dispatch(request, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        out = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readline()
                return out
            out += await reader.readexactly(size)
            await reader.readline()

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.hits(request):
                    fault.times -= 1
                    return fault
        return None

    async def _dispatch(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        with self.lock:
            self.calls.append((request.method, request.path))
        if request.path.startswith("/__fake__/"):
            response = self._control(request)
        else:
            fault = self._take_fault(request)
            if fault is not None and fault.kind == "hang":
                await self._hang(fault)
                return False
            if fault is not None and fault.kind == "reset":
                self._reset(writer)
                return False
            if fault is not None and fault.kind == "status":
                response = Response(fault.status, fault.body or self.default_error(fault.status), dict(fault.headers))
            else:
                response = self._handle(request)
                if fault is not None and fault.kind == "hang_after":
                    await self._hang(fault)
                    return False
                if fault is not None and fault.kind == "reset_after":
                    self._reset(writer)
                    return False
                if fault is not None and fault.kind == "status_after":
                    response = Response(fault.status, fault.body or self.default_error(fault.status), dict(fault.headers))
        response = self.decorate(request, response)
        if not request.path.startswith("/__fake__/"):
            with self.lock:
                self.exchanges.append((request, response))
                del self.exchanges[:-2000]
        writer.write(self._encode(response))
        await writer.drain()
        return True

    def _handle(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                with self.lock:
                    result = handler(request, **match.groupdict())
                return result if isinstance(result, Response) else Response(200, result)
        return Response(404, self.default_error(404))

    async def _hang(self, fault: Fault) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), fault.hang_seconds)

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    @staticmethod
    def _encode(response: Response) -> bytes:
        headers = dict(response.headers)
        body = response.body
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif body is None:
            data = b""
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers["Content-Length"] = str(len(data))
        head = f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + data

    def _control(self, request: Request) -> Response:
        if request.path == "/__fake__/state" and request.method == "GET":
            with self.lock:
                return Response(200, self.state())
        if request.path == "/__fake__/fault" and request.method == "POST":
            fault = self.inject(Fault(**request.json()))
            return Response(200, asdict(fault))
        if request.path == "/__fake__/config" and request.method == "POST":
            try:
                with self.lock:
                    self.configure(request.json())
            except KeyError as exc:
                return Response(400, {"error": f"unknown setting {exc}"})
            return Response(200, {"ok": True})
        return Response(404, {"error": "unknown control path"})


def serve_main(factory: Callable[[int], FakeServer], argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.<platform> --port 0 [--config JSON]`: print the URL, serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--config", default="", help="JSON object of settings, as for /__fake__/config")
    args = parser.parse_args(argv)
    server = factory(args.port)
    if args.config:
        server.configure(json.loads(args.config))
    server.start()
    print(server.url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    server.stop()
    sys.exit(0)
