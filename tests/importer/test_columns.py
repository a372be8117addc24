"""Header detection and auto-mapping (import-formats.md §2, reliability.md §7 E 38)."""

from __future__ import annotations

import pytest

from app.importer.columns import (
    SYNONYMS,
    Field,
    Header,
    auto_map,
    field_for_header,
    find_header,
    normalise_header,
)

SEEN_ELSEWHERE = {
    # header -> field, every one from import-formats.md §1-2
    "Date": Field.DATE, "Scheduled at": Field.DATE, "scheduled_at": Field.DATE, "Publish at": Field.DATE,
    "postAtSpecificTime": Field.DATE, "scheduleDate": Field.DATE, "Scheduled Time": Field.DATE,
    "scheduled_time": Field.DATE, "scheduledPostDate": Field.DATE, "dueAt": Field.DATE, "schedule-date": Field.DATE,
    "Time": Field.TIME,
    "Text": Field.TEXT, "content": Field.TEXT, "Content": Field.TEXT, "Message": Field.TEXT, "Caption": Field.TEXT,
    "text": Field.TEXT, "post": Field.TEXT, "textContent": Field.TEXT,
    "Account": Field.ACCOUNT, "account_id": Field.ACCOUNT, "Channel": Field.ACCOUNT, "Profile": Field.ACCOUNT,
    "platformAccount": Field.ACCOUNT,
    "Platform": Field.PLATFORM, "Platforms": Field.PLATFORM, "platforms": Field.PLATFORM, "platformName": Field.PLATFORM,
    "Media": Field.MEDIA, "Media URL(s)": Field.MEDIA, "media_urls": Field.MEDIA, "mediaUrls": Field.MEDIA,
    "Image URL": Field.MEDIA, "imageUrls": Field.MEDIA, "videoUrls": Field.MEDIA, "gifUrl": Field.MEDIA,
    "featuredImageFilename": Field.MEDIA,
    "First comment": Field.FIRST_COMMENT, "first_comment": Field.FIRST_COMMENT, "followUpComment": Field.FIRST_COMMENT,
    "Repeat": Field.REPEAT,
}


@pytest.mark.parametrize(("header", "field"), sorted(SEEN_ELSEWHERE.items()))
def test_headers_other_schedulers_use_are_recognised(header: str, field: Field) -> None:
    assert field_for_header(header) is field
    assert field_for_header(f"  {header.upper()} ") is field


def test_normalising_removes_case_spacing_and_punctuation() -> None:
    assert normalise_header("Media URL(s)") == normalise_header("media_urls") == normalise_header("mediaUrls") == "mediaurls"
    assert normalise_header("Ｓｃｈｅｄｕｌｅｄ Time") == "scheduledtime"  # full-width letters, NFKC


def test_every_synonym_belongs_to_one_field_and_our_own_headers_map_to_themselves() -> None:
    seen: dict[str, Field] = {}
    for f, names in SYNONYMS.items():
        assert field_for_header(f.value) is f
        for n in names:
            assert seen.setdefault(normalise_header(n), f) is f


def test_unknown_headers_are_not_mapped() -> None:
    mapping = auto_map(Header(1, ("Text", "Labels", "Notes", "")))
    assert mapping.columns == {Field.TEXT: 1}


def test_two_headers_for_one_field_leave_it_for_the_user() -> None:
    mapping = auto_map(Header(1, ("Text", "Caption", "Date")))
    assert mapping.columns == {Field.DATE: 3}
    assert mapping.unresolved == (Field.TEXT,)
    chosen = mapping.with_column(Field.TEXT, 2)
    assert chosen.columns == {Field.DATE: 3, Field.TEXT: 2} and chosen.unresolved == ()


def test_a_column_feeds_one_field_when_the_user_remaps() -> None:
    mapping = auto_map(Header(1, ("Text", "Date")))
    moved = mapping.with_column(Field.FIRST_COMMENT, 1)
    assert moved.columns == {Field.FIRST_COMMENT: 1, Field.DATE: 2}
    assert moved.with_column(Field.DATE, None).columns == {Field.FIRST_COMMENT: 1}
    assert moved.field_of(1) is Field.FIRST_COMMENT and moved.field_of(2) is Field.DATE


def test_the_header_is_found_below_a_title_row() -> None:
    rows = [(1, ("Posts for July",)), (2, ("Exported by Publer", None, "2026")), (4, ("Date", "Text", "Platform")),
            (5, ("2026-07-01 09:00", "Date of launch", "X"))]
    index, header = find_header(rows)
    assert index == 2 and header.row == 4 and header.names == ("Date", "Text", "Platform")
    assert header.label(2) == "Text (B)"


def test_without_known_headers_the_first_row_is_the_header() -> None:
    index, header = find_header([(3, ("foo", "bar")), (4, ("x", "y"))])
    assert index == 0 and header.row == 3
