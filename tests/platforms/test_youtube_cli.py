"""`outpost accounts connect youtube` against the fake Google OAuth and Data API."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import httpx
import pytest

from app.cli import main
from tests.fakes.youtube import FakeYouTube
from tests.support.memkeyring import InMemoryKeyring


def test_connect_youtube_through_the_browser_with_the_secret_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], _isolation: InMemoryKeyring,
) -> None:
    visits: list[int] = []

    def open_in_browser(url: str) -> bool:  # the system browser: follows Google's redirect to the listener
        def visit() -> None:
            visits.append(httpx.get(url, follow_redirects=True, timeout=5).status_code)

        threading.Thread(target=visit, daemon=True).start()
        return True

    with FakeYouTube() as fake:
        monkeypatch.setenv("OUTPOST_API_BASE_YOUTUBE", fake.url)
        monkeypatch.setattr("webbrowser.open", open_in_browser)
        monkeypatch.setattr("sys.stdin", io.StringIO(fake.client_secret + "\n"))
        code = main(["--data-dir", str(tmp_path), "accounts", "connect", "youtube", "--client-id", fake.client_id,
                     "--timeout", "10", "--json"])
    assert code == 0 and visits == [200]
    account = json.loads(capsys.readouterr().out.split("\n", 2)[-1])
    assert account["handle"] == fake.custom_url and account["platform"] == "youtube"
    [stored] = [json.loads(v) for (service, user), v in _isolation.store.items()
                if service == "Outpost" and user == f"account-{account['id']}"]
    assert stored["refresh_token"] in fake.refresh_tokens and stored["client_secret"] == fake.client_secret
