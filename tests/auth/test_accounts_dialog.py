"""The Accounts dialog: connect each platform, cancel a browser sign-in, make default, remove."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app.auth.secrets import KeyringSecrets
from app.core.models import Platform
from app.engine.runtime import Runtime
from app.ui.accounts_dialog import CONNECTABLE, AccountsDialog
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.support import browser
from tests.fakes.threads import FakeThreads

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


@pytest.fixture
def dialog(qtbot, runtime: Runtime) -> AccountsDialog:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from app.ui import theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app)
    d = AccountsDialog(runtime)
    qtbot.addWidget(d)
    d.show()
    return d


async def _settle(d: AccountsDialog) -> None:
    assert d._task is not None
    await asyncio.wait_for(asyncio.shield(d._task), 10)


def _choose(d: AccountsDialog, platform: Platform) -> None:
    d.platform.setCurrentIndex(CONNECTABLE.index(platform))


async def test_connecting_bluesky_lists_the_account_and_keeps_the_password_in_the_keyring(dialog) -> None:
    with FakeBluesky() as fake:
        _choose(dialog, Platform.BLUESKY)
        assert "app password" in dialog.how.text()
        dialog.handle.setText(fake.handle)
        dialog.app_password.setText(fake.app_password)
        dialog.pds.setText(fake.url)
        dialog.connect_button.click()
        await _settle(dialog)
    assert dialog.status.text() == "Connected alice.test (Bluesky)."
    assert dialog.accounts.count() == 2 and dialog.app_password.text() == ""
    account = next(a for a in dialog.runtime.planner.accounts() if a.platform is Platform.BLUESKY)
    assert (KeyringSecrets().get(account.id) or {})["app_password"] == fake.app_password


async def test_a_refused_sign_in_says_why(dialog) -> None:
    with FakeBluesky() as fake:
        _choose(dialog, Platform.BLUESKY)
        dialog.handle.setText(fake.handle)
        dialog.app_password.setText("nope-nope-nope-nope")
        dialog.pds.setText(fake.url)
        dialog.connect_button.click()
        await _settle(dialog)
    assert "App passwords" in dialog.status.text() and dialog.accounts.count() == 1


async def test_mastodon_signs_in_through_the_browser_with_a_cancel_button_while_waiting(dialog) -> None:
    opened: list[str] = []
    with FakeMastodon() as fake:
        _choose(dialog, Platform.MASTODON)
        dialog.server.setText(fake.url)
        dialog.open_url = opened.append
        dialog.connect_button.click()
        for _ in range(100):
            if opened:
                break
            await asyncio.sleep(0.02)
        assert dialog.cancel_button.isVisible() and not dialog.connect_button.isEnabled()
        assert "Waiting for your answer" in dialog.status.text() and dialog.copy_button.isVisible()
        dialog.copy_button.click()
        from PySide6.QtGui import QGuiApplication

        assert QGuiApplication.clipboard().text() == opened[0]
        _shoot(dialog, "accounts_dialog_waiting.png")
        visit, visits = browser()
        visit(opened[0])
        await _settle(dialog)
        await visits[0]
    assert dialog.status.text() == "Connected Alice Example (Mastodon)."
    assert not dialog.cancel_button.isVisible()


async def test_cancel_stops_the_browser_sign_in(dialog) -> None:
    with FakeMastodon() as fake:
        _choose(dialog, Platform.MASTODON)
        dialog.server.setText(fake.url)
        dialog.open_url = lambda url: None
        dialog.connect_button.click()
        for _ in range(100):
            if dialog._sign_in is not None and dialog._sign_in.listener.is_listening:
                break
            await asyncio.sleep(0.02)
        listener = dialog._sign_in.listener if dialog._sign_in else None
        dialog.cancel_button.click()
        await asyncio.sleep(0.05)
    assert dialog.status.text() == "Sign-in cancelled."
    assert listener is not None and not listener.is_listening
    assert dialog.accounts.count() == 1 and dialog.connect_button.isEnabled()


async def test_threads_token_then_make_default_then_remove(dialog, qtbot) -> None:  # type: ignore[no-untyped-def]
    with FakeThreads() as fake:
        dialog.runtime.context.api_base = {"threads": fake.url}
        _choose(dialog, Platform.THREADS)
        dialog.token.setText(fake.issue_token())
        dialog.connect_button.click()
        await _settle(dialog)
        assert dialog.status.text() == "Connected Alice on Threads (Threads)."
        dialog.accounts.setCurrentRow(1)
        dialog.default_button.click()
        assert "(default)" in dialog.accounts.item(1).text()
        _shoot(dialog, "accounts_dialog.png")
        dialog.remove_button.click()
        box = dialog.findChild(QMessageBox)
        assert box is not None
        next(b for b in box.buttons() if b.text() == "Remove").click()
        await _settle(dialog)
    assert dialog.accounts.count() == 1
    assert "Removed alice.threads" in dialog.status.text() and "Website permissions" in dialog.status.text()


def _shoot(d: AccountsDialog, name: str) -> None:
    """Save what the dialog looks like once Qt has laid it out (for people to look at)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.grab().save(str(SHOTS / name))


async def test_reconnecting_an_account_that_needs_it_makes_it_active_again(dialog) -> None:
    from app.core.models import AccountStatus

    with FakeBluesky() as fake:
        _choose(dialog, Platform.BLUESKY)
        dialog.handle.setText(fake.handle)
        dialog.app_password.setText(fake.app_password)
        dialog.pds.setText(fake.url)
        dialog.connect_button.click()
        await _settle(dialog)
        account = next(a for a in dialog.runtime.planner.accounts() if a.platform is Platform.BLUESKY)
        dialog.runtime.planner.set_account_status(account.id, AccountStatus.NEEDS_RECONNECT, "password changed")
        dialog.reload()
        row = next(i for i in range(dialog.accounts.count()) if "alice.test" in dialog.accounts.item(i).text())
        assert "needs reconnecting" in dialog.accounts.item(row).text()
        dialog.accounts.setCurrentRow(row)
        _choose(dialog, Platform.THREADS)
        dialog.reconnect_button.click()
        assert dialog.current_platform() is Platform.BLUESKY and dialog.handle.text() == "alice.test"
        assert dialog.pds.text() == fake.url
        dialog.app_password.setText(fake.app_password)
        dialog.connect_button.click()
        await _settle(dialog)
    assert dialog.runtime.planner.account(account.id).status is AccountStatus.ACTIVE
    assert len([a for a in dialog.runtime.planner.accounts() if a.platform is Platform.BLUESKY]) == 1


async def test_threads_sign_in_with_a_meta_app_by_pasting_the_address(dialog) -> None:
    import httpx

    opened: list[str] = []
    with FakeThreads() as fake:
        dialog.runtime.context.api_base = {"threads": fake.url}
        dialog.open_url = opened.append
        _choose(dialog, Platform.THREADS)
        dialog.threads_way.setCurrentIndex(1)
        assert not dialog.token.isVisible() and dialog.pasted_address.isVisible()
        dialog.meta_app_id.setText(fake.app_id)
        dialog.meta_app_secret.setText(fake.app_secret)
        dialog.open_meta_button.click()
        _shoot(dialog, "accounts_dialog_threads_app.png")
        async with httpx.AsyncClient() as client:
            landing = (await client.get(opened[0])).headers["location"]
        dialog.pasted_address.setText(landing.replace("state=", "state=x"))
        dialog.connect_button.click()
        await _settle(dialog)
        assert "does not belong" in dialog.status.text()
        dialog.pasted_address.setText(landing)
        dialog.connect_button.click()
        await _settle(dialog)
    assert dialog.status.text() == "Connected Alice on Threads (Threads)."


@pytest.mark.parametrize("platform", [Platform.INSTAGRAM, Platform.FACEBOOK])
async def test_instagram_and_facebook_sign_in_with_a_meta_app_by_pasting_the_address(dialog, platform) -> None:
    import httpx

    from tests.fakes.facebook import FakeFacebook
    from tests.fakes.instagram import FakeInstagram

    opened: list[str] = []
    fake_type = FakeInstagram if platform is Platform.INSTAGRAM else FakeFacebook
    with fake_type() as fake:
        dialog.runtime.context.api_base = {platform.value: fake.url}
        dialog.open_url = opened.append
        _choose(dialog, platform)
        form = dialog.meta_forms[platform]
        assert form.token.isVisible() and not form.pasted_address.isVisible()
        form.way.setCurrentIndex(1)
        assert "your own Meta app" in dialog.how.text()
        assert not form.token.isVisible() and form.pasted_address.isVisible()
        assert form.redirect.text() == f"https://127.0.0.1:8443/callback/{platform.value}"
        form.open_button.click()  # nothing entered yet: a clear message, no browser
        assert not opened and "app id" in dialog.status.text()
        form.app_id.setText(fake.app_id)
        form.app_secret.setText(fake.app_secret)
        form.open_button.click()
        _shoot(dialog, f"accounts_dialog_{platform.value}_app.png")
        async with httpx.AsyncClient() as client:
            landing = (await client.get(opened[0])).headers["location"]
        form.pasted_address.setText(landing.replace("state=", "state=x"))  # a forged state is refused
        dialog.connect_button.click()
        await _settle(dialog)
        assert "does not belong" in dialog.status.text()
        assert not [a for a in dialog.runtime.planner.accounts() if a.platform is platform]
        form.pasted_address.setText(landing)
        dialog.connect_button.click()
        await _settle(dialog)
    accounts = [a for a in dialog.runtime.planner.accounts() if a.platform is platform]
    assert len(accounts) == 1 and dialog.status.text().startswith("Connected")
    stored = dialog.runtime.secrets.get(accounts[0].id)
    assert stored and stored["access_token"] and stored["app_secret"] == fake.app_secret  # the keyring, not SQLite
    assert form.app_secret.text() == "" and form.pasted_address.text() == ""
