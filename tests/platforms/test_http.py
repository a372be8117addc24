"""Shared HTTP plumbing: failure classification over real sockets, rate-limit headers, Meta errors."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import httpx
import pytest

from app.core.models import ErrorKind
from app.platforms.http import Tuning, classify, create_client, retry_after_from
from app.platforms.meta import classify_graph_error, parse_graph_error
from tests.fakes.server import FakeServer, Fault, Response
from tests.fakes.support import FAST

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


class Echo(FakeServer):
    def routes(self) -> None:
        self.route("GET", "/ok", lambda request: Response(200, {"ok": True}))
        self.route("POST", "/create", lambda request: Response(200, {"id": "1"}))


@pytest.fixture
def echo():  # type: ignore[no-untyped-def]
    with Echo() as server:
        yield server


async def _failure(url: str, path: str, method: str = "POST") -> httpx.HTTPError:
    async with create_client(FAST, base_url=url) as client:
        with pytest.raises(httpx.HTTPError) as caught:
            await client.request(method, path)
    return caught.value


async def test_connection_refused_is_transient_even_for_a_create() -> None:
    dead = Echo()
    dead.start()
    dead.stop()
    exc = await _failure(dead.url, "/create")
    assert classify(exc, request_sent_for_create=True).kind is ErrorKind.TRANSIENT


@pytest.mark.parametrize("kind", ["hang_after", "reset_after"])
async def test_a_lost_answer_to_a_create_is_unknown_and_to_a_read_is_transient(echo: Echo, kind: str) -> None:
    echo.inject(Fault("/create", kind=kind, hang_seconds=3))
    exc = await _failure(echo.url, "/create")
    assert classify(exc, request_sent_for_create=True).kind is ErrorKind.UNKNOWN
    assert classify(exc, request_sent_for_create=False).kind is ErrorKind.TRANSIENT


async def test_a_pool_timeout_is_transient(echo: Echo) -> None:
    echo.inject(Fault("/create", kind="hang", hang_seconds=3, times=5))
    tuning = Tuning(read_timeout=2, pool_timeout=0.1, max_connections=1)
    async with create_client(tuning, base_url=echo.url) as client:
        first = asyncio.create_task(client.post("/create"))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout) as caught:
            await client.post("/create")
        first.cancel()
    assert classify(caught.value, request_sent_for_create=True).kind is ErrorKind.TRANSIENT


async def test_error_text_never_carries_the_url_or_its_token() -> None:
    dead = Echo()
    dead.start()
    dead.stop()
    exc = await _failure(dead.url, "/create?access_token=SECRETSECRET123", method="GET")
    message = classify(exc, request_sent_for_create=False).message
    assert "SECRETSECRET123" not in message and "/create" not in message


def test_bluesky_epoch_reset_and_retry_after() -> None:
    epoch = str(int(NOW.timestamp()) + 90)
    assert retry_after_from({"RateLimit-Reset": epoch}, NOW) == pytest.approx(90)
    assert retry_after_from({"RateLimit-Reset": epoch, "Retry-After": "30"}, NOW) == 30


def test_mastodon_iso_8601_reset() -> None:
    assert retry_after_from({"X-RateLimit-Reset": "2026-05-01T12:05:00.000000Z"}, NOW) == pytest.approx(300)


def test_x_epoch_reset() -> None:
    assert retry_after_from({"x-rate-limit-reset": str(int(NOW.timestamp()) + 900)}, NOW) == pytest.approx(900)


def test_retry_after_as_an_http_date_and_a_past_reset() -> None:
    assert retry_after_from({"Retry-After": "Fri, 01 May 2026 12:01:00 GMT"}, NOW) == pytest.approx(60)
    assert retry_after_from({"RateLimit-Reset": str(int(NOW.timestamp()) - 5)}, NOW) == 0
    assert retry_after_from({}, NOW) is None


def test_httpx_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    create_client(FAST)  # installs the filter
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "GET",
                                        "https://graph.threads.net/refresh_access_token?access_token=THSECRET99",
                                        "HTTP/1.1 200 OK")
    assert "THSECRET99" not in caplog.text
    assert "refresh_access_token" in caplog.text


def test_meta_envelope_is_parsed_and_classified() -> None:
    body = ('{"error":{"message":"The requested resource does not exist","type":"OAuthException","code":24,'
            '"error_subcode":4279009,"is_transient":false,"error_user_title":"Media Not Found",'
            '"error_user_msg":"The media with id 1 cannot be found.","fbtrace_id":"Abc"}}')
    err = parse_graph_error(body)
    assert err is not None and err.not_ready and err.fbtrace_id == "Abc"
    expired = parse_graph_error({"error": {"message": "Session has expired", "code": 190, "error_subcode": 463}})
    assert expired is not None
    assert classify_graph_error(expired, http_status=400, create=True, platform="Threads").kind is ErrorKind.AUTH
    for code, kind in ((4, ErrorKind.RATE_LIMIT), (100, ErrorKind.PERMANENT), (506, ErrorKind.UNKNOWN),
                       (2, ErrorKind.UNKNOWN)):
        e = parse_graph_error({"error": {"message": "m", "code": code}})
        assert e is not None
        assert classify_graph_error(e, http_status=400, create=True, platform="Threads").kind is kind
    assert parse_graph_error("not json") is None
    assert parse_graph_error({"data": []}) is None


def test_tuning_comes_from_the_environment_and_ignores_nonsense() -> None:
    tuning = Tuning.from_env({"OUTPOST_TUNING": "read_timeout=0.5, not_ready_retries=2,poll_interval=fast,bogus=1"})
    assert (tuning.read_timeout, tuning.not_ready_retries, tuning.poll_interval) == (0.5, 2, Tuning().poll_interval)
    assert Tuning.from_env({}) == Tuning()
