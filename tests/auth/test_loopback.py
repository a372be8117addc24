"""The loopback listener and PKCE, per RFC 8252 / RFC 7636 and reliability.md §7 C."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from app.auth.loopback import (
    AuthCancelled,
    AuthDenied,
    AuthTimedOut,
    ListenerBindError,
    LoopbackListener,
    code_from_pasted_redirect,
)
from app.auth.pkce import PendingAuthorization, StateMismatch, challenge_s256, new_verifier


async def _get(url: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return await client.request(str(kwargs.pop("method", "GET")), url, **kwargs)  # type: ignore[arg-type]


def test_pkce_reproduces_the_rfc_7636_appendix_b_vector() -> None:
    assert challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_fresh_unreserved_and_long_enough() -> None:
    verifiers = {new_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for v in verifiers:
        assert 43 <= len(v) <= 128
        assert set(v) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


async def test_a_valid_answer_returns_the_code_and_closes_the_port() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    assert pending.redirect_uri == f"http://127.0.0.1:{listener.port}/callback/mastodon"
    waiting = asyncio.create_task(listener.wait())
    page = await _get(f"{pending.redirect_uri}?code=abc123def&state={pending.state}")
    assert await waiting == "abc123def"
    assert page.status_code == 200 and "connected" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in page.headers
    with pytest.raises(httpx.ConnectError):
        await _get(pending.redirect_uri)


async def test_it_binds_the_loopback_address_only() -> None:
    listener = LoopbackListener("mastodon", timeout=1)
    await listener.start()
    assert listener._server is not None
    assert [s.getsockname()[0] for s in listener._server.sockets] == ["127.0.0.1"]
    listener.cancel()
    await listener.aclose()


async def test_a_wrong_or_missing_state_is_refused_and_the_listener_keeps_waiting() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    waiting = asyncio.create_task(listener.wait())
    forged = await _get(f"{pending.redirect_uri}?code=evil&state=forged")
    missing = await _get(f"{pending.redirect_uri}?code=evil")
    assert (forged.status_code, missing.status_code) == (400, 400)
    assert not waiting.done()
    await _get(f"{pending.redirect_uri}?code=good&state={pending.state}")
    assert await waiting == "good"
    assert listener.rejected == 2


async def test_an_answer_on_another_providers_path_is_not_accepted() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    waiting = asyncio.create_task(listener.wait())
    other = await _get(f"http://127.0.0.1:{listener.port}/callback/threads?code=x&state={pending.state}")
    assert other.status_code == 404
    assert not waiting.done()
    listener.cancel()
    with pytest.raises(AuthCancelled):
        await waiting


async def test_a_state_from_another_providers_flow_is_refused() -> None:
    ours = LoopbackListener("mastodon", timeout=5)
    theirs = PendingAuthorization("threads", "https://127.0.0.1:8443/callback/threads")
    pending = await ours.start()
    waiting = asyncio.create_task(ours.wait())
    answer = await _get(f"{pending.redirect_uri}?code=x&state={theirs.state}")
    assert answer.status_code == 400 and not waiting.done()
    ours.cancel()
    with pytest.raises(AuthCancelled):
        await waiting


async def test_a_foreign_host_header_is_forbidden() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    waiting = asyncio.create_task(listener.wait())
    rebound = await _get(f"{pending.redirect_uri}?code=x&state={pending.state}",
                         headers={"Host": f"attacker.example:{listener.port}"})
    assert rebound.status_code == 403
    posted = await _get(f"{pending.redirect_uri}?code=x&state={pending.state}", method="POST")
    assert posted.status_code == 405
    assert not waiting.done()  # neither consumed the state
    await _get(f"{pending.redirect_uri}?code=ok&state={pending.state}")
    assert await waiting == "ok"


async def test_the_result_page_reflects_nothing_and_redirects_nowhere() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    waiting = asyncio.create_task(listener.wait())
    page = await _get(f"{pending.redirect_uri}?error=<script>alert(1)</script>&error_description=<script>x</script>"
                      f"&next=https://evil.example&state={pending.state}")
    assert page.status_code == 409
    assert "<script>" not in page.text and "evil" not in page.text and "location" not in page.headers
    with pytest.raises(AuthDenied) as denied:
        await waiting
    assert "<script>" not in str(denied.value)


async def test_no_answer_times_out_and_closes_the_port() -> None:
    listener = LoopbackListener("mastodon", timeout=0.2)
    pending = await listener.start()
    with pytest.raises(AuthTimedOut):
        await listener.wait()
    with pytest.raises(httpx.ConnectError):
        await _get(pending.redirect_uri)


async def test_cancel_ends_the_wait() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    await listener.start()
    waiting = asyncio.create_task(listener.wait())
    await asyncio.sleep(0.01)
    listener.cancel()
    with pytest.raises(AuthCancelled):
        await waiting
    assert not listener.is_listening


async def test_a_fixed_port_in_use_is_reported_by_number() -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(ListenerBindError) as failed:
            await LoopbackListener("x", port=port).start()
        assert str(port) in str(failed.value)
    finally:
        blocker.close()


def test_a_pasted_address_is_checked_like_the_listener_checks() -> None:
    pending = PendingAuthorization("threads", "https://127.0.0.1:8443/callback/threads")
    with pytest.raises(StateMismatch):
        code_from_pasted_redirect("https://127.0.0.1:8443/callback/threads?code=c&state=foreign#_", pending)
    with pytest.raises(StateMismatch):
        code_from_pasted_redirect(f"https://evil.example/callback/threads?code=c&state={pending.state}", pending)
    assert code_from_pasted_redirect(f" https://127.0.0.1:8443/callback/threads?code=c0de&state={pending.state}#_ ",
                                     pending) == "c0de"
    with pytest.raises(StateMismatch):  # single use
        code_from_pasted_redirect(f"https://127.0.0.1:8443/callback/threads?code=c0de&state={pending.state}", pending)


async def test_an_answer_naming_another_issuer_is_refused() -> None:
    listener = LoopbackListener("mastodon", timeout=5)
    pending = await listener.start()
    pending.issuer = "https://mastodon.example"
    waiting = asyncio.create_task(listener.wait())
    other = await _get(f"{pending.redirect_uri}?code=x&state={pending.state}&iss=https://evil.example")
    assert other.status_code == 400 and not waiting.done()
    await _get(f"{pending.redirect_uri}?code=ok&state={pending.state}&iss=https://mastodon.example/")
    assert await waiting == "ok"


_IDLE_SOCKETS_SCRIPT = """
import asyncio, socket, sys
import httpx
from app.auth.loopback import LoopbackListener

async def main():
    listener = LoopbackListener("mastodon", timeout=10)
    pending = await listener.start()
    idle = []
    for _ in range(int(sys.argv[1])):  # a browser's idle pre-connections: open, never a request
        s = socket.socket()
        s.setblocking(False)  # the server accepts them on this same loop
        s.connect_ex(("127.0.0.1", listener.port))
        idle.append(s)
    await asyncio.sleep(0.5)
    waiting = asyncio.create_task(listener.wait())
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(f"{pending.redirect_uri}?code=the-code&state={pending.state}")
    print(page.status_code, await waiting, listener.rejected)
    for s in idle:
        s.close()

asyncio.run(main())
"""


def test_idle_browser_connections_close_quietly_when_the_sign_in_completes() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _IDLE_SOCKETS_SCRIPT, "300"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["200", "the-code", "0"]  # idle sockets are not counted as rejected answers
    assert done.stderr == ""  # was ~20 lines of CancelledError traceback per idle connection
