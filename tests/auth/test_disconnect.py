"""Removing an account revokes its token where the platform allows it and deletes its secrets."""

from __future__ import annotations

import pytest

from app.auth.disconnect import forget_account
from app.auth.loopback import AuthCancelled
from app.auth.mastodon import MastodonSignIn
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, Platform
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.support import FAST, browser


async def test_removing_a_mastodon_account_revokes_its_token_and_deletes_its_secrets() -> None:
    with FakeMastodon() as fake:
        open_url, _ = browser()
        connected = await MastodonSignIn(fake.url, tuning=FAST, timeout=5).run(open_url)
        secrets = KeyringSecrets()
        secrets.put(5, connected.secrets)
        account = AccountInfo(5, Platform.MASTODON, connected.handle, server=connected.server)
        notes = await forget_account(account, secrets, tuning=FAST)
        assert notes == []
        assert fake.revoked == [connected.secrets["access_token"]]
        assert secrets.get(5) is None


async def test_a_failed_revocation_still_deletes_the_secrets_and_says_what_to_do() -> None:
    fake = FakeMastodon()
    fake.start()
    fake.stop()  # unreachable
    secrets = KeyringSecrets()
    secrets.put(6, {"access_token": "tok-123456789", "client_id": "cid", "client_secret": "csecret-123456"})
    account = AccountInfo(6, Platform.MASTODON, "@a@b", server=fake.url)
    notes = await forget_account(account, secrets, tuning=FAST)
    assert "Authorized apps" in notes[0]
    assert secrets.get(6) is None


async def test_a_sign_in_cancelled_before_the_browser_opens_never_opens_it() -> None:
    with FakeMastodon() as fake:
        sign_in = MastodonSignIn(fake.url, tuning=FAST, timeout=5)
        opened: list[str] = []

        def open_url(url: str) -> None:
            opened.append(url)

        sign_in.cancel()
        with pytest.raises(AuthCancelled):
            await sign_in.run(open_url)
        assert opened == [] and not sign_in.listener.is_listening


async def test_removing_a_bluesky_account_ends_its_session_and_points_to_the_app_password() -> None:
    from app.auth.bluesky import sign_in
    from tests.fakes.bluesky import FakeBluesky

    with FakeBluesky() as fake:
        connected = await sign_in(fake.handle, fake.app_password, service=fake.url, tuning=FAST)
        secrets = KeyringSecrets()
        secrets.put(8, connected.secrets)
        account = AccountInfo(8, Platform.BLUESKY, connected.handle, server=connected.server)
        notes = await forget_account(account, secrets, tuning=FAST)
        assert fake.ended_sessions == 1 and connected.secrets["refresh_jwt"] not in fake.refresh_tokens
    assert "App passwords" in notes[0]
    assert secrets.get(8) is None
