"""Unsaved writing kept on disk while an editor is open, so a crash or a mis-click never loses it.

Each open editor owns one file in `<data folder>/unsaved-writing/`: `new-<token>.json` for a new
post, `post-<id>-<token>.json` for an edit (the token keeps two editors from writing over each
other). The file is written atomically (temporary file, fsync, rename) with mode 0600 and removed
when the post is saved or the writing is discarded. A file no open editor owns was left by a
crash or a quit: it is offered once, by the next editor opened for that post (or a new post).
Only one Outpost runs per data folder (the data-folder lock), so "open" is known in-process.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.store.files import FileRefused, read_regular_file

log = logging.getLogger(__name__)

FOLDER_NAME = "unsaved-writing"
FORMAT = 1
MAX_BYTES = 8 * 1024 * 1024  # a post, its thread and media paths: far below this

_OWNED: set[Path] = set()  # files of the editors open in this process


def unsaved_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER_NAME


@dataclass(frozen=True)
class RecoveredDraft:
    """Writing an editor autosaved and nobody saved or discarded (a crash, or a quit)."""

    path: Path
    post_id: int | None  # None: it was a new post
    saved_at: datetime  # aware UTC
    state: dict[str, Any]

    @property
    def summary(self) -> str:
        """The first line of its text, for a one-line mention."""
        text = str(self.state.get("text") or "").strip()
        first = text.splitlines()[0] if text else "(no text yet)"
        return first[:80] + ("…" if len(first) > 80 else "")


def recovered_drafts(data_dir: Path) -> list[RecoveredDraft]:
    """Autosaved writing no open editor owns, newest first. Unreadable files are logged and set aside."""
    folder = unsaved_folder(data_dir)
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return []
    found = []
    for path in paths:
        if path in _OWNED:
            continue
        try:
            data = json.loads(read_regular_file(path, MAX_BYTES))
            if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("state"), dict):
                raise ValueError("not an Outpost autosave")
            post_id = data.get("post_id")
            saved_at = datetime.fromisoformat(str(data["saved_at"]))
            if saved_at.tzinfo is None:
                saved_at = saved_at.replace(tzinfo=UTC)
            found.append(RecoveredDraft(path, int(post_id) if isinstance(post_id, int) else None,
                                        saved_at, data["state"]))
        except (OSError, FileRefused, ValueError, KeyError, TypeError) as exc:
            log.warning("setting aside an unreadable autosave %s: %s", path.name, exc)
            set_aside(path)
    found.sort(key=lambda d: d.saved_at, reverse=True)
    return found


def set_aside(path: Path) -> None:
    """Rename a file that cannot be restored to `.unreadable`: kept for a person to look at, never offered again."""
    try:
        os.replace(path, path.with_name(path.name + ".unreadable"))
    except OSError as exc:
        log.warning("could not set %s aside: %s", path.name, exc.strerror or exc)


class DraftKeeper:
    """One editor's autosave file: written on a debounce, removed on save or discard."""

    def __init__(self, data_dir: Path, post_id: int | None) -> None:
        self.folder = unsaved_folder(data_dir)
        self.post_id = post_id
        stem = f"post-{post_id}" if post_id is not None else "new"
        self.path = self.folder / f"{stem}-{secrets.token_hex(4)}.json"
        _OWNED.add(self.path)

    def save(self, state: dict[str, Any], now: datetime) -> bool:
        """Write `state` atomically (0600). False (logged) when the disk refuses: the editor keeps working."""
        payload = json.dumps({"format": FORMAT, "post_id": self.post_id, "saved_at": now.astimezone(UTC).isoformat(),
                              "state": state}, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
            try:
                os.write(fd, payload.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            return True
        except OSError as exc:
            log.warning("could not autosave the editor to %s: %s", self.path.name, exc.strerror or exc)
            return False

    def adopt(self, recovered: RecoveredDraft) -> None:
        """Take over a recovered file, so it is offered once and then belongs to this editor."""
        try:
            os.replace(recovered.path, self.path)
        except OSError as exc:  # it stays where it is; this editor writes its own file from now on
            log.warning("could not take over %s: %s", recovered.path.name, exc.strerror or exc)
            self._unlink(recovered.path)

    def remove(self) -> None:
        self._unlink(self.path)

    def release(self) -> None:
        """The editor is gone; whatever file it left is now a recovered draft."""
        _OWNED.discard(self.path)

    @staticmethod
    def _unlink(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s: %s", path.name, exc.strerror or exc)
