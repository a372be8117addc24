"""The Accounts dialog says the right thing about the platform shown: no stale error after switching,
only the fields that platform needs, and a connection failure in words that name the server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import Platform
from app.engine.runtime import Runtime
from app.ui.accounts_dialog import CONNECTABLE, AccountsDialog
from tests.fakes.bluesky import FakeBluesky


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


@pytest.fixture
def dialog(qtbot, runtime: Runtime) -> AccountsDialog:  # type: ignore[no-untyped-def]
    d = AccountsDialog(runtime)
    qtbot.addWidget(d)
    d.show()
    return d


def _choose(d: AccountsDialog, platform: Platform) -> None:
    d.platform.setCurrentIndex(CONNECTABLE.index(platform))


async def _settle(d: AccountsDialog) -> None:
    assert d._task is not None
    await asyncio.wait_for(asyncio.shield(d._task), 10)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_bluesky_error_is_gone_after_switching_to_mastodon(dialog) -> None:
    with FakeBluesky() as fake:
        _choose(dialog, Platform.BLUESKY)
        dialog.handle.setText(fake.handle)
        dialog.app_password.setText("nope-nope-nope-nope")
        dialog.pds.setText(fake.url)
        dialog.connect_button.click()
        await _settle(dialog)
    assert "App passwords" in dialog.status.text() and dialog.status.isVisible()
    _choose(dialog, Platform.MASTODON)
    assert dialog.status.text() == "" and not dialog.status.isVisible()


def test_the_x_form_has_no_pinterest_board_and_pinterest_has_it(dialog) -> None:
    for platform in (Platform.X, Platform.LINKEDIN, Platform.TIKTOK, Platform.YOUTUBE):
        _choose(dialog, platform)
        assert not dialog.board.isVisible(), platform
    _choose(dialog, Platform.PINTEREST)
    assert dialog.board.isVisible()
    assert "Pinterest only" not in dialog.board.placeholderText()


async def test_a_server_that_does_not_answer_is_named_in_plain_words(dialog) -> None:
    port = _closed_port()
    _choose(dialog, Platform.BLUESKY)
    dialog.handle.setText("alice.test")
    dialog.app_password.setText("abcd-efgh-ijkl-mnop")
    dialog.pds.setText(f"http://127.0.0.1:{port}")
    dialog.connect_button.click()
    await _settle(dialog)
    text = dialog.status.text()
    assert f"127.0.0.1:{port}" in text, text
    assert "ConnectError" not in text and "Details are in the log" not in text
    assert dialog.status.property("role") == "error"
    assert dialog.accounts.count() == 1  # nothing was added


async def test_a_connection_error_the_auth_layer_did_not_word_still_names_the_server() -> None:
    import httpx

    from app.ui.accounts_dialog import unreachable

    port = _closed_port()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError) as failure:
            await client.get(f"http://127.0.0.1:{port}/api/v1/instance")
    text = unreachable(failure.value, Platform.MASTODON)
    assert text.startswith(f"Could not reach http://127.0.0.1:{port}: no connection could be made.")
    assert "ConnectError" not in text


def test_each_account_names_itself_once(dialog) -> None:
    dialog.runtime.planner.add_account(Platform.BLUESKY, "alice.test", display_name="Alice")
    dialog.reload()
    texts = [dialog.accounts.item(i).text() for i in range(dialog.accounts.count())]
    assert texts == ["Sandbox   (default)", "Alice   alice.test · Bluesky"]


async def test_not_a_server_is_refused_in_the_auth_layers_words_before_a_browser_opens(dialog) -> None:
    opened: list[str] = []
    dialog.open_url = opened.append
    _choose(dialog, Platform.MASTODON)
    dialog.server.setText("not a server!")
    dialog.connect_button.click()
    await _settle(dialog)
    assert opened == [] and dialog.status.property("role") == "error"
    assert "not a server!" in dialog.status.text() and "Error" not in dialog.status.text()
    assert dialog.connect_button.isEnabled() and dialog.accounts.count() == 1
