"""Rows judged valid, invalid (with a reason) or duplicate (reliability.md §7 E 35, 37, 38)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.models import MediaKind
from app.importer.columns import Field
from app.importer.dates import DateOrder
from app.importer.duplicates import ExistingPost
from app.importer.rows import ImportOptions, RowStatus, needs_date_order, open_sheet, parse_rows, prepare
from tests.importer.sheets import ACCOUNTS, NOW, write_csv, write_xlsx

OPTS = ImportOptions(timezone="Europe/Berlin")
HEAD = ["Date", "Text", "Account"]


def judge(tmp_path: Path, rows: list[list[object]], options: ImportOptions = OPTS, **kw: object):  # type: ignore[no-untyped-def]
    path = write_xlsx(tmp_path / "posts.xlsx", rows)
    return prepare(path, ACCOUNTS, options, NOW, **kw)[1]  # type: ignore[arg-type]


def test_a_valid_row_becomes_a_post_spec(tmp_path: Path) -> None:
    [row] = judge(tmp_path, [[*HEAD, "First comment", "Title"],
                             [datetime(2026, 7, 1, 9, 30), "Hello\n\nworld", "alice_x", "more below", "T"]])
    assert row.status is RowStatus.VALID and row.number == 2 and row.errors == ()
    spec = row.spec
    assert spec is not None
    assert spec.text == "Hello\n\nworld" and spec.account_ids == (3,)
    assert spec.scheduled_at == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert spec.timezone == "Europe/Berlin" and spec.first_comment == "more below" and spec.title == "T"
    assert not spec.draft and spec.recurrence is None


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        (["2026-01-02 09:30", "hi", "alice_x"], "Date (A)", "is in the past"),
        (["2026-07-01 09:30", None, "alice_x"], "Text (B)", "text is missing"),
        (["in a while", "hi", "alice_x"], "Date (A)", "not a date I can read"),
        (["2026-07-01 09:30", "x" * 300, "alice_x"], "Text (B)", "X allows 280"),
        (["2026-07-01 09:30", "y" * 301, "alice.bsky.social"], "Text (B)", "Bluesky allows 300"),
        (["2026-07-01 09:30", "hi", "bob"], "Account (C)", "No account called 'bob'"),
        (["2026-07-01 09:30", "hi", "alice"], "Account (C)", "matches 2 accounts"),
        ([None, "hi", "alice_x"], "Date (A)", "date is missing"),
        (["=NOW()", "hi", "alice_x"], "Date (A)", "formula without a saved value"),
        (["2026-07-01 09:30", "a picture", "alice.pics"], "Media", "Instagram needs at least one image"),
    ],
)
def test_invalid_rows_name_the_column_and_a_reason(tmp_path: Path, cells: list[object], column: str, reason: str) -> None:
    [row] = judge(tmp_path, [HEAD, cells])
    assert row.status is RowStatus.INVALID and row.spec is None
    assert any(e.column == column and reason in e.message for e in row.errors), [str(e) for e in row.errors]


def test_three_bad_rows_among_fifty_are_all_reported_with_row_and_value(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Posts for July"], HEAD]
    for i in range(50):
        rows.append([datetime(2026, 7, 1, 9, 0) + timedelta(days=i), f"post {i}", "alice_x"])
    rows[2 + 10][0] = "someday"
    rows[2 + 20][1] = None
    rows[2 + 30][2] = "carol"
    judged = judge(tmp_path, rows)
    assert len(judged) == 50
    bad = [(r.number, str(r.errors[0]), r.errors[0].value) for r in judged if r.status is RowStatus.INVALID]
    assert [b[0] for b in bad] == [13, 23, 33]  # the row numbers Excel shows (title row, then header)
    assert bad[0][1].startswith("Date (A)") and bad[0][2] == "someday"
    assert bad[1][1].startswith("Text (B)")
    assert bad[2][1].startswith("Account (C)") and bad[2][2] == "carol"
    assert sum(r.status is RowStatus.VALID for r in judged) == 47


def test_text_that_looks_like_a_formula_stays_literal(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", 'Date,Text,Account\n2026-07-01 09:30,=HYPERLINK("http://x"),alice_x\n'
                                         "2026-07-02 09:30,+1 for this,alice_x\n2026-07-03 09:30,-- dashes,alice_x\n"
                                         "2026-07-04 09:30,@bob hello,alice_x\n")
    judged = prepare(path, ACCOUNTS, OPTS, NOW)[1]
    assert [r.spec.text for r in judged if r.spec] == ['=HYPERLINK("http://x")', "+1 for this", "-- dashes", "@bob hello"]


def test_the_export_guard_apostrophe_is_removed_and_only_that(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "g.csv", "Date,Text,Account\n2026-07-01 09:30,'=1+1,alice_x\n"
                                         "2026-07-02 09:30,'quoted,alice_x\n2026-07-03 09:30,''@x,alice_x\n")
    judged = prepare(path, ACCOUNTS, OPTS, NOW)[1]
    assert [r.spec.text for r in judged if r.spec] == ["=1+1", "'quoted", "'@x"]


def test_header_variants_and_multi_line_text_are_kept(tmp_path: Path) -> None:
    for header in ("Scheduled Time", "scheduled_time", "Date", "Publish at", "postAtSpecificTime"):
        path = write_csv(tmp_path / "v.csv", f'{header},Content,Profile\n2026-07-01 09:30,"one\ntwo\n\nfour",alice_x\n')
        sheet, judged = prepare(path, ACCOUNTS, OPTS, NOW)
        assert sheet.mapping.columns == {Field.DATE: 1, Field.TEXT: 2, Field.ACCOUNT: 3}
        assert judged[0].spec is not None and judged[0].spec.text == "one\ntwo\n\nfour"


def test_platform_column_alone_picks_the_only_account_there(tmp_path: Path) -> None:
    judged = judge(tmp_path, [["Date", "Text", "Platform"], ["2026-07-01 09:30", "hi", "Twitter"],
                              ["2026-07-01 09:30", "hi", "Bluesky, X"], ["2026-07-01 09:30", "hi", "TikTok"]])
    assert judged[0].account_ids == (3,)
    assert judged[1].account_ids == (2, 3)
    assert "no TikTok account" in str(judged[2].errors[0])
    [two] = judge(tmp_path, [["Date", "Text", "Platform"], ["2026-07-01 09:30", "hi", "Mastodon"]])
    assert "You have 2 Mastodon accounts" in str(two.errors[0])


def test_account_references(tmp_path: Path) -> None:
    cells = ["3", "@alice_x", "mastodon:alice@mastodon.social", "Alice Pics", "Alice X (X)", "bluesky:alice.bsky.social; alice_x"]
    judged = judge(tmp_path, [HEAD] + [["2026-07-01 09:30", "hi", c] for c in cells],
                   ImportOptions(timezone="UTC"))
    assert [r.account_ids for r in judged[:5]] == [(3,), (3,), (1,), (4,), (3,)]
    assert judged[5].account_ids == (2, 3)


def test_default_account_fills_empty_account_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Date", "Text"], ["2026-07-01 09:30", "hi"]]
    assert "No account" in str(judge(tmp_path, rows)[0].errors[0])
    [row] = judge(tmp_path, rows, ImportOptions(timezone="UTC", default_account_id=2))
    assert row.account_ids == (2,) and row.status is RowStatus.VALID


def test_naive_times_use_the_row_zone_then_the_chosen_zone(tmp_path: Path) -> None:
    judged = judge(tmp_path, [[*HEAD, "Time zone"], ["2026-07-01 09:30", "a", "alice_x", "America/New_York"],
                              ["2026-07-01 09:30", "b", "alice_x", None], ["2026-07-01 09:30", "c", "alice_x", "Mars/Base"]])
    assert judged[0].spec is not None and judged[0].spec.scheduled_at == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert judged[0].spec.timezone == "America/New_York"
    assert judged[1].spec is not None and judged[1].spec.scheduled_at == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert "Unknown time zone" in str(judged[2].errors[0])


def test_dst_gap_rows_are_valid_with_a_warning(tmp_path: Path) -> None:
    [row] = judge(tmp_path, [HEAD, ["2027-03-28 02:30", "gap", "alice_x"]])
    assert row.status is RowStatus.VALID and "does not exist" in str(row.warnings[0])


def test_ambiguous_dates_ask_for_an_order(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "o.xlsx", [HEAD, ["03/04/2027 10:00", "a", "alice_x"], ["2027-05-01 10:00", "b", "alice_x"]])
    sheet = open_sheet(path)
    assert needs_date_order(sheet, sheet.mapping)
    judged = parse_rows(sheet, sheet.mapping, ACCOUNTS, OPTS, NOW)
    assert judged[0].status is RowStatus.INVALID and "day-first or month-first" in str(judged[0].errors[0])
    judged = parse_rows(sheet, sheet.mapping, ACCOUNTS, ImportOptions(timezone="UTC", date_order=DateOrder.MONTH_FIRST), NOW)
    assert judged[0].spec is not None and judged[0].spec.scheduled_at == datetime(2027, 3, 4, 10, 0, tzinfo=UTC)


def test_a_file_mixing_date_orders_is_flagged(tmp_path: Path) -> None:
    judged = judge(tmp_path, [HEAD, ["25/12/2026 10:00", "a", "alice_x"], ["12/24/2026 10:00", "b", "alice_x"],
                              ["03/04/2027 10:00", "c", "alice_x"]])
    assert [r.status for r in judged] == [RowStatus.VALID, RowStatus.VALID, RowStatus.INVALID]
    assert "mixes day-first and month-first" in str(judged[2].errors[0])


def test_drafts_may_have_no_date(tmp_path: Path) -> None:
    judged = judge(tmp_path, [[*HEAD, "Status"], [None, "idea", "alice_x", "draft"], [None, "other", "alice_x", None],
                              ["2026-07-01 10:00", "x", "alice_x", "sometime"]])
    assert judged[0].spec is not None and judged[0].spec.draft and judged[0].spec.scheduled_at is None
    assert judged[1].status is RowStatus.INVALID
    assert "not a status" in str(judged[2].errors[0])
    as_drafts = judge(tmp_path, [HEAD, [None, "other", "alice_x"]], ImportOptions(timezone="UTC", as_drafts=True))
    assert as_drafts[0].spec is not None and as_drafts[0].spec.draft


def test_media_files_and_urls(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    (tmp_path / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    (tmp_path / "fake.jpg").write_bytes(b"not an image at all")
    judged = judge(tmp_path, [[*HEAD, "Media URLs"],
                              ["2026-07-01 09:30", "a", "alice@mastodon.social", "cat.png | https://x.test/a.jpg"],
                              ["2026-07-01 09:30", "b", "alice@mastodon.social", "clip.mp4"],
                              ["2026-07-01 09:30", "c", "alice@mastodon.social", "fake.jpg"],
                              ["2026-07-01 09:30", "d", "alice@mastodon.social", "missing.png"],
                              ["2026-07-01 09:30", "e", "alice@mastodon.social", "ftp://x.test/a.png"],
                              ["2026-07-01 09:30", "f", "alice@mastodon.social", "cat.png\nclip.mp4"],
                              ["2026-07-01 09:30", "g", "alice@mastodon.social", "https://x.test/a.jpg, https://x.test/b.gif"]])
    spec = judged[0].spec
    assert spec is not None and [m.kind for m in spec.media] == [MediaKind.IMAGE, MediaKind.IMAGE]
    assert spec.media[0].source == str((tmp_path / "cat.png").resolve()) and spec.media[0].mime_type == "image/png"
    assert judged[1].spec is not None and judged[1].spec.media[0].kind is MediaKind.VIDEO
    assert "not an image or video" in str(judged[2].errors[0])
    assert "not found" in str(judged[3].errors[0])
    assert "http(s)://" in str(judged[4].errors[0])
    assert "cannot mix images and videos" in str(judged[5].errors[0])
    assert judged[6].spec is not None and [m.kind for m in judged[6].spec.media] == [MediaKind.IMAGE, MediaKind.GIF]


def test_repeat_column(tmp_path: Path) -> None:
    judged = judge(tmp_path, [[*HEAD, "Repeat", "Repeat until"],
                              ["2026-07-01 09:30", "a", "alice_x", "weekly:mon,thu", "2026-08-31"],
                              ["2026-07-01 09:30", "b", "alice_x", "fortnightly", None],
                              ["2026-07-01 09:30", "c", "alice_x", "once", None]])
    rec = judged[0].spec.recurrence if judged[0].spec else None
    assert rec is not None and rec["kind"] == "weekly" and rec["weekdays"] == [0, 3] and rec["until"] == "2026-08-31"
    assert "Unknown repeat" in str(judged[1].errors[0])
    assert judged[2].spec is not None and judged[2].spec.recurrence is None


def test_thread_parts_split_on_four_newlines(tmp_path: Path) -> None:
    [row] = judge(tmp_path, [HEAD, ["2026-07-01 09:30", "one\n\n\n\ntwo\n\n\n\nthree", "alice_x"]])
    assert row.spec is not None and row.spec.text == "one" and row.spec.thread == ("two", "three")


def test_duplicates_within_the_file(tmp_path: Path) -> None:
    judged = judge(tmp_path, [HEAD, ["2026-07-01 09:30", "Same  text", "alice_x"],
                              ["2026-07-01 20:00", "Same text", "alice_x"],
                              ["2026-07-03 09:30", "Same text", "alice_x"],
                              ["2026-07-01 09:30", "Same text", "alice.bsky.social"]])
    assert [r.status for r in judged] == [RowStatus.VALID, RowStatus.DUPLICATE, RowStatus.VALID, RowStatus.VALID]
    assert "as row 2" in str(judged[1].errors[0])


def test_duplicates_of_existing_posts_within_24_hours(tmp_path: Path) -> None:
    existing = [ExistingPost(3, "Launch day!", datetime(2026, 7, 1, 6, 0, tzinfo=UTC), post_id=41)]
    judged = judge(tmp_path, [HEAD, ["2026-07-01 09:30", "Launch day!", "alice_x"],
                              ["2026-07-02 09:30", "Launch day!", "alice_x"],
                              ["2026-07-01 09:30", "Launch day!", "alice.bsky.social"]], existing=existing)
    assert [r.status for r in judged] == [RowStatus.DUPLICATE, RowStatus.VALID, RowStatus.VALID]
    assert "post #41" in str(judged[0].errors[0])


def test_error_cells_and_formulas_elsewhere_are_row_errors(tmp_path: Path) -> None:
    [row] = judge(tmp_path, [HEAD, ["2026-07-01 09:30", "=A1&\"!\"", "alice_x"]])
    assert row.status is RowStatus.INVALID and "formula without a saved value" in str(row.errors[0])
    assert row.cell(Field.TEXT) == "(formula without value)"


def test_now_decides_what_is_past(tmp_path: Path) -> None:
    rows: list[list[object]] = [HEAD, ["2026-06-01 14:30", "soon", "alice_x"]]  # 12:30 UTC
    assert judge(tmp_path, rows)[0].status is RowStatus.VALID
    later = prepare(write_xlsx(tmp_path / "p.xlsx", rows), ACCOUNTS, OPTS, NOW + timedelta(hours=1))[1]
    assert later[0].status is RowStatus.INVALID


def test_a_row_reports_all_its_problems_at_once(tmp_path: Path) -> None:
    [row] = judge(tmp_path, [HEAD, ["someday", None, "bob"]])
    assert [e.column for e in row.errors] == ["Account (C)", "Date (A)", "Text (B)"]


@given(st.lists(st.sampled_from([" ", "\t", "\n", "\r", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000",
                                  "a", "é", "e\u0301", "Å", "A\u030a"]), max_size=12).map("".join))
def test_the_duplicate_key_is_the_text_with_tidy_spacing_and_composed_accents(text: str) -> None:
    import unicodedata

    from app.importer.duplicates import text_key

    assert text_key(text) == " ".join(unicodedata.normalize("NFC", text).split())
