"""Account secrets in the OS keyring, and nowhere else (reliability.md K1-K3, K7).

One keyring entry per account (service "Outpost", user "account-<id>") holds a JSON object.
A value too long for Windows Credential Manager (2560 bytes, UTF-16) is split across numbered
entries and joined back on reading; nothing is ever truncated. Without a usable keyring the
caller gets NoKeyringAvailable with the fix to apply; there is no plaintext fallback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, NoKeyringError, PasswordDeleteError

from app.core.errors import OutpostError
from app.core.redact import register_secret

log = logging.getLogger(__name__)

SERVICE = "Outpost"
# Windows stores UTF-16: 2560 bytes are 1280 characters. JSON here is ASCII (ensure_ascii).
MAX_ENTRY_CHARS = 1200
CHUNK_CHARS = 1000
_CHUNKED = "__outpost_chunks__"
# Values that are not secret and must not be scrubbed from every log line (a date, an id).
PUBLIC_FIELDS = frozenset({"issued_at", "expires_at", "token_type", "scope", "did", "client_id", "user_id"})

_NO_KEYRING_HELP = (
    "Outpost keeps account passwords and tokens only in your system's keyring, and none is available. "
    "On Linux, install and unlock a Secret Service such as gnome-keyring or KWallet (and run Outpost "
    "inside your desktop session); on Windows and macOS the built-in keyring should work. Then try again."
)


class NoKeyringAvailable(OutpostError):
    """No usable OS keyring: Outpost refuses to store secrets anywhere else."""


def _usable_backend() -> KeyringBackend:
    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null") or module.startswith("keyrings.alt"):
        raise NoKeyringAvailable(_NO_KEYRING_HELP)
    if module == "keyring.backends.chainer" and not getattr(backend, "backends", None):
        raise NoKeyringAvailable(_NO_KEYRING_HELP)
    return backend


def _entry(account_id: int, part: int = 0) -> str:
    return f"account-{account_id}" + (f"#{part}" if part else "")


def remember(values: dict[str, str]) -> None:
    """Register every secret value with the redactor, so no log line or message can carry it."""
    for key, value in values.items():
        if key not in PUBLIC_FIELDS:
            register_secret(value)


class KeyringSecrets:
    """`app.platforms.base.Secrets` over the OS keyring."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def get(self, account_id: int) -> dict[str, str] | None:
        backend = _usable_backend()
        try:
            raw = backend.get_password(self.service, _entry(account_id))
            if raw is None:
                return None
            data: Any = json.loads(raw)
            if isinstance(data, dict) and _CHUNKED in data:
                pieces = []
                for part in range(1, int(data[_CHUNKED]) + 1):
                    piece = backend.get_password(self.service, _entry(account_id, part))
                    if piece is None:
                        raise NoKeyringAvailable(
                            "Part of this account's sign-in is missing from the keyring. Reconnect the account."
                        )
                    pieces.append(piece)
                data = json.loads("".join(pieces))
        except (NoKeyringError, KeyringLocked) as exc:
            raise NoKeyringAvailable(_NO_KEYRING_HELP) from exc
        except KeyringError as exc:
            raise NoKeyringAvailable(f"The keyring refused to read this account's secrets: {exc}.") from exc
        except ValueError as exc:
            raise NoKeyringAvailable(
                "This account's keyring entry is damaged. Reconnect the account."
            ) from exc
        values = {str(k): str(v) for k, v in data.items()}
        remember(values)
        return values

    def put(self, account_id: int, values: dict[str, str]) -> None:
        backend = _usable_backend()
        remember(values)
        raw = json.dumps(values, ensure_ascii=True, sort_keys=True)
        try:
            old_parts = self._part_count(backend, account_id)
            if len(raw) <= MAX_ENTRY_CHARS:
                backend.set_password(self.service, _entry(account_id), raw)
                parts = 0
            else:
                chunks = [raw[i : i + CHUNK_CHARS] for i in range(0, len(raw), CHUNK_CHARS)]
                for part, chunk in enumerate(chunks, start=1):
                    backend.set_password(self.service, _entry(account_id, part), chunk)
                parts = len(chunks)
                backend.set_password(self.service, _entry(account_id), json.dumps({_CHUNKED: parts}))
            for stale in range(parts + 1, old_parts + 1):
                self._delete_entry(backend, _entry(account_id, stale))
        except (NoKeyringError, KeyringLocked) as exc:
            raise NoKeyringAvailable(_NO_KEYRING_HELP) from exc
        except KeyringError as exc:
            raise NoKeyringAvailable(f"The keyring refused to store this account's secrets: {exc}.") from exc

    def delete(self, account_id: int) -> None:
        backend = _usable_backend()
        try:
            parts = self._part_count(backend, account_id)
            self._delete_entry(backend, _entry(account_id))
            for part in range(1, parts + 1):
                self._delete_entry(backend, _entry(account_id, part))
        except (NoKeyringError, KeyringLocked) as exc:
            raise NoKeyringAvailable(_NO_KEYRING_HELP) from exc

    def _part_count(self, backend: KeyringBackend, account_id: int) -> int:
        raw = backend.get_password(self.service, _entry(account_id))
        if not raw:
            return 0
        try:
            data = json.loads(raw)
        except ValueError:
            return 0
        return int(data[_CHUNKED]) if isinstance(data, dict) and _CHUNKED in data else 0

    def _delete_entry(self, backend: KeyringBackend, name: str) -> None:
        try:
            backend.delete_password(self.service, name)
        except PasswordDeleteError:
            log.debug("No keyring entry %s to delete", name)
