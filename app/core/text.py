"""Exact length counting, one rule per platform family (platforms.md, "Limits").

Field libraries do the hard parts: `regex` gives Unicode grapheme clusters (``\\X``) and
`twitter-text-parser` implements X's published weighted-counting rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import regex

_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
# URLs as Mastodon recognises them (a scheme and a host); every one counts a fixed weight.
_URL = regex.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", regex.IGNORECASE)
# Mastodon counts "@user@example.social" as "@user".
_REMOTE_MENTION = regex.compile(r"(?<![\w@])(@[\w.]+)@[\w.-]+\.[a-z]{2,}", regex.IGNORECASE)


class CountingRule(StrEnum):
    CHARACTERS = "characters"  # Unicode code points
    GRAPHEMES = "graphemes"  # user-perceived characters (Bluesky)
    UTF8_BYTES = "utf8_bytes"
    EMOJI_AS_UTF8_BYTES = "emoji_as_utf8_bytes"  # Threads: emoji count their UTF-8 bytes
    X_WEIGHTED = "x_weighted"  # twitter-text: CJK and emoji 2, URL 23
    URL_WEIGHTED = "url_weighted"  # Mastodon: every URL counts a fixed number of characters

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    CountingRule.CHARACTERS: "characters",
    CountingRule.GRAPHEMES: "characters (an emoji counts as one)",
    CountingRule.UTF8_BYTES: "bytes",
    CountingRule.EMOJI_AS_UTF8_BYTES: "characters (an emoji counts its UTF-8 bytes)",
    CountingRule.X_WEIGHTED: "weighted characters (links 23, CJK and emoji 2)",
    CountingRule.URL_WEIGHTED: "characters (every link counts 23)",
}


# A text longer than this many code points (and than four times the limit) is counted only up to
# here: it is far over every platform's limit, and counting 10 MB exactly took the editor 40 s.
EXACT_UP_TO = 20_000
EXACT_UP_TO_X = 5_000  # twitter-text takes about 15 µs a character


@dataclass(frozen=True)
class Measure:
    """A text measured against one limit. `over_from` is the string index where the excess starts.

    `exact` is False for a very long text that was counted only until it was clearly over: then
    `count` is a lower bound (shown as "at least").
    """

    count: int
    limit: int
    over_from: int | None
    exact: bool = True

    @property
    def shown(self) -> str:
        """The count as a person reads it: "612", or "20,000+" when only a lower bound is known."""
        return f"{self.count:,}" if self.exact else f"{self.count:,}+"

    @property
    def excess(self) -> str:
        """How far over the limit, in words: "112", or "at least 19,500"."""
        over = f"{self.count - self.limit:,}"
        return over if self.exact else f"at least {over}"

    @property
    def remaining(self) -> int:
        return self.limit - self.count

    @property
    def fits(self) -> bool:
        return self.count <= self.limit


def count(text: str, rule: CountingRule, url_weight: int = 23) -> int:
    """The length of `text` under `rule`."""
    if rule is CountingRule.X_WEIGHTED:
        from twitter_text import parse_tweet  # 0.2 s to import: only when X is counted

        return int(parse_tweet(text).weightedLength)
    if rule is CountingRule.CHARACTERS:
        return len(text)
    if rule is CountingRule.UTF8_BYTES:
        return len(text.encode("utf-8", "surrogatepass"))
    if rule is CountingRule.GRAPHEMES:
        return len(text) if text.isascii() and "\r" not in text else len(_GRAPHEME.findall(text))
    if rule is CountingRule.EMOJI_AS_UTF8_BYTES and not _EMOJI.search(text):
        return len(text)
    if rule is CountingRule.URL_WEIGHTED:
        return len(text) if "://" not in text and "@" not in text else _url_weighted_count(text, url_weight)
    return sum(weight for _, _, weight in _iter_units(text, rule, url_weight))


def measure(text: str, rule: CountingRule, limit: int, url_weight: int = 23) -> Measure:
    """Count `text` and locate the first character past `limit`, for highlighting.

    The work is bounded: a text far longer than the limit is counted only over its first
    `max(EXACT_UP_TO, 4 * limit)` code points (an inexact Measure), and the excess is located by
    reading units only until the limit is passed.
    """
    cap = max(EXACT_UP_TO_X if rule is CountingRule.X_WEIGHTED else EXACT_UP_TO, 4 * limit)
    if len(text) > cap:
        head = _measure(text[:cap], rule, limit, url_weight)
        if not head.fits:  # a lower bound is over: the rest cannot bring it back
            if rule in (CountingRule.CHARACTERS, CountingRule.UTF8_BYTES):  # exact and cheap anyway
                return Measure(count(text, rule), limit, head.over_from)
            return Measure(head.count, limit, head.over_from, exact=False)
    return _measure(text, rule, limit, url_weight)


def _measure(text: str, rule: CountingRule, limit: int, url_weight: int) -> Measure:
    if rule is CountingRule.X_WEIGHTED:
        from twitter_text import parse_tweet

        parsed = parse_tweet(text)
        total = int(parsed.weightedLength)
        over = None
        if total > limit:
            # validRangeEnd is an inclusive index of UTF-16 code units; convert to a str index.
            over = _utf16_to_index(text, int(parsed.validRangeEnd) + 1)
        return Measure(total, limit, over)
    total = count(text, rule, url_weight)
    if total <= limit:  # the common case: no need to find where an excess starts
        return Measure(total, limit, None)
    running = 0
    for start, _end, weight in _iter_units(text, rule, url_weight):
        if running + weight > limit:
            return Measure(total, limit, start)
        running += weight
    raise AssertionError("the units sum to the count")  # pragma: no cover


def _units(text: str, rule: CountingRule, url_weight: int) -> list[tuple[int, int, int]]:
    """Split text into (start, end, weight) units whose weights sum to the count."""
    return list(_iter_units(text, rule, url_weight))


def _iter_units(text: str, rule: CountingRule, url_weight: int) -> Iterator[tuple[int, int, int]]:
    """The units of `_units`, produced lazily so a caller can stop at the limit."""
    if rule is CountingRule.CHARACTERS:
        return ((i, i + 1, 1) for i in range(len(text)))
    if rule is CountingRule.UTF8_BYTES:
        return ((i, i + 1, len(ch.encode("utf-8", "surrogatepass"))) for i, ch in enumerate(text))
    if rule is CountingRule.GRAPHEMES:
        return ((m.start(), m.end(), 1) for m in _GRAPHEME.finditer(text))
    if rule is CountingRule.EMOJI_AS_UTF8_BYTES:
        return _emoji_byte_units(text)
    if rule is CountingRule.URL_WEIGHTED:
        return iter(_url_weighted_units(text, url_weight))
    raise ValueError(f"no unit split for {rule}")


def _emoji_byte_units(text: str) -> Iterator[tuple[int, int, int]]:
    for m in _GRAPHEME.finditer(text):
        cluster = m.group()
        if _EMOJI.search(cluster):
            yield m.start(), m.end(), len(cluster.encode("utf-8", "surrogatepass"))
        else:
            yield from ((m.start() + k, m.start() + k + 1, 1) for k in range(len(cluster)))


def _special_spans(text: str, url_weight: int) -> list[tuple[int, int, int]]:
    """(start, end, weight) of the tokens Mastodon counts specially: URLs and remote mentions."""
    spans: list[tuple[int, int, int]] = [(m.start(), m.end(), url_weight) for m in _URL.finditer(text)]
    for m in _REMOTE_MENTION.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in spans):
            spans.append((m.start(), m.end(), len(m.group(1))))
    spans.sort()
    return spans


def _url_weighted_count(text: str, url_weight: int) -> int:
    """Every character counts one, except that each special token counts its weight instead."""
    return len(text) - sum((end - start) - weight for start, end, weight in _special_spans(text, url_weight))


def _url_weighted_units(text: str, url_weight: int) -> list[tuple[int, int, int]]:
    units: list[tuple[int, int, int]] = []
    i = 0
    for start, end, weight in _special_spans(text, url_weight):
        units.extend((k, k + 1, 1) for k in range(i, start))
        units.append((start, end, weight))
        i = end
    units.extend((k, k + 1, 1) for k in range(i, len(text)))
    return units


def _utf16_to_index(text: str, utf16_offset: int) -> int:
    units = 0
    for i, ch in enumerate(text):
        if units >= utf16_offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def utf8_offset(text: str, index: int) -> int:
    """The UTF-8 byte offset of str index `index` (for Bluesky facets)."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def find_urls(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _URL.finditer(text)]
