"""`outpost accounts add|connect|remove` for Threads, Bluesky and Mastodon, against the fakes."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.cli import main
from tests.cli.conftest import ROOT
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.threads import FakeThreads
from tests.support.memkeyring import InMemoryKeyring


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def _run(data_dir: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(data_dir), *args])


def _rows(data_dir: Path) -> str:
    conn = sqlite3.connect(data_dir / "outpost.sqlite3")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def test_add_bluesky_reads_the_app_password_from_stdin(tmp_path, monkeypatch, capsys, _isolation: InMemoryKeyring) -> None:
    with FakeBluesky() as fake:
        code = _run(tmp_path, monkeypatch, fake.app_password + "\n", "accounts", "add", "bluesky",
                    "--handle", fake.handle, "--service", fake.url)
    assert code == 0
    assert "Connected alice.test (Bluesky) as account 2." in capsys.readouterr().out
    stored = [v for (service, user), v in _isolation.store.items() if service == "Outpost" and user == "account-2"]
    assert len(stored) == 1 and fake.app_password in stored[0]
    dump = _rows(tmp_path)
    assert "alice.test" in dump and fake.app_password not in dump


def test_a_refused_app_password_is_one_line_and_adds_nothing(tmp_path, monkeypatch, capsys) -> None:
    with FakeBluesky() as fake:
        code = _run(tmp_path, monkeypatch, "wrong-wrong-wrong-wrong\n", "accounts", "add", "bluesky",
                    "--handle", fake.handle, "--service", fake.url)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "App passwords" in err
    assert not (tmp_path / "outpost.sqlite3").exists()  # refused before anything was written


def test_add_threads_from_a_piped_token(tmp_path, monkeypatch, capsys) -> None:
    with FakeThreads() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_THREADS", fake.url)
        code = _run(tmp_path, monkeypatch, fake.issue_token() + "\n", "accounts", "add", "threads", "--token-stdin",
                    "--json")
    assert code == 0
    assert '"platform": "threads"' in capsys.readouterr().out


def test_add_mastodon_from_a_token_then_remove_it(tmp_path, monkeypatch, capsys, mastodon,
                                                  _isolation: InMemoryKeyring) -> None:
    token = mastodon.issue_token()
    assert _run(tmp_path, monkeypatch, token + "\n", "accounts", "add", "mastodon", "--server", mastodon.url,
                "--token-stdin") == 0
    assert "Connected Alice Example (Mastodon) as account 2." in capsys.readouterr().out
    assert ("Outpost", "account-2") in _isolation.store
    assert main(["--data-dir", str(tmp_path), "accounts", "remove", "2"]) == 0
    out = capsys.readouterr().out
    assert "Removed" in out and "Authorized apps" in out  # a pasted token cannot be revoked by Outpost
    assert ("Outpost", "account-2") not in _isolation.store


def test_nothing_is_stored_without_a_keyring(tmp_path, monkeypatch, capsys, mastodon) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    code = _run(tmp_path, monkeypatch, mastodon.issue_token() + "\n", "accounts", "add", "mastodon", "--server",
                mastodon.url, "--token-stdin")
    assert code == 2 and "gnome-keyring" in capsys.readouterr().err
    assert mastodon.calls == []  # refused before any network call


def test_connect_mastodon_prints_the_address_and_waits_for_the_browser(cli, mastodon) -> None:  # type: ignore[no-untyped-def]
    process = cli.popen("accounts", "connect", "mastodon", "--server", mastodon.url, "--no-browser", "--timeout", "20")
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]
    url = lines[1].strip()
    assert url.startswith(f"{mastodon.url}/oauth/authorize?") and "code_challenge_method=S256" in url
    page = httpx.get(url, follow_redirects=True, timeout=10)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert page.status_code == 200 and "Connected Alice Example (Mastodon)" in out
    assert len(mastodon.token_requests) == 1 and mastodon.token_requests[0]["code_verifier"]
    [account] = [a for a in cli.json("accounts", "list") if a["platform"] == "mastodon"]  # type: ignore[union-attr]
    assert account["handle"] == "@alice@127.0.0.1"


def test_connect_threads_by_pasting_the_address_the_browser_shows(cli) -> None:  # type: ignore[no-untyped-def]
    with FakeThreads() as fake:
        env = cli.env()
        env["OUTPOST_API_BASE_THREADS"] = fake.url
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "accounts", "connect", "threads", "--app-id", fake.app_id,
             "--redirect-uri", "https://127.0.0.1:8443/callback/threads"],
            env=env, cwd=ROOT, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(fake.app_secret + "\n")
        process.stdin.flush()
        process.stdout.readline()
        url = process.stdout.readline().strip()
        landing = httpx.get(url, timeout=5).headers["location"]  # where Meta sends the browser
        out, err = process.communicate(landing + "\n", timeout=30)
    assert process.returncode == 0, err
    assert "Connected Alice on Threads (Threads)" in out
    assert fake.app_secret not in out + err
