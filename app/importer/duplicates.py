"""Duplicate guard: the same text on the same account within 24 hours is one post, not two."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


_UNEVEN_SPACE = re.compile(r"\s\s|[^\S ]|^\s|\s$")  # what " ".join(text.split()) would change


def text_key(text: str) -> str:
    """Texts that differ only in Unicode form or spacing are the same text. Already-tidy text is
    returned as it is (no copy: the duplicate index holds one key per row)."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()) if _UNEVEN_SPACE.search(text) else text


@dataclass(frozen=True, slots=True)
class ExistingPost:
    """A post already in the calendar (post_id set) or an earlier row of the file (row set)."""

    account_id: int
    text: str
    scheduled_at: datetime | None
    post_id: int | None = None
    row: int | None = None

    def describe(self) -> str:
        when = f" at {self.scheduled_at:%Y-%m-%d %H:%M} UTC" if self.scheduled_at else ""
        if self.row is not None:
            return f"Same text on the same account as row {self.row}{when}."
        return f"Same text on the same account as post #{self.post_id}{when}, already in the calendar."


class DuplicateIndex:
    def __init__(self, existing: Iterable[ExistingPost] = (), window: timedelta = WINDOW) -> None:
        self.window = window
        self._by_key: dict[tuple[int, str], list[ExistingPost]] = {}
        for post in existing:
            self.add(post)

    def add(self, post: ExistingPost, key: str | None = None) -> None:
        self._by_key.setdefault((post.account_id, key or text_key(post.text)), []).append(post)

    def find(self, account_id: int, text: str, when: datetime | None, key: str | None = None) -> ExistingPost | None:
        """`key` is `text_key(text)` when the caller has it already."""
        for post in self._by_key.get((account_id, key or text_key(text)), ()):
            if when is None and post.scheduled_at is None:
                return post
            if when is not None and post.scheduled_at is not None and abs(post.scheduled_at - when) < self.window:
                return post
        return None
