"""Language tags for posts (Bluesky's `langs`): BCP-47 tags as people and locales write them.

`de_DE.UTF-8` (a POSIX locale), `de-de` or `en, ja` become `("de-DE",)`, `("de-DE",)` and
`("en", "ja")`; anything that is not a tag (`C`, `POSIX`, `English_United States`) is dropped, so
a post carries no language rather than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_LANGS = 3  # app.bsky.feed.post#langs: maxLength 3

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")


def language_tag(text: str) -> str | None:
    """One tag in its usual case (`pt-BR`, `zh-Hant-TW`), or None when `text` is not one."""
    raw = text.strip().split(".")[0].split("@")[0].replace("_", "-")
    m = _TAG.match(raw)
    if not m or raw.upper() in ("C", "POSIX"):
        return None
    lang, script, region = m.groups()
    out = lang.lower()
    if script:
        out += "-" + script.title()
    if region:
        out += "-" + region.upper()
    return out


def language_tags(text: str, limit: int = MAX_LANGS) -> tuple[str, ...]:
    """Comma- or space-separated tags, each checked, duplicates dropped, at most `limit`."""
    out: list[str] = []
    for piece in re.split(r"[,\s;]+", text or ""):
        tag = language_tag(piece) if piece else None
        if tag and tag not in out:
            out.append(tag)
    return tuple(out[:limit])


def system_language(environ: Mapping[str, str], locale_name: str | None = None) -> str:
    """The language of the computer's locale: LC_ALL, LC_MESSAGES, LANG (POSIX), then `locale_name`
    (what `locale.getlocale()` gave). "" when none names a language."""
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        tag = language_tag(environ.get(key, ""))
        if tag:
            return tag
    return language_tag(locale_name or "") or ""
