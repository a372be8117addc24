"""`outpost accounts add|connect instagram` against the fake Graph API."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from app.cli import main
from tests.fakes.instagram import FakeInstagram
from tests.fakes.threads import DAY
from tests.support.memkeyring import InMemoryKeyring


def _stored(keyring: InMemoryKeyring, account_id: int) -> dict[str, str]:
    [value] = [v for (service, user), v in keyring.store.items() if service == "Outpost" and user == f"account-{account_id}"]
    return dict(json.loads(value))


def test_add_instagram_reads_the_token_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                                 _isolation: InMemoryKeyring) -> None:
    with FakeInstagram() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_INSTAGRAM", fake.url)
        monkeypatch.setattr("sys.stdin", io.StringIO(fake.issue_token(age=2 * DAY) + "\n"))
        code = main(["--data-dir", str(tmp_path), "accounts", "add", "instagram", "--token-stdin", "--json"])
        account = json.loads(capsys.readouterr().out)
        assert code == 0 and account["handle"] == fake.username
        assert _stored(_isolation, account["id"])["access_token"] in fake.tokens


def test_connect_instagram_by_pasting_the_redirected_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys, _isolation: InMemoryKeyring) -> None:
    with FakeInstagram() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_INSTAGRAM", fake.url)
        redirect = "https://127.0.0.1:8443/callback/instagram"

        class Stdin(io.StringIO):
            """The secret first; then, once the address is printed, what the browser ended on."""

            def readline(self, *args: object) -> str:
                if not hasattr(self, "sent"):
                    self.sent = True
                    return fake.app_secret + "\n"
                url = next(line for line in capsys.readouterr().out.splitlines() if "/oauth/authorize?" in line)
                return str(httpx.get(url).headers["location"]) + "\n"

        monkeypatch.setattr("sys.stdin", Stdin())
        code = main(["--data-dir", str(tmp_path), "accounts", "connect", "instagram", "--app-id", fake.app_id,
                     "--redirect-uri", redirect])
        assert code == 0 and "Connected" in capsys.readouterr().out
        [stored] = [json.loads(v) for (service, _), v in _isolation.store.items() if service == "Outpost"
                    and "app_secret" in v]
        assert stored["app_secret"] == fake.app_secret and stored["access_token"] in fake.tokens
