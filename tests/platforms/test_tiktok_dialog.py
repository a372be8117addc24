"""The Accounts dialog with the developer-app platforms (X, LinkedIn, Pinterest, TikTok): one form
for the app's credentials, the browser sign-in, and what the person is told."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.auth.secrets import KeyringSecrets
from app.core.models import Platform
from app.engine.runtime import Runtime
from app.ui.accounts_dialog import CONNECTABLE, DEVELOPER_APP, AccountsDialog
from tests.fakes.support import browser
from tests.fakes.tiktok import FakeTikTok


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


@pytest.mark.parametrize("platform", DEVELOPER_APP)
def test_each_developer_app_platform_names_the_redirect_to_register(dialog, platform) -> None:
    _choose(dialog, platform)
    assert "http://127.0.0.1:" in dialog.how.text() and f"/callback/{platform.value}" in dialog.how.text()
    assert dialog.client_id.isVisible() and dialog.client_secret.isVisible()
    assert dialog.connect_button.text() == "Sign in with browser"


async def test_tiktok_connects_through_the_browser_and_says_videos_stay_private(dialog) -> None:
    opened: list[str] = []
    with FakeTikTok() as fake:
        dialog.runtime.context.api_base = {"tiktok": fake.url}
        _choose(dialog, Platform.TIKTOK)
        assert "posted privately" in dialog.how.text()
        dialog.client_id.setText(fake.client_key)
        dialog.client_secret.setText(fake.client_secret)
        dialog.open_url = opened.append
        dialog.connect_button.click()
        for _ in range(100):
            if opened:
                break
            await asyncio.sleep(0.02)
        assert dialog.cancel_button.isVisible()
        visit, visits = browser()
        visit(opened[0])
        assert dialog._task is not None
        await asyncio.wait_for(asyncio.shield(dialog._task), 10)
        await visits[0]
    assert dialog.status.text() == "Connected Alice on TikTok (TikTok)."
    assert dialog.client_secret.text() == ""
    account = next(a for a in dialog.runtime.planner.accounts() if a.platform is Platform.TIKTOK)
    assert (KeyringSecrets().get(account.id) or {})["client_secret"] == fake.client_secret
    assert not account.settings.get("audited")


async def test_a_missing_client_id_is_said_before_anything_opens(dialog) -> None:
    _choose(dialog, Platform.X)
    dialog.open_url = lambda url: pytest.fail("nothing should open")
    dialog.connect_button.click()
    assert dialog._task is not None
    await asyncio.wait_for(asyncio.shield(dialog._task), 5)
    assert "client id" in dialog.status.text() and dialog.accounts.count() == 1


async def test_reconnecting_reuses_the_apps_credentials_from_the_keyring(dialog) -> None:
    opened: list[str] = []
    dialog.open_url = opened.append
    with FakeTikTok() as fake:
        dialog.runtime.context.api_base = {"tiktok": fake.url}
        for attempt in range(2):
            if attempt == 0:
                _choose(dialog, Platform.TIKTOK)
                dialog.client_id.setText(fake.client_key)
                dialog.client_secret.setText(fake.client_secret)
                dialog.connect_button.click()
            else:
                dialog.accounts.setCurrentRow(1)
                dialog.reconnect_button.click()  # nothing typed: the stored client key and secret are used
            for _ in range(100):
                if len(opened) > attempt:
                    break
                await asyncio.sleep(0.02)
            visit, visits = browser()
            visit(opened[attempt])
            assert dialog._task is not None
            await asyncio.wait_for(asyncio.shield(dialog._task), 10)
            await visits[0]
    assert f"client_key={fake.client_key}" in opened[1]
    assert dialog.status.text() == "Connected Alice on TikTok (TikTok)."
    assert [a.platform for a in dialog.runtime.planner.accounts()].count(Platform.TIKTOK) == 1
