"""Secrets live in the OS keyring only (reliability.md K1-K3, §7 D27-D28)."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail, null

from app.auth.secrets import KeyringSecrets, NoKeyringAvailable
from app.core.redact import redact
from tests.support.memkeyring import InMemoryKeyring


def test_secrets_round_trip_as_one_entry_per_account(_isolation: InMemoryKeyring) -> None:
    store = KeyringSecrets()
    store.put(3, {"access_token": "tok-abcdef-123456"})
    assert store.get(3) == {"access_token": "tok-abcdef-123456"}
    assert list(_isolation.store) == [("Outpost", "account-3")]
    assert store.get(4) is None


def test_a_value_too_long_for_windows_is_split_and_joined_back(_isolation: InMemoryKeyring) -> None:
    jwt = "eyJ" + "a" * 3000 + "." + "b" * 900
    store = KeyringSecrets()
    store.put(5, {"access_jwt": jwt, "refresh_jwt": "r" * 1500})
    assert store.get(5) == {"access_jwt": jwt, "refresh_jwt": "r" * 1500}
    assert len(_isolation.store) > 2
    for value in _isolation.store.values():
        assert len(value.encode("utf-16-le")) <= 2560  # CRED_MAX_CREDENTIAL_BLOB_SIZE
    store.put(5, {"access_jwt": "short-token"})  # shrinking removes the stale parts
    assert list(_isolation.store) == [("Outpost", "account-5")]
    assert store.get(5) == {"access_jwt": "short-token"}


def test_deleting_removes_every_part(_isolation: InMemoryKeyring) -> None:
    store = KeyringSecrets()
    store.put(6, {"t": "x" * 5000})
    store.put(7, {"t": "keep-me-please"})
    store.delete(6)
    assert [k for k in _isolation.store if k[1].startswith("account-6")] == []
    assert store.get(7) == {"t": "keep-me-please"}
    store.delete(6)  # deleting twice is harmless


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_without_a_keyring_the_message_names_the_fix_and_nothing_is_stored(backend: object) -> None:
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    with pytest.raises(NoKeyringAvailable) as refused:
        KeyringSecrets().put(1, {"access_token": "never-stored-anywhere"})
    assert "gnome-keyring" in str(refused.value)
    with pytest.raises(NoKeyringAvailable):
        KeyringSecrets().get(1)


def test_loaded_and_stored_secrets_are_redacted_everywhere(_isolation: InMemoryKeyring) -> None:
    KeyringSecrets().put(8, {"app_password": "abcd-efgh-ijkl-mnop", "issued_at": "2026-01-01T00:00:00+00:00"})
    assert redact("login with abcd-efgh-ijkl-mnop now") == "login with [redacted] now"
    assert "2026-01-01" in redact("issued 2026-01-01T00:00:00+00:00")  # dates are not secrets
    _isolation.store[("Outpost", "account-9")] = json.dumps({"access_token": "loaded-from-keyring-xyz"})
    KeyringSecrets().get(9)
    assert "loaded-from-keyring-xyz" not in redact("token loaded-from-keyring-xyz")
