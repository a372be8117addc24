"""Shared HTTP plumbing for adapters: one client factory with hard timeouts, failure
classification (reliability.md P6), rate-limit header parsing, and log redaction for httpx.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import mimetypes
import os
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.core.errors import OutpostError, PublishError
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


def address_tried(exc: httpx.HTTPError) -> str:
    """scheme://host[:port] of the failed request: what a person can check, never a path or query."""
    try:
        url = exc.request.url
    except RuntimeError:
        return "the server"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}" if url.host else "the server"


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """What went wrong on the wire, in words a person can act on, naming the address tried.

    httpx's own messages carry the errno text ("[Errno 111] Connection refused"); the class name
    alone ("ConnectError") says nothing to a creator."""
    address = address_tried(exc)
    detail = " ".join(_causes(exc)).lower()
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"{address} is not a web address Outpost can use: it must start with https:// (or http://)"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{address} did not answer in time: check the address and your internet connection"
    if isinstance(exc, httpx.ConnectError):
        if "refused" in detail or "errno 111" in detail or "connectionrefusederror" in detail:
            return f"nothing answered at {address} (connection refused): check the address and port, and that the server runs"
        if any(s in detail for s in ("name or service not known", "nodename", "getaddrinfo", "no address",
                                     "temporary failure in name resolution", "name resolution")):
            return f"the name in {address} could not be found: check its spelling and your internet connection"
        if any(s in detail for s in ("ssl", "tls", "certificate", "wrong version number")):
            hint = " If that server uses plain HTTP, write http:// in front of it" if address.startswith("https://") else ""
            return f"a secure connection to {address} could not be made ({one_line(str(exc))[:120]}).{hint}"
        if "unreachable" in detail:
            return f"{address} cannot be reached from this computer (network unreachable): check your connection"
        return f"could not connect to {address}: check the address and your internet connection"
    if isinstance(exc, httpx.TimeoutException):
        return f"{address} took too long to answer"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{address} closed the connection without a proper answer"
    return f"the connection to {address} failed ({type(exc).__name__})"


def _causes(exc: BaseException) -> list[str]:
    """The messages down an exception's chain (anyio hides "connection refused" two levels down)."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(out) < 8:
        seen.add(id(current))
        out.append(f"{type(current).__name__} {current}")
        current = current.__cause__ or current.__context__
    return out


def server_address(text: str, *, what: str, example: str) -> str:
    """`example.social`, `https://example.social/` or `http://127.0.0.1:2583` -> scheme://host[:port].

    A missing scheme means https. Refused with ConnectionFailed-like OutpostError when it is not a
    web server's address (another scheme, no host, a bad port, spaces or symbols in the name)."""
    raw = text.strip().rstrip("/")
    if not raw:
        raise OutpostError(f"Enter the {what} address, for example {example}.")
    given_scheme = "://" in raw
    if not given_scheme:
        raw = "https://" + raw
    bad = OutpostError(f"{one_line(text)[:80]!r} is not a {what} address. Use something like {example}.")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise bad from None
    try:
        port = parts.port
    except ValueError:
        if re.fullmatch(r"-?\d+", parts.netloc.rpartition(":")[2]):
            raise OutpostError(f"{one_line(text)[:80]!r}: the port must be a number from 1 to 65535.") from None
        raise bad from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise bad
    try:
        host = host.encode("idna").decode("ascii")  # münchen.social -> xn--mnchen-3ya.social
    except UnicodeError:
        raise bad from None
    if not _HOST.fullmatch(host) and not _is_ip(host):
        raise bad
    if port is not None and not 0 < port < 65536:
        raise OutpostError(f"{one_line(text)[:80]!r}: the port must be a number from 1 to 65535.")
    if not given_scheme and (host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)):
        parts = parts._replace(scheme="http")  # a server on this computer (a local PDS) speaks plain HTTP
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{f':{port}' if port else ''}"


_HOST = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
            f"Could not reach {name}: {describe_transport_error(exc)}. Nothing was sent; Outpost will try again.",
            code=type(exc).__name__,
        )
    if request_sent_for_create:
        return PublishError(
            ErrorKind.UNKNOWN,
            f"{name} did not answer after the post was sent ({describe_transport_error(exc)}); "
            f"it may or may not have been published. Outpost will check before trying again.",
            code=type(exc).__name__,
        )
    return PublishError(
        ErrorKind.TRANSIENT,
        f"The connection to {name} failed: {describe_transport_error(exc)}. Outpost will try again.",
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


MEDIA_MAX_BYTES = 4 * 1024**3  # TikTok's and Facebook's largest videos; a bigger file is refused, not read


async def load_media(client: httpx.AsyncClient, source: str, mime_type: str = "",
                     max_bytes: int = MEDIA_MAX_BYTES) -> tuple[bytes, str, str]:
    """The bytes, MIME type and file name of a local file or an http(s) address.

    Raises PublishError(PERMANENT) when the file is gone, is not a regular file, or holds more than
    `max_bytes`, so a post never goes out without it (P12). A download stops at `max_bytes`, and an
    address on this computer or a private network is refused unless allow_private_media().
    """
    name = Path(source.rstrip("/").rsplit("/", 1)[-1]).name or "media"
    guessed = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if source.startswith(("http://", "https://")):
        await _refuse_private_download(source, name)
        try:
            data, content_type = await _download(client, source, name, max_bytes)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=False) from None
        return data, mime_type or (content_type or guessed).split(";")[0], name
    try:
        data = await asyncio.to_thread(_read_file, source, max_bytes)
    except OSError as exc:
        from app.store.files import FileRefused

        why = str(exc) if isinstance(exc, FileRefused) else f"it cannot be read ({exc.strerror})"
        raise PublishError(
            ErrorKind.PERMANENT, f"The attachment {name} was not sent: {why}. Re-attach it.",
            code="media_missing",
        ) from None
    return data, guessed, name


async def _download(client: httpx.AsyncClient, source: str, name: str, max_bytes: int) -> tuple[bytes, str]:
    """The body of a 200 answer, streamed and abandoned as soon as it passes `max_bytes`."""
    async with client.stream("GET", source) as response:
        if response.status_code != 200:
            raise PublishError(
                ErrorKind.PERMANENT, f"The attachment {name} could not be downloaded (HTTP {response.status_code}).",
                http_status=response.status_code, code="media_download",
            )
        too_big = PublishError(
            ErrorKind.PERMANENT, f"The attachment {name} is larger than the {_megabytes(max_bytes)} Outpost "
            "downloads; the download was stopped. Use a smaller file.", code="media_too_large",
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_big
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise too_big
        return bytes(body), response.headers.get("content-type", "")


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def allow_private_media() -> bool:
    """OUTPOST_ALLOW_PRIVATE_MEDIA=1: media may come from this computer or a private network."""
    return os.environ.get("OUTPOST_ALLOW_PRIVATE_MEDIA", "").strip().lower() in ("1", "true", "yes")


def _is_private_ip(text: str) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
                or ip.is_unspecified or not ip.is_global)


def blocked_address(url: str) -> str | None:
    """Why `url` names this computer or a private network by itself (no DNS), or None."""
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if host == "localhost" or host.endswith(".localhost") or _is_private_ip(host):
        return _private_message(host)
    if host and all(c in "0123456789abcdefx." for c in host) and not host.strip(".").isalpha():
        import socket

        try:  # the shorthand forms resolvers accept: 127.1, 0x7f000001, 2130706433
            legacy = socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
        if _is_private_ip(legacy):
            return _private_message(host, legacy)
    return None


def _private_message(host: str, ip: str = "") -> str:
    at = f" ({ip})" if ip and ip != host else ""
    return (f"{host}{at} is on this computer or a private network; Outpost only downloads media from public "
            "addresses. Set OUTPOST_ALLOW_PRIVATE_MEDIA=1 to allow it.")


async def _refuse_private_download(url: str, name: str) -> None:
    """Refuse before connecting when the address, or any address its name resolves to, is private
    (169.254.169.254, 10/8, 127/8, ::1 ...): a post must not fetch from inside the network."""
    import socket
    from urllib.parse import urlsplit

    if allow_private_media():
        return
    refused = blocked_address(url)
    if refused is None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return  # the download itself reports the name that cannot be found
        for *_rest, sockaddr in infos:
            if _is_private_ip(str(sockaddr[0])):
                refused = _private_message(host, str(sockaddr[0]))
                break
    if refused is not None:
        raise PublishError(ErrorKind.PERMANENT, f"The attachment {name} was not downloaded: {refused}",
                           code="media_private_address")


def _read_file(source: str, max_bytes: int = MEDIA_MAX_BYTES) -> bytes:
    """A local attachment: a regular file only (never a FIFO or a device), refused past `max_bytes`."""
    from app.store.files import read_regular_file

    return read_regular_file(Path(source).expanduser(), max_bytes)


def local_media_problems(sources: list[str]) -> list[str]:
    """Messages for local attachments that no longer exist or are not files (checked at compose time)."""
    import stat

    out = []
    for i, source in enumerate(sources, start=1):
        if source.startswith(("http://", "https://")):
            continue
        try:
            regular = stat.S_ISREG(Path(source).expanduser().stat().st_mode)
        except (OSError, ValueError):
            out.append(f"Attachment {i}: the file {Path(source).name} was not found. Re-attach it.")
            continue
        if not regular:
            out.append(f"Attachment {i}: {Path(source).name} is not a regular file. Attach the picture or video "
                       "itself.")
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
