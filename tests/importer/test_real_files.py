"""Files written by real programs (LibreOffice through soffice, other schedulers' templates as
their help pages show them; see fixtures/README.md) read and judged as a person would expect."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from app.core.models import AccountInfo, Platform
from app.importer.columns import Field
from app.importer.rows import (
    HOOTSUITE,
    ImportOptions,
    ImportRow,
    RowStatus,
    open_sheet,
    parse_rows,
    unused_columns,
)
from tests.importer.sheets import ACCOUNTS, NOW

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WITH_THREADS = [*ACCOUNTS, AccountInfo(6, Platform.THREADS, "alice.threads", "Alice T")]
UTC_OPTS = ImportOptions(timezone="UTC")


def judge(name: str, options: ImportOptions = UTC_OPTS, accounts: list[AccountInfo] = WITH_THREADS,
          tmp: Path | None = None) -> list[ImportRow]:
    path = FIXTURES / name
    if tmp is not None:  # media paths are relative to the sheet: judge a copy
        path = Path(shutil.copy(path, tmp / name))
    sheet = open_sheet(path)
    return parse_rows(sheet, sheet.mapping, accounts, options, NOW)


def errors(row: ImportRow) -> str:
    return " | ".join(str(e) for e in row.errors)


# 1 -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lo_date_only.xlsx", "lo_date_only.ods", "lo_date_only.csv"])
def test_a_date_without_a_time_is_an_error_not_midnight(name: str) -> None:
    day_only, with_time = judge(name)
    assert day_only.status is RowStatus.INVALID and "has no time of day" in errors(day_only)
    assert with_time.status is RowStatus.VALID
    assert with_time.spec is not None and with_time.spec.scheduled_at == datetime(2027, 3, 15, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", ["lo_date_only.xlsx", "lo_date_only.ods", "lo_date_only.csv"])
def test_a_default_time_schedules_a_bare_day_at_that_time_with_a_warning(name: str) -> None:
    day_only, _ = judge(name, ImportOptions(timezone="UTC", default_time=time(9, 0)))
    assert day_only.status is RowStatus.VALID and day_only.spec is not None
    assert day_only.spec.scheduled_at == datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
    assert any("default time 09:00" in str(w) for w in day_only.warnings)


# 2 -----------------------------------------------------------------------------------------------

def test_a_time_column_holding_whole_instants_is_read_as_the_date() -> None:
    (row,) = judge("lo_post_time_iso.csv")
    assert row.status is RowStatus.VALID, errors(row)
    assert row.spec is not None and row.spec.scheduled_at == datetime(2027, 12, 11, 8, 0, tzinfo=UTC)


# 3 -----------------------------------------------------------------------------------------------

def test_a_platform_name_picks_the_only_account_there_and_says_which_fit_when_several() -> None:
    bluesky, threads, by_platform, mastodon, narrowed = judge("lo_platform_accounts.xlsx")
    assert bluesky.account_ids == (2,) and bluesky.status is RowStatus.VALID
    assert threads.account_ids == (6,) and threads.status is RowStatus.VALID
    assert by_platform.account_ids == (2,) and by_platform.status is RowStatus.VALID
    assert mastodon.status is RowStatus.INVALID
    assert "alice@mastodon.social" in errors(mastodon) and "alice@hachyderm.io" in errors(mastodon)
    assert narrowed.account_ids == (2,) and narrowed.status is RowStatus.VALID, errors(narrowed)


def test_a_platform_without_an_account_says_so() -> None:
    _, threads, _, _, _ = judge("lo_platform_accounts.xlsx", accounts=ACCOUNTS)
    assert "You have no Threads account" in errors(threads)


# 4 -----------------------------------------------------------------------------------------------

def test_a_headerless_hootsuite_file_keeps_its_first_post() -> None:
    sheet = open_sheet(FIXTURES / "hootsuite_bulk.csv")
    assert sheet.layout == HOOTSUITE and sheet.header_index == -1
    first, second = parse_rows(sheet, sheet.mapping, WITH_THREADS, ImportOptions(timezone="UTC",
                               default_account_id=2), NOW)
    assert first.number == 1 and first.status is RowStatus.VALID, errors(first)
    assert first.spec is not None and first.spec.scheduled_at == datetime(2027, 3, 14, 9, 30, tzinfo=UTC)
    assert first.spec.text == "First post of the Hootsuite file\nhttps://example.com/one"
    assert second.spec is not None and second.spec.scheduled_at == datetime(2027, 3, 15, 10, 45, tzinfo=UTC)


# 5 -----------------------------------------------------------------------------------------------

def test_socialbee_media_columns_are_merged_and_empty_ones_do_not_block() -> None:
    sheet = open_sheet(FIXTURES / "socialbee_template.csv")
    assert not sheet.mapping.unresolved and sheet.mapping.media_columns() == (3, 4, 5)
    plain, pictured = parse_rows(sheet, sheet.mapping, WITH_THREADS, ImportOptions(timezone="UTC",
                                 default_account_id=1), NOW)
    assert plain.status is RowStatus.VALID and plain.spec is not None and plain.spec.media == ()
    # Both columns were read, in order: the platform's own rule then speaks about the pair.
    assert pictured.cell(Field.MEDIA) == "https://cdn.example.com/a.jpg\nhttps://cdn.example.com/v.mp4"
    assert "cannot mix images and videos" in errors(pictured)


# 6 -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("highlevel_template.csv", {Field.DATE: 1, Field.TEXT: 2, Field.LINK: 3, Field.MEDIA: 4}),
    ("sprout_template.csv", {Field.DATE: 1, Field.TIME: 2, Field.TEXT: 3, Field.LINK: 4}),
    ("publer_template.csv", {Field.DATE: 1, Field.TEXT: 2, Field.LINK: 3, Field.MEDIA: 4, Field.TITLE: 5,
                             Field.FIRST_COMMENT: 7}),
])
def test_other_schedulers_templates_are_mapped(name: str, expected: dict[Field, int]) -> None:
    assert open_sheet(FIXTURES / name).mapping.columns == expected


def test_publer_keeps_its_first_comment_and_link() -> None:
    (row,) = judge("publer_template.csv", ImportOptions(timezone="UTC", default_account_id=1))
    assert row.spec is not None and row.spec.first_comment == "The first comment"
    assert row.spec.text == "From Publer\nhttps://example.com/publer"


def test_a_column_with_data_that_is_not_imported_is_reported() -> None:
    sheet = open_sheet(FIXTURES / "unknown_column.csv")
    (line,) = unused_columns(sheet, sheet.mapping)
    assert "Notes for the team (C)" in line and "--map 'Notes for the team'=FIELD" in line
    publer = open_sheet(FIXTURES / "publer_template.csv")
    assert [u.split(" was")[0] for u in unused_columns(publer, publer.mapping)] == ["Column Labels (F)"]


# 7 -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lo_encodings.macroman.csv", "lo_encodings.cp1252.csv", "lo_encodings.tab.txt",
                                  "lo_encodings.utf16.txt", "lo_encodings.semicolon.csv"])
def test_text_files_in_every_encoding_and_separator_a_spreadsheet_writes(name: str) -> None:
    first, second = judge(name)
    assert first.spec is not None and first.spec.text == "Café Müller"
    assert second.spec is not None and second.spec.text == "Crème brûlée, déjà vu"


# 8 + 11 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lo_merged_account.ods", "lo_merged_account.xlsx"])
def test_a_merged_account_cell_fills_the_rows_it_covers(name: str) -> None:
    first, second, third = judge(name)
    assert first.account_ids == second.account_ids == (2,) and third.account_ids == (1,)
    assert second.status is RowStatus.VALID
    assert any("merged with C2" in str(w) for w in second.warnings)
    assert second.spec is not None and second.spec.scheduled_at == datetime(2027, 3, 15, 9, 30, tzinfo=UTC)


# 13 ----------------------------------------------------------------------------------------------

def test_a_thread_column_adds_one_part_per_line() -> None:
    (row,) = judge("thread_column.csv")
    assert row.spec is not None and row.spec.text == "Part one"
    assert row.spec.thread == ("Part two", "Part three")


# 14 ----------------------------------------------------------------------------------------------

def test_dates_at_the_ends_of_the_calendar_are_row_errors() -> None:
    early, late, fine = judge("extreme_dates.csv")
    assert early.status is late.status is RowStatus.INVALID
    assert "0001-01-01 is not a date a post can have" in errors(early)
    assert "9999-12-31 is not a date a post can have" in errors(late)
    assert fine.status is RowStatus.VALID


# 15 ----------------------------------------------------------------------------------------------

def test_a_stray_windows_byte_in_a_utf8_file_is_read_and_reported_on_its_row() -> None:
    utf8, stray = judge("stray_cp1252_byte.csv")
    assert utf8.spec is not None and utf8.spec.text == "café in UTF-8"
    assert not utf8.warnings
    assert stray.spec is not None and stray.spec.text == "café in Windows-1252"
    assert any("0xE9 is not UTF-8" in str(w) for w in stray.warnings)


def test_an_unbalanced_quote_makes_its_row_invalid_and_names_the_swallowed_line() -> None:
    (row,) = judge("unbalanced_quote.csv")
    assert row.status is RowStatus.INVALID
    assert "not closed" in errors(row) and "Swallowed row" in errors(row)


def test_an_ods_with_an_entity_trick_or_a_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    import zipfile

    from app.core.errors import OutpostError

    source = FIXTURES / "lo_merged_account.ods"
    with zipfile.ZipFile(source) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    tricked = dict(parts)
    tricked["content.xml"] = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                              + parts["content.xml"].split(b"?>", 1)[1])
    bomb = dict(parts)
    bomb["content.xml"] = parts["content.xml"] + b" " * 20_000_000
    for name, members in (("tricked.ods", tricked), ("bomb.ods", bomb)):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED) as out:
            for member, data in members.items():
                out.writestr(member, data)
    with pytest.raises(OutpostError, match="entity tricks"):
        open_sheet(tmp_path / "tricked.ods")
    with pytest.raises(OutpostError, match="zip bomb"):
        open_sheet(tmp_path / "bomb.ods")


def test_the_thread_separator_is_what_the_help_says() -> None:
    from app.importer.rows import THREAD_BREAK

    assert "Three empty lines in a row (four line breaks)" in Field.TEXT.help
    assert THREAD_BREAK == "\n" * 4  # three empty lines between two parts
    (row,) = judge("thread_column.csv")
    assert row.spec is not None and row.spec.thread == ("Part two", "Part three")
