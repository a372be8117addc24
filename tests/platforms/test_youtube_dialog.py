"""The Accounts dialog connects YouTube (browser + loopback), Instagram and Facebook (pasted token)
against the fakes, on the test's asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import Platform
from app.engine.runtime import Runtime
from app.ui.accounts_dialog import CONNECTABLE, AccountsDialog
from tests.fakes.facebook import FakeFacebook
from tests.fakes.instagram import FakeInstagram
from tests.fakes.support import browser
from tests.fakes.youtube import FakeYouTube


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


def _dialog(qtbot, runtime: Runtime, platform: Platform) -> AccountsDialog:  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.platform.setCurrentIndex(CONNECTABLE.index(platform))
    return dialog


async def test_youtube_signs_in_through_the_browser_and_the_loopback_listener(qtbot, runtime) -> None:
    with FakeYouTube() as fake:
        runtime.context.api_base["youtube"] = fake.url
        dialog = _dialog(qtbot, runtime, Platform.YOUTUBE)
        assert dialog.connect_button.text() == "Sign in with browser"
        dialog.client_id.setText(fake.client_id)
        dialog.client_secret.setText(fake.client_secret)
        open_url, visits = browser()
        dialog.open_url = open_url
        await dialog._connect(Platform.YOUTUBE)
        await asyncio.gather(*visits)
    [account] = [a for a in runtime.planner.accounts() if a.platform is Platform.YOUTUBE]
    assert account.handle == fake.custom_url and "Connected" in dialog.status.text()
    assert runtime.secrets.get(account.id)["refresh_token"] in fake.refresh_tokens  # type: ignore[index]


async def test_instagram_and_facebook_take_a_pasted_token(qtbot, runtime) -> None:
    with FakeInstagram() as ig, FakeFacebook() as fb:
        runtime.context.api_base.update({"instagram": ig.url, "facebook": fb.url})
        dialog = _dialog(qtbot, runtime, Platform.INSTAGRAM)
        assert dialog.forms.currentWidget().isAncestorOf(dialog.ig_token)
        dialog.ig_token.setText(ig.issue_token())
        await dialog._connect(Platform.INSTAGRAM)
        dialog.platform.setCurrentIndex(CONNECTABLE.index(Platform.FACEBOOK))
        assert dialog.forms.currentWidget().isAncestorOf(dialog.fb_page)
        dialog.fb_token.setText(fb.issue_user_token())
        dialog.fb_page.setText(fb.page_name)
        await dialog._connect(Platform.FACEBOOK)
    handles = {a.platform: a.handle for a in runtime.planner.accounts()}
    assert handles[Platform.INSTAGRAM] == ig.username and handles[Platform.FACEBOOK] == fb.page_name
    assert dialog.ig_token.text() == "" and dialog.fb_token.text() == ""
