"""The keyring lookup every adapter shares: a missing keyring or sign-in holds the account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth.secrets import NoKeyringAvailable
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, Platform
from app.platforms.base import AdapterContext, stored_sign_in


class Store:
    def __init__(self, values: dict[str, str] | None, *, broken: bool = False) -> None:
        self.values, self.broken = values, broken

    def get(self, account_id: int) -> dict[str, str] | None:
        if self.broken:
            raise NoKeyringAvailable("No system keyring is available; install one (see the README).")
        return self.values

    def put(self, account_id: int, values: dict[str, str]) -> None:
        self.values = values

    def delete(self, account_id: int) -> None:
        self.values = None


def _context(store: Store) -> AdapterContext:
    return AdapterContext(Path("."), store, lambda: datetime.now(UTC))


ACCOUNT = AccountInfo(7, Platform.BLUESKY, "alice.test")


@pytest.mark.parametrize(("store", "code"), [(Store(None), "no_token"), (Store({"refresh_token": "r"}), "no_token"),
                                             (Store(None, broken=True), "no_keyring")])
def test_a_missing_sign_in_is_an_auth_error_that_asks_for_a_reconnect(store: Store, code: str) -> None:
    with pytest.raises(PublishError) as caught:
        stored_sign_in(_context(store), ACCOUNT)
    assert caught.value.kind is ErrorKind.AUTH and caught.value.code == code
    assert "Reconnect" in str(caught.value) or "keyring" in str(caught.value)


def test_any_of_the_named_secrets_will_do() -> None:
    store = Store({"app_password": "xxxx-xxxx"})
    assert stored_sign_in(_context(store), ACCOUNT, "access_jwt", "app_password") == {"app_password": "xxxx-xxxx"}
    with pytest.raises(PublishError):
        stored_sign_in(_context(store), ACCOUNT)  # an access token is the default requirement
