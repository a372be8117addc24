"""`outpost accounts connect x|linkedin|pinterest|tiktok`, in process, against the fakes: the secret
comes from standard input, a stand-in browser follows the printed address, the account is saved."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.cli import main
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.pinterest import FakePinterest
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.x import FakeX


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Response]]:
    pages: list[httpx.Response] = []
    threads: list[threading.Thread] = []

    def open_url(url: str) -> bool:
        thread = threading.Thread(target=lambda: pages.append(httpx.get(url, follow_redirects=True, timeout=5)))
        thread.start()
        threads.append(thread)
        return True

    monkeypatch.setattr("webbrowser.open", open_url)
    yield pages
    for thread in threads:
        thread.join(5)


def _connect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(tmp_path), "accounts", "connect", *args, "--timeout", "5"])


def _accounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "accounts", "list", "--json"]) == 0
    return [a for a in json.loads(capsys.readouterr().out) if a["platform"] != "sandbox"]


def test_connect_x_with_a_public_client(tmp_path, monkeypatch, capsys, browser) -> None:
    port = _free_port()
    with FakeX() as fake:
        fake.registered_redirects = [f"http://127.0.0.1:{port}/callback/x"]
        monkeypatch.setenv("OUTPOST_API_BASE_X", fake.url)
        code = _connect(tmp_path, monkeypatch, "", "x", "--client-id", fake.client_id, "--port", str(port))
        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"http://127.0.0.1:{port}/callback/x" in err and "Connected Alice on X (X)" in out
        assert browser[0].status_code == 200
        [account] = _accounts(tmp_path, capsys)
        assert account["handle"] == "@alice_x"


def test_connect_linkedin_reads_the_secret_from_stdin(tmp_path, monkeypatch, capsys, browser) -> None:
    port = _free_port()
    with FakeLinkedIn() as fake:
        fake.registered_redirects = [f"http://127.0.0.1:{port}/callback/linkedin"]
        monkeypatch.setenv("OUTPOST_API_BASE_LINKEDIN", fake.url)
        code = _connect(tmp_path, monkeypatch, fake.client_secret + "\n", "linkedin", "--client-id", fake.client_id,
                        "--port", str(port))
        out, err = capsys.readouterr()
        assert code == 0, err
        assert fake.client_secret not in out + err and "Connected Alice on LinkedIn" in out


def test_connect_pinterest_with_a_board(tmp_path, monkeypatch, capsys, browser) -> None:
    port = _free_port()
    with FakePinterest() as fake:
        fake.registered_redirects = [f"http://127.0.0.1:{port}/callback/pinterest"]
        monkeypatch.setenv("OUTPOST_API_BASE_PINTEREST", fake.url)
        code = _connect(tmp_path, monkeypatch, fake.app_secret + "\n", "pinterest", "--app-id", fake.app_id,
                        "--board", "Recipes", "--port", str(port))
        assert code == 0, capsys.readouterr().err
        [account] = _accounts(tmp_path, capsys)
        assert account["name"] == "alice_pins · Recipes"


def test_connect_tiktok_says_unaudited_posts_stay_private(tmp_path, monkeypatch, capsys, browser) -> None:
    with FakeTikTok() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_TIKTOK", fake.url)
        code = _connect(tmp_path, monkeypatch, fake.client_secret + "\n", "tiktok", "--client-key", fake.client_key)
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "private" in err and "http://127.0.0.1:*/callback/tiktok" in err
        assert "Connected Alice on TikTok (TikTok)" in out
