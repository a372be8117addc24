"""Which column holds what: Outpost's fields, the header names other schedulers use, auto-mapping.

Headers are compared after normalising (import-formats.md §2): Unicode NFKC, lower-case, every
non-alphanumeric character removed, so `Media URL(s)`, `media_urls` and `mediaUrls` all match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from openpyxl.utils import get_column_letter

from app.importer.reading import CellValue

HEADER_SEARCH_ROWS = 20


class Field(StrEnum):
    """A column Outpost understands. The value is the header our template and export write."""

    DATE = "Date"
    TIME = "Time"
    TIMEZONE = "Time zone"
    ACCOUNT = "Account"
    PLATFORM = "Platform"
    TEXT = "Text"
    THREAD = "Thread"
    LINK = "Link"
    MEDIA = "Media"
    ALT_TEXT = "Alt text"
    FIRST_COMMENT = "First comment"
    TITLE = "Title"
    REPEAT = "Repeat"
    REPEAT_UNTIL = "Repeat until"
    STATUS = "Status"

    @property
    def help(self) -> str:
        return _HELP[self]


_HELP = {
    Field.DATE: "Date, or date and time (Excel date, 2026-12-24 09:30, ISO 8601 with an offset)",
    Field.TIME: "Time of day when Date holds only the day (09:30, 2:30 PM)",
    Field.TIMEZONE: "IANA zone for this row (Europe/Berlin); blank: the zone chosen on import",
    Field.ACCOUNT: "Account handle (@name), platform:handle or display name; several separated by commas",
    Field.PLATFORM: "Platform name; alone it picks your only account on that platform",
    Field.TEXT: "The post. Three empty lines in a row (four line breaks) start the next part of a thread",
    Field.THREAD: "More parts of a thread after the Text, one part per line",
    Field.LINK: "A web address added on its own line at the end of the text (unless the text has it)",
    Field.MEDIA: "Image or video files or https:// URLs, one per line or separated by |",
    Field.ALT_TEXT: "A description of each image for screen readers, one per line in the order of Media",
    Field.FIRST_COMMENT: "A first comment posted under the post",
    Field.TITLE: "Title (YouTube, Pinterest)",
    Field.REPEAT: "once, daily, weekly:mon,thu or monthly:15",
    Field.REPEAT_UNTIL: "Last day of a repeating post (a date)",
    Field.STATUS: "draft to import the row as a draft; blank or scheduled to schedule it",
}

# Every header seen in import-formats.md §1-2, plus plain variants. Normalised at import time.
SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.DATE: (
        "Date", "Scheduled at", "Scheduled", "Publish at", "Publish date", "Publish time and date",
        "Post date", "Post at", "Date time", "Datetime", "Date and time", "When", "Schedule",
        "Schedule date", "scheduleDate", "schedule-date", "Scheduled time", "Scheduled date",
        "scheduledPostDate", "postAtSpecificTime", "dueAt", "Send at", "Publish on",
    ),
    Field.TIME: ("Time", "Post time", "Publish time", "Hour", "Time of day", "time_24hr", "Time 24hr",
                 "Scheduled time of day"),
    Field.TIMEZONE: ("Time zone", "Timezone", "TZ", "Zone"),
    Field.ACCOUNT: (
        "Account", "Accounts", "Channel", "Channels", "Profile", "Profiles", "Social profile",
        "account_id", "platformAccount", "Handle", "Page",
    ),
    Field.PLATFORM: ("Platform", "Platforms", "platformName", "Network", "Social network", "Service"),
    Field.TEXT: (
        "Text", "Content", "Message", "Caption", "Post", "Post text", "Body", "Copy", "Status text",
        "textContent", "Tweet", "message_text", "Post content", "Status update",
    ),
    Field.THREAD: ("Thread", "Thread parts", "Thread posts", "Replies"),
    Field.LINK: ("Link", "Links", "Link(s)", "URL", "Link URL", "Website", "Link to share"),
    Field.MEDIA: (
        "Media", "Media URLs", "Media URL(s)", "Media URL", "mediaUrls", "media_urls", "Image URL",
        "Image URLs", "imageUrls", "Image", "Images", "Video", "Videos", "videoUrls", "Video URL",
        "gifUrl", "gifUrls", "Attachments", "Attachment", "Photo", "Photos", "featuredImageFilename",
        "image_url", "video_url", "Picture URL", "Image link",
    ),
    Field.FIRST_COMMENT: ("First comment", "first_comment", "followUpComment", "Follow-up comment", "Comment",
                          "Comment(s)", "Comments", "First comments"),
    Field.ALT_TEXT: ("Alt text", "Alt texts", "Alt", "Image alt text", "Media alt text", "altText", "alt_text",
                     "Image description", "Image descriptions"),
    Field.TITLE: ("Title", "Pin title", "Video title"),
    Field.REPEAT: ("Repeat", "Repeats", "Recurrence", "Recurring"),
    Field.REPEAT_UNTIL: ("Repeat until", "Until", "Repeat end", "End repeat"),
    Field.STATUS: ("Status", "Post status", "State"),
}

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise_header(text: str) -> str:
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


_LOOKUP: dict[str, Field] = {}
for _field, _names in SYNONYMS.items():
    for _name in _names:
        _key = normalise_header(_name)
        assert _LOOKUP.get(_key, _field) is _field, f"{_name!r} maps to two fields"
        _LOOKUP[_key] = _field


_NUMBERED = re.compile(r"^(\D+)\d{1,2}$")
_HINT = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
# Media columns of one template hold one kind each (imageUrls, gifUrls, videoUrls): all are read.
MULTI_COLUMN_FIELDS = frozenset({Field.MEDIA})


def field_for_header(header: str) -> Field | None:
    """The field a header names; a trailing hint in brackets ("postAtSpecificTime (YYYY-MM-DD
    HH:mm:ss)") is ignored when the whole header is not known."""
    found = _LOOKUP.get(normalise_header(header))
    if found is None and _HINT.search(header):
        found = _LOOKUP.get(normalise_header(_HINT.sub("", header)))
    if found is None and (numbered := _NUMBERED.match(normalise_header(header))):
        found = _LOOKUP.get(numbered.group(1))  # "Picture Url 3" (Metricool): one of several media columns
        found = found if found in MULTI_COLUMN_FIELDS else None
    return found


@dataclass(frozen=True)
class Header:
    """The header row: its spreadsheet row number and the text of each column (1-based)."""

    row: int
    names: tuple[str, ...]

    def letter(self, column: int) -> str:
        return get_column_letter(column)

    def label(self, column: int) -> str:
        name = self.names[column - 1] if 0 < column <= len(self.names) else ""
        return f"{name} ({get_column_letter(column)})" if name else get_column_letter(column)


@dataclass(frozen=True)
class Mapping:
    """Field -> 1-based column. `unresolved` lists fields that several headers claimed."""

    columns: dict[Field, int]
    unresolved: tuple[Field, ...] = ()
    more_media: tuple[int, ...] = ()  # further Media columns, merged after `columns[MEDIA]` in order

    def with_column(self, field: Field, column: int | None) -> Mapping:
        """A copy where `field` reads `column` (None: not imported). A column feeds one field;
        Media may read several columns (choosing Media for another column adds it)."""
        media = [c for c in self.media_columns() if c != column]
        columns: dict[Field, int] = {f: c for f, c in self.columns.items()
                                     if f is not field and c != column and f is not Field.MEDIA}
        if field is Field.MEDIA and column is not None:
            media = sorted([*media, column])
        elif field is Field.MEDIA and column is None:
            media = []
        elif column is not None:
            columns[field] = column
        if media:
            columns[Field.MEDIA] = media[0]
        return Mapping(columns, tuple(f for f in self.unresolved if f is not field), tuple(media[1:]))

    def without_column(self, column: int) -> Mapping:
        """A copy where `column` is not imported."""
        current = self.field_of(column)
        if current is None:
            return self
        if current is Field.MEDIA:
            media = [c for c in self.media_columns() if c != column]
            columns: dict[Field, int] = {f: c for f, c in self.columns.items() if f is not Field.MEDIA}
            if media:
                columns[Field.MEDIA] = media[0]
            return Mapping(columns, self.unresolved, tuple(media[1:]))
        return self.with_column(current, None)

    def media_columns(self) -> tuple[int, ...]:
        first = self.columns.get(Field.MEDIA)
        return (first, *self.more_media) if first is not None else ()

    def field_of(self, column: int) -> Field | None:
        for f, c in self.columns.items():
            if c == column:
                return f
        return Field.MEDIA if column in self.more_media else None

    def used(self, column: int) -> bool:
        return self.field_of(column) is not None


def find_header(rows: Sequence[tuple[int, tuple[CellValue, ...]]]) -> tuple[int, Header]:
    """The index in `rows` of the header row and the header: the row among the first few that
    names the most known fields (so a title row above it is skipped). Without any, the first row."""
    best_index, best_hits = 0, 0
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len({f for c in cells if isinstance(c, str) and (f := field_for_header(c)) is not None})
        if hits > best_hits:
            best_index, best_hits = index, hits
    number, cells = rows[best_index]
    names = tuple(str(c).strip() if c is not None else "" for c in cells)
    return best_index, Header(number, names)


def auto_map(header: Header) -> Mapping:
    claims: dict[Field, list[int]] = {}
    for column, name in enumerate(header.names, start=1):
        f = field_for_header(name) if name else None
        if f is not None:
            claims.setdefault(f, []).append(column)
    columns = {f: cols[0] for f, cols in claims.items() if len(cols) == 1 or f in MULTI_COLUMN_FIELDS}
    unresolved = tuple(f for f, cols in claims.items() if len(cols) > 1 and f not in MULTI_COLUMN_FIELDS)
    return Mapping(columns, unresolved, tuple(claims.get(Field.MEDIA, [])[1:]))
