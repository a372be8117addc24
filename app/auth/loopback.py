"""The one-shot loopback listener that receives an OAuth redirect (RFC 8252; reliability.md §3).

It binds 127.0.0.1 only, on an ephemeral port unless a platform requires a fixed one; serves
only `GET` on the provider's own callback path to a `Host` of 127.0.0.1; answers with a fixed
page that reflects nothing; keeps waiting after a bad `state`; and closes after one valid answer,
a cancel or its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from urllib.parse import parse_qs, urlsplit

from app.auth.pkce import PendingAuthorization, StateMismatch
from app.core.errors import OutpostError
from app.core.redact import register_secret

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"


class AuthCancelled(OutpostError):
    """The person cancelled the sign-in."""


class AuthTimedOut(OutpostError):
    """No answer reached Outpost before the listener's deadline."""


class AuthDenied(OutpostError):
    """The platform answered with an error (for example, the person clicked Deny)."""


class ListenerBindError(OutpostError):
    """The loopback port could not be opened."""


def callback_path(provider: str) -> str:
    """A distinct path per provider, so an answer meant for one can never complete another (mix-up)."""
    return f"/callback/{provider}"


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Outpost</title>
<style>body{{font:16px system-ui,sans-serif;margin:15vh auto;max-width:32em;color:#222}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>"""

_PAGES = {
    200: ("Outpost is connected", "You can close this tab and return to Outpost."),
    400: ("This answer was not expected", "Outpost did not start this sign-in. Return to Outpost and try again."),
    403: ("Not allowed", "This address only answers to this computer."),
    404: ("Not found", "There is nothing here."),
    405: ("Not allowed", "There is nothing here."),
    409: ("Sign-in not completed", "The platform did not grant access. Return to Outpost to try again."),
}
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict"}
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


def _response(status: int) -> bytes:
    title, text = _PAGES[status]
    body = _PAGE.format(title=title, text=text).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values and len(values) == 1 else None


class LoopbackListener:
    """Receives one authorization answer for `provider` on http://127.0.0.1:<port>/callback/<provider>.

    Usage: `pending = await listener.start()`, open the authorization URL built with
    `pending.redirect_uri`, `pending.state` and `pending.challenge`, then `code = await listener.wait()`.
    """

    def __init__(self, provider: str, *, port: int = 0, timeout: float = 300.0) -> None:
        self.provider = provider
        self.requested_port = port
        self.timeout = timeout
        self.rejected = 0  # answers refused (wrong state, host, path or method)
        self._server: asyncio.Server | None = None
        self._pending: PendingAuthorization | None = None
        self._result: asyncio.Future[str] | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def is_listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> PendingAuthorization:
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        try:
            self._server = await asyncio.start_server(self._handle, LOOPBACK_HOST, self.requested_port)
        except OSError as exc:
            raise ListenerBindError(
                f"Outpost could not listen on {LOOPBACK_HOST} port {self.requested_port or '(any)'} for the "
                f"sign-in answer: {exc.strerror or exc}. Close the program using that port and try again."
            ) from None
        self.port = int(self._server.sockets[0].getsockname()[1])
        redirect_uri = f"http://{LOOPBACK_HOST}:{self.port}{callback_path(self.provider)}"
        self._pending = PendingAuthorization(self.provider, redirect_uri)
        log.info("Waiting for the %s sign-in answer on %s port %d", self.provider, LOOPBACK_HOST, self.port)
        return self._pending

    async def wait(self) -> str:
        """The authorization code. Raises AuthTimedOut, AuthCancelled or AuthDenied; always closes."""
        if self._result is None:
            raise RuntimeError("start() the listener first")
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), self.timeout)
        except TimeoutError:
            raise AuthTimedOut(
                f"No answer from {self.provider} within {int(self.timeout)} seconds. Start the connection again."
            ) from None
        finally:
            await self.aclose()

    def cancel(self) -> None:
        """Stop waiting; `wait` raises AuthCancelled. Safe to call at any time."""
        if self._result is not None and not self._result.done():
            self._result.set_exception(AuthCancelled("Sign-in cancelled."))
        self._close_server()

    async def aclose(self) -> None:
        self._close_server()
        if self._result is not None and not self._result.done():
            self._result.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    def _close_server(self) -> None:
        if self._server is not None and self._server.is_serving():
            self._server.close()
        # Browsers keep idle pre-connected sockets open: end them, so no handler is left waiting
        # (and cancelled with a traceback when the loop closes).
        for writer in list(self._connections):
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            await self._answer(reader, writer)
        except asyncio.CancelledError:
            writer.transport.abort()  # the loop is closing: drop the connection quietly
        finally:
            self._connections.discard(writer)
        if self._result is not None and self._result.done():
            self._close_server()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
            status = self._judge(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            status = 400
        if writer.transport.is_closing():
            return  # closed by us (the sign-in ended) or by the browser: nobody to answer
        if status != 200:
            self.rejected += 1
        with contextlib.suppress(ConnectionError):
            writer.write(_response(status))
            await writer.drain()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def _judge(self, head: bytes) -> int:
        """Check one request and settle the result when it is the awaited answer; return the status."""
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return 400
        method, target, _ = parts
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        # DNS rebinding: only this computer's literal loopback address is a valid Host (O7).
        if headers.get("host") not in (f"{LOOPBACK_HOST}:{self.port}", f"[::1]:{self.port}"):
            return 403
        if method != "GET":
            return 405
        url = urlsplit(target)
        if url.path != callback_path(self.provider):
            return 404
        pending, result = self._pending, self._result
        if pending is None or result is None or result.done():
            return 400
        params = parse_qs(url.query, keep_blank_values=True)
        state, issuer = _single(params, "state"), _single(params, "iss")
        if not pending.matches(self.provider, state, issuer):
            log.warning("Rejected a %s sign-in answer with an unexpected state or issuer", self.provider)
            return 400  # keep waiting: a forged answer must not end the real sign-in (O10)
        pending.consume(self.provider, state, issuer)
        error = _single(params, "error")
        code = _single(params, "code")
        if error is not None or not code:
            reason = error if error and _ERROR_CODE.match(error) else "no_code"
            result.set_exception(AuthDenied(f"{self.provider} did not grant access ({reason}). Try connecting again."))
            return 409
        register_secret(code)
        result.set_result(code)
        return 200


def code_from_pasted_redirect(text: str, pending: PendingAuthorization) -> str:
    """The code in an address the person pasted from their browser (Meta's HTTPS-only redirect).

    Checked exactly as the listener checks a request: same redirect address (scheme, host, port,
    path), the provider's single-use state, no error.
    """
    url = urlsplit(text.strip())
    expected = urlsplit(pending.redirect_uri)
    same_place = (url.scheme, url.hostname, url.port, url.path) == (
        expected.scheme, expected.hostname, expected.port, expected.path,
    )
    if not same_place:
        raise StateMismatch(
            f"That address is not the one {pending.provider} sends back to Outpost "
            f"(it should start with {pending.redirect_uri}). Paste the whole address from the browser bar."
        )
    params = parse_qs(url.query, keep_blank_values=True)  # a "#_" fragment is ignored with the rest
    pending.consume(pending.provider, _single(params, "state"), _single(params, "iss"))
    error = _single(params, "error")
    code = _single(params, "code")
    if error is not None or not code:
        raise AuthDenied(f"{pending.provider} did not grant access. Try connecting again.")
    register_secret(code)
    return code
