"""Spreadsheet formula injection (reliability.md §5 I9): the export guard and its exact inverse.

A cell that starts with = + - @ TAB or CR is written with a leading apostrophe, so Excel and
LibreOffice show it as text instead of running it. So that export -> import loses nothing,
text that already starts with apostrophes before such a character gets one more, and the
importer removes exactly one apostrophe from exactly those cells.
"""

from __future__ import annotations

import re

_NEEDS_GUARD = re.compile(r"^'*[=+\-@\t\r]")


def needs_guard(text: str) -> bool:
    return bool(_NEEDS_GUARD.match(text))


def guard(text: str) -> str:
    """The text as written to an exported cell."""
    return "'" + text if needs_guard(text) else text


def unguard(text: str) -> str:
    """The inverse of `guard`: unguard(guard(t)) == t for every string t."""
    return text[1:] if text.startswith("'") and needs_guard(text[1:]) else text
