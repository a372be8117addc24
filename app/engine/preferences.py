"""The person's publishing preferences, kept in the database's Setting table.

The Settings window reads and writes them here (never SQL of its own); the runtime reads the
catch-up window at start, and `apply_to` changes the running publisher's at once.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import OutpostError
from app.core.language import MAX_LANGS, language_tag, language_tags
from app.store import repo
from app.store.backup import backup_database
from app.store.db import Database
from app.store.paths import backup_dir, db_path

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

CATCHUP_KEY = "catchup_window_hours"  # read by app/engine/runtime.py at start
LANGUAGE_KEY = "post_language"  # BCP-47 tags the Bluesky adapter sends as `langs`; "" = the system's
DEFAULT_ACCOUNTS_KEY = "default_account_ids"
SUCCESS_NOTICES_KEY = "notify_successes"

CATCHUP_DEFAULT_HOURS = 24.0
CATCHUP_MAX_HOURS = 24 * 7  # older than a week, a post is stale news: it waits for a decision


@dataclass
class PublishingPreferences:
    catchup_window_hours: float = CATCHUP_DEFAULT_HOURS
    post_language: str = ""
    default_account_ids: list[int] = field(default_factory=list)
    notify_successes: bool = False


def check_catchup_hours(hours: float) -> str | None:
    """What is wrong with a catch-up window, or None."""
    if not 0 <= hours <= CATCHUP_MAX_HOURS:
        return f"The catch-up window is between 0 and {CATCHUP_MAX_HOURS} hours (one week); {hours:g} is outside it."
    return None


def check_language(text: str) -> str | None:
    """What is wrong with the post language setting, or None ("" means the system's language)."""
    pieces = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    if any(language_tag(p) is None for p in pieces):
        return (f"{text.strip()!r} is not a language tag; write one like en, de, pt-BR or zh-Hant, up to "
                f"{MAX_LANGS} separated by commas (or leave it empty for your system's language).")
    if len(pieces) > MAX_LANGS:
        return f"Bluesky takes at most {MAX_LANGS} languages per post; {len(pieces)} are listed."
    return None


def normalise_language(text: str) -> str:
    """pt-br -> pt-BR, "en ja" -> "en, ja": the spelling BCP-47 recommends, as the adapter reads it."""
    return ", ".join(language_tags(text))


class Preferences:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> PublishingPreferences:
        with self.db.read() as s:
            hours = repo.get_setting(s, CATCHUP_KEY, CATCHUP_DEFAULT_HOURS)
            language = repo.get_setting(s, LANGUAGE_KEY, "")
            accounts = repo.get_setting(s, DEFAULT_ACCOUNTS_KEY, [])
            successes = repo.get_setting(s, SUCCESS_NOTICES_KEY, False)
        return PublishingPreferences(
            catchup_window_hours=float(hours) if isinstance(hours, int | float) else CATCHUP_DEFAULT_HOURS,
            post_language=language if isinstance(language, str) else "",
            default_account_ids=[int(a) for a in accounts if isinstance(a, int)] if isinstance(accounts, list) else [],
            notify_successes=bool(successes),
        )

    def save(self, prefs: PublishingPreferences) -> None:
        """Write all of them in one transaction; refuses (OutpostError, nothing written) a bad value."""
        problem = check_catchup_hours(prefs.catchup_window_hours) or check_language(prefs.post_language)
        if problem:
            raise OutpostError(problem)
        values: dict[str, Any] = {
            CATCHUP_KEY: prefs.catchup_window_hours,
            LANGUAGE_KEY: normalise_language(prefs.post_language),
            DEFAULT_ACCOUNTS_KEY: list(prefs.default_account_ids),
            SUCCESS_NOTICES_KEY: prefs.notify_successes,
        }
        with self.db.write() as s:
            for key, value in values.items():
                repo.set_setting(s, key, value)


def save_and_apply(runtime: Runtime, prefs: PublishingPreferences) -> None:
    """Save, then make the running publisher and the editor's default use them now."""
    Preferences(runtime.db).save(prefs)
    runtime.publisher.settings.catchup_window = timedelta(hours=prefs.catchup_window_hours)
    live = {a.id for a in runtime.planner.accounts()}
    chosen = [a for a in prefs.default_account_ids if a in live]
    if chosen and runtime.planner.default_account_id() not in chosen:
        runtime.planner.set_default_account(chosen[0])  # the editor pre-selects the planner's default


# --- backups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken: datetime  # aware, UTC
    size: int

    @property
    def kind(self) -> str:
        """"daily", "manual", "pre-migration"...: the label in outpost-<label>-<stamp>.sqlite3."""
        return self.path.name.removeprefix("outpost-").rsplit("-", 1)[0]


def backups(data_dir: Path) -> list[BackupFile]:
    """The backups in the data folder, newest first."""
    folder = backup_dir(data_dir)
    found = []
    for path in folder.glob("outpost-*.sqlite3") if folder.exists() else []:
        try:
            st = path.stat()
        except OSError:
            continue
        found.append(BackupFile(path, datetime.fromtimestamp(st.st_mtime, UTC), st.st_size))
    return sorted(found, key=lambda b: (b.taken, b.path.name), reverse=True)


def back_up_now(data_dir: Path) -> Path:
    """A verified copy of the database in the backups folder, kept until deleted by hand.
    Raises OutpostError when it cannot be written."""
    try:
        return backup_database(db_path(data_dir), backup_dir(data_dir), "manual")
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise OutpostError(f"Could not write a backup to {backup_dir(data_dir)}: {reason}. "
                           "Check that the disk has room and the folder can be written.") from exc
