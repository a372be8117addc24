"""The test file keyring, made to die right after it saved an account's secrets (the rotated token
pair) when OUTPOST_TEST_CRASH_AFTER_SAVE is set: the moment between persisting a refreshed token
and first using it (reliability.md P9). Select it with
PYTHON_KEYRING_BACKEND=tests.reliability.crashkeyring.CrashAfterSaveKeyring.
"""

from __future__ import annotations

import os
import signal

from tests.fakes.filekeyring import FileKeyring


class CrashAfterSaveKeyring(FileKeyring):
    priority = 1  # type: ignore[assignment]

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        if os.environ.get("OUTPOST_TEST_CRASH_AFTER_SAVE") and "#" not in username:  # the entry, not a chunk
            os.kill(os.getpid(), signal.SIGKILL)
