"""Shared HTTP plumbing for adapters: one client factory with hard timeouts, failure
classification (reliability.md P6), rate-limit header parsing, and log redaction for httpx.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import mimetypes
import os
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from app.core.errors import PublishError
from app.core.models import ErrorKind
from app.core.redact import one_line, redact
from app.platforms.base import PublishJob, StepJournal

USER_AGENT = "Outpost/0.1 (+desktop scheduler)"


@dataclass(frozen=True)
class Tuning:
    """Timeouts and waits for one adapter. Tests shrink them; production keeps the defaults.

    `OUTPOST_TUNING="read_timeout=0.5,poll_interval=0.05"` overrides fields for a whole process
    (used when a test runs `outpost run` in a subprocess against the fake servers).
    """

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    write_timeout: float = 60.0
    pool_timeout: float = 10.0
    poll_interval: float = 3.0  # between status polls of media and containers
    max_processing_wait: float = 300.0  # bounded wait for a container or media to be ready
    backoff_base: float = 5.0  # first wait after a "not ready yet" answer; doubles each time
    not_ready_retries: int = 4
    max_connections: int = 8

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Tuning:
        env = os.environ if environ is None else environ
        raw = env.get("OUTPOST_TUNING", "")
        if not raw:
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        for item in raw.split(","):
            name, _, value = item.partition("=")
            name = name.strip()
            if name in known and value.strip():
                try:
                    values[name] = int(value) if name in ("not_ready_retries", "max_connections") else float(value)
                except ValueError:
                    logging.getLogger(__name__).warning("OUTPOST_TUNING: ignoring %s=%r", name, value)
        return replace(cls(), **values)  # type: ignore[arg-type]


def create_client(tuning: Tuning, *, base_url: str = "", headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An AsyncClient with hard connect/read/write/pool timeouts and a capped pool (P3)."""
    install_http_log_redaction()
    timeout = httpx.Timeout(
        connect=tuning.connect_timeout, read=tuning.read_timeout,
        write=tuning.write_timeout, pool=tuning.pool_timeout,
    )
    limits = httpx.Limits(max_connections=tuning.max_connections, max_keepalive_connections=tuning.max_connections // 2)
    return httpx.AsyncClient(
        base_url=base_url, timeout=timeout, limits=limits, follow_redirects=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})}, trust_env=False,
    )


def where(exc: httpx.HTTPError) -> str:
    """The host of the failed request, never its path or query (which may carry a token)."""
    try:
        return exc.request.url.host or "the server"
    except RuntimeError:
        return "the server"


_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def classify(exc: httpx.HTTPError, request_sent_for_create: bool, platform: str = "") -> PublishError:
    """Map an httpx failure onto an ErrorKind (reliability.md P6).

    Nothing was sent (connect error or timeout, pool timeout): TRANSIENT. The request may have
    arrived (read/write timeout, reset, protocol error) on a create call: UNKNOWN, which makes
    the engine reconcile instead of retrying blindly; on a read-only call: TRANSIENT.
    """
    host = where(exc)
    name = platform or host
    if isinstance(exc, _NOTHING_SENT):
        return PublishError(
            ErrorKind.TRANSIENT,
            f"Could not reach {name} ({type(exc).__name__}); nothing was sent. Outpost will try again.",
            code=type(exc).__name__,
        )
    if request_sent_for_create:
        return PublishError(
            ErrorKind.UNKNOWN,
            f"{name} did not answer in time ({type(exc).__name__}) after the post was sent; "
            f"it may or may not have been published. Outpost will check before trying again.",
            code=type(exc).__name__,
        )
    return PublishError(
        ErrorKind.TRANSIENT,
        f"The connection to {name} failed ({type(exc).__name__}). Outpost will try again.",
        code=type(exc).__name__,
    )


def _parse_instant_or_number(value: str, now: datetime) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        # Bluesky and X send epoch seconds; a small number is a delta (IETF draft style).
        return number - now.timestamp() if number > 1_000_000_000 else number
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            instant = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - now).total_seconds()


def retry_after_from(headers: httpx.Headers | dict[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait before the next call, from whichever rate-limit header the platform sent.

    `Retry-After` (seconds or HTTP date) first; then Bluesky `RateLimit-Reset` (epoch seconds),
    Mastodon `X-RateLimit-Reset` (ISO-8601) and X `x-rate-limit-reset` (epoch seconds).
    """
    h = headers if isinstance(headers, httpx.Headers) else httpx.Headers(headers)
    now = now or datetime.now(UTC)
    for name in ("retry-after", "ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        value = h.get(name)
        if value is None:
            continue
        seconds = _parse_instant_or_number(value, now)
        if seconds is not None:
            return max(0.0, seconds)
    return None


def body_snippet(response: httpx.Response, limit: int = 300) -> str:
    """A redacted one-line excerpt of a response body, for logs and error details."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return one_line(redact(text[:limit]))


def status_error(
    response: httpx.Response, *, create: bool, platform: str, message: str = "", code: str | None = None,
) -> PublishError:
    """A PublishError for an HTTP error status, when the platform's body says nothing more specific."""
    status = response.status_code
    detail = message or f"{platform} answered HTTP {status}."
    if status == 429:
        wait = retry_after_from(response.headers)
        return PublishError(
            ErrorKind.RATE_LIMIT, f"{platform} asks Outpost to slow down. {detail}".strip(),
            http_status=status, retry_after=wait, code=code or "rate_limited",
        )
    if status == 401:
        return PublishError(
            ErrorKind.AUTH, f"{platform} no longer accepts this account's sign-in. Reconnect the account. {detail}",
            http_status=status, code=code or "unauthorized",
        )
    if status >= 500:
        if create:
            return PublishError(
                ErrorKind.UNKNOWN,
                f"{platform} had a server error (HTTP {status}) while receiving the post; it may or may not "
                f"have been published. Outpost will check before trying again.",
                http_status=status, code=code or f"http_{status}",
            )
        return PublishError(
            ErrorKind.TRANSIENT, f"{platform} had a server error (HTTP {status}). Outpost will try again.",
            http_status=status, retry_after=retry_after_from(response.headers), code=code or f"http_{status}",
        )
    return PublishError(ErrorKind.PERMANENT, detail, http_status=status, code=code or f"http_{status}")


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with secrets removed and CR/LF neutralised (reliability.md L1-L3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg = one_line(redact(message))
        record.args = None
        return True


_HTTP_LOGGERS = (
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
    "httpcore.proxy", "httpcore.socks",
)
_installed = False


def install_http_log_redaction() -> None:
    """Attach a redacting filter to httpx's and httpcore's loggers, which log full URLs (L2)."""
    global _installed
    if _installed:
        return
    for name in _HTTP_LOGGERS:
        logging.getLogger(name).addFilter(RedactingFilter())
    _installed = True


async def load_media(client: httpx.AsyncClient, source: str, mime_type: str = "") -> tuple[bytes, str, str]:
    """The bytes, MIME type and file name of a local file or an http(s) address.

    Raises PublishError(PERMANENT) when the file is gone, so a post never goes out without it (P12).
    """
    name = Path(source.rstrip("/").rsplit("/", 1)[-1]).name or "media"
    guessed = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if source.startswith(("http://", "https://")):
        try:
            response = await client.get(source)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=False) from None
        if response.status_code != 200:
            raise PublishError(
                ErrorKind.PERMANENT, f"The attachment {name} could not be downloaded (HTTP {response.status_code}).",
                http_status=response.status_code, code="media_download",
            )
        return response.content, mime_type or response.headers.get("content-type", guessed).split(";")[0], name
    try:
        data = await asyncio.to_thread(_read_file, source)
    except OSError as exc:
        raise PublishError(
            ErrorKind.PERMANENT, f"The attachment {name} cannot be read ({exc.strerror}). Re-attach it.",
            code="media_missing",
        ) from None
    return data, guessed, name


def _read_file(source: str) -> bytes:
    return Path(source).expanduser().read_bytes()


def local_media_problems(sources: list[str]) -> list[str]:
    """Messages for local attachments that no longer exist (checked at compose time)."""
    out = []
    for i, source in enumerate(sources, start=1):
        if not source.startswith(("http://", "https://")) and not Path(source).expanduser().is_file():
            out.append(f"Attachment {i}: the file {Path(source).name} was not found. Re-attach it.")
    return out


class _RecordingJournal:
    def __init__(self, journal: StepJournal, memory: dict[str, str]) -> None:
        self.journal = journal
        self.memory = memory

    def record(self, step: str, value: str) -> None:
        self.journal.record(step, value)
        self.memory[step] = value


class AttemptSteps:
    """The steps this process journaled, per attempt.

    `reconcile` may be handed the checkpoints loaded before the attempt began; merging in the
    attempt's own steps (container id, record key, idempotency key) lets it find the post anyway.
    """

    def __init__(self, keep: int = 500) -> None:
        self.keep = keep
        self._by_attempt: dict[int, dict[str, str]] = {}

    def wrap(self, job: PublishJob, journal: StepJournal) -> StepJournal:
        memory = self._by_attempt.setdefault(job.attempt_id, {})
        while len(self._by_attempt) > self.keep:
            self._by_attempt.pop(next(iter(self._by_attempt)))
        return _RecordingJournal(journal, memory)

    def checkpoints(self, job: PublishJob) -> dict[str, str]:
        return {**job.checkpoints, **self._by_attempt.get(job.attempt_id, {})}


def content_hash(*parts: object) -> str:
    """A short stable digest of what a journaled step was made from (text, media, alt text).

    A step journaled by an earlier attempt is reused only while this digest matches, so an
    edited post never goes out with the old container or attachments.
    """
    text = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
