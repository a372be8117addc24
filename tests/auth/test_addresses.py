"""Server addresses people type, and connection failures in words that name what was tried."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.auth import bluesky, mastodon
from app.auth.accounts import ConnectionFailed
from app.core.errors import OutpostError
from app.platforms.http import describe_transport_error, server_address
from tests.fakes.support import FAST


@pytest.mark.parametrize(("typed", "address"), [
    ("mastodon.social", "https://mastodon.social"),
    ("https://Mastodon.Social/", "https://mastodon.social"),
    ("127.0.0.1:2583", "http://127.0.0.1:2583"),  # a server on this computer: plain HTTP
    ("localhost:3000", "http://localhost:3000"),
    ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ("münchen.social", "https://xn--mnchen-3ya.social"),
    ("[::1]:3000", "http://[::1]:3000"),
])
def test_an_address_without_a_scheme_or_with_a_slash_is_understood(typed: str, address: str) -> None:
    assert server_address(typed, what="server", example="mastodon.social") == address


@pytest.mark.parametrize(("typed", "words"), [
    ("not a server!", "is not a server address"),
    ("javascript:alert(1)", "is not a server address"),
    ("ftp://files.example", "is not a server address"),
    ("https://user:secret@example.social", "is not a server address"),
    ("127.0.0.1:99999", "port must be a number from 1 to 65535"),
    ("example.social:0", "port must be a number from 1 to 65535"),
    ("", "Enter the server address"),
])
def test_what_is_not_a_web_server_address_is_refused_with_a_reason(typed: str, words: str) -> None:
    with pytest.raises(OutpostError, match=words):
        server_address(typed, what="server", example="mastodon.social")


def test_the_mastodon_form_refuses_a_sentence_as_a_server() -> None:
    with pytest.raises(ConnectionFailed, match="not a Mastodon server address"):
        mastodon.normalize_server("not a server!")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_names_the_address_and_what_to_check() -> None:
    port = _dead_port()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"http://127.0.0.1:{port}/xrpc/x?token=secret")
    words = describe_transport_error(caught.value)
    assert f"http://127.0.0.1:{port}" in words and "connection refused" in words
    assert "secret" not in words and "/xrpc" not in words  # never the path or query
    assert "ConnectError" not in words


async def test_bluesky_sign_in_on_a_dead_port_says_which_address_was_tried() -> None:
    port = _dead_port()
    with pytest.raises(ConnectionFailed) as caught:
        await bluesky.sign_in("alice.test", "abcd-efgh-ijkl-mnop", service=f"127.0.0.1:{port}", tuning=FAST)
    assert f"http://127.0.0.1:{port}" in str(caught.value)
    assert "ConnectError" not in str(caught.value) and "UnsupportedProtocol" not in str(caught.value)


async def test_bluesky_sign_in_takes_a_pds_address_without_a_scheme(bluesky_fake) -> None:
    host_port = bluesky_fake.url.removeprefix("http://")
    connected = await bluesky.sign_in("alice.test", bluesky_fake.app_password, service=host_port, tuning=FAST)
    assert connected.settings["did"] == bluesky_fake.did


@pytest.fixture
def web_page_server() -> Iterator[str]:
    """An ordinary web server: HTML for every address, 404 for anything but /."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>My blog</title>"
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_web_page_that_is_not_mastodon_is_named_as_such(web_page_server: str) -> None:
    with pytest.raises(ConnectionFailed, match="does not look like a Mastodon server") as caught:
        await mastodon.account_from_token(web_page_server, "token", tuning=FAST)
    assert web_page_server in str(caught.value)
