"""Text shown in a terminal cannot move the cursor, retitle the window or reorder what is read;
instants outside the schedulable years are refused with a message, never an OverflowError."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app.core.redact import for_terminal
from app.core.timeutil import parse_instant


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("title\x1b]0;pwned\x07", "title\\e]0;pwned\\x07"),  # OSC: retitles the terminal
        ("red\x1b[31m", "red\\e[31m"),  # CSI colour
        ("row\r\n  2  forged", "row\\r\\n  2  forged"),
        ("c1\x9b2J", "c1\\x9b2J"),  # the one-byte CSI
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("tab\there", "tab\\there"),
        ("plain text, émoji 🎉 and 日本語", "plain text, émoji 🎉 and 日本語"),
    ],
)
def test_control_characters_are_shown_as_visible_escapes(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


def test_line_feeds_can_be_kept_for_multi_line_text_but_carriage_returns_cannot() -> None:
    assert for_terminal("one\ntwo\r\x1b[2K", keep_newlines=True) == "one\ntwo\\r\\e[2K"


@pytest.mark.parametrize("raw", ["0001-01-01T00:00", "9999-12-31T23:59-12:00", "9999-12-31T23:59", "1969-12-31"])
def test_instants_outside_the_schedulable_years_are_refused_with_a_message(raw: str) -> None:
    with pytest.raises(ValueError, match="outside the dates Outpost can schedule"):
        parse_instant(raw, ZoneInfo("Asia/Tokyo"))
