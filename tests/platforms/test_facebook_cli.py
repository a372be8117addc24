"""`outpost accounts add facebook` against the fake Graph API."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from tests.fakes.facebook import FakeFacebook
from tests.support.memkeyring import InMemoryKeyring


def test_add_facebook_keeps_the_pages_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                           _isolation: InMemoryKeyring) -> None:
    with FakeFacebook() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_FACEBOOK", fake.url)
        monkeypatch.setattr("sys.stdin", io.StringIO(fake.issue_user_token() + "\n"))
        code = main(["--data-dir", str(tmp_path), "accounts", "add", "facebook", "--token-stdin",
                     "--page", fake.page_name, "--json"])
        account = json.loads(capsys.readouterr().out)
        assert code == 0 and account["handle"] == fake.page_name and account["platform"] == "facebook"
        [value] = [v for (service, user), v in _isolation.store.items()
                   if service == "Outpost" and user == f"account-{account['id']}"]
        assert json.loads(value)["access_token"] in fake.page_tokens


def test_a_page_the_token_cannot_manage_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys) -> None:
    with FakeFacebook() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_FACEBOOK", fake.url)
        monkeypatch.setattr("sys.stdin", io.StringIO(fake.issue_user_token() + "\n"))
        code = main(["--data-dir", str(tmp_path), "accounts", "add", "facebook", "--token-stdin", "--page", "Nope"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and fake.page_name in err
