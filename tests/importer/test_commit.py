"""Import into a real data folder: duplicates against the calendar, batches, undo, cancel, export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.errors import OutpostError
from app.core.models import Platform, PostSpec, TargetStatus
from app.engine.runtime import Runtime
from app.importer.commit import commit, judge, undo
from app.importer.export import export
from app.importer.rows import ImportOptions, RowStatus, open_sheet
from app.store import importing
from app.store.schema import ImportBatch, Post, Target
from tests.importer.sheets import write_xlsx

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OPTS = ImportOptions(timezone="Europe/Berlin")


def open_runtime(data_dir: Path) -> Runtime:
    rt = Runtime.open(data_dir, exclusive=False, clock=lambda: NOW)
    rt.planner.add_account(Platform.MASTODON, "alice@mastodon.social", display_name="Alice")
    rt.planner.add_account(Platform.BLUESKY, "alice.bsky.social", display_name="Alice")
    return rt


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = open_runtime(tmp_path / "data")
    yield runtime
    runtime.close()


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.db.read() as s:
        return (s.scalar(select(func.count()).select_from(Post)) or 0,
                s.scalar(select(func.count()).select_from(Target)) or 0,
                s.scalar(select(func.count()).select_from(ImportBatch)) or 0)


def sheet_file(tmp_path: Path, name: str = "posts.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [
        ["Date", "Text", "Account"],
        [datetime(2026, 7, 1, 9, 30), "First", "alice@mastodon.social"],
        [datetime(2026, 7, 2, 9, 30), "Second", "alice.bsky.social, alice@mastodon.social"],
        ["2026-01-01 09:00", "Too late", "alice@mastodon.social"],
        ["2026-07-03 09:30", "Third", "sandbox"],
    ])


def run_import(rt: Runtime, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    sheet = open_sheet(path)
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    return rows, commit(rt, rows, source_name=path.name, **kw)  # type: ignore[arg-type]


def test_valid_rows_become_posts_in_one_batch(rt: Runtime, tmp_path: Path) -> None:
    rows, result = run_import(rt, sheet_file(tmp_path))
    assert [r.status for r in rows] == [RowStatus.VALID, RowStatus.VALID, RowStatus.INVALID, RowStatus.VALID]
    assert sorted(result.post_ids) == [2, 3, 5] and result.refused == {}
    second = rt.planner.post(result.post_ids[3])
    assert second.text == "Second" and second.scheduled_at == datetime(2026, 7, 2, 7, 30, tzinfo=UTC)
    assert {t.status for t in second.targets} == {TargetStatus.SCHEDULED} and len(second.targets) == 2
    with rt.db.read() as s:
        batch = s.get(ImportBatch, result.batch_id)
        assert batch is not None and batch.imported_count == 3 and batch.row_count == 4
        assert importing.batch_post_ids(s, batch.id) == sorted(result.post_ids.values())
    in_calendar = rt.planner.posts_between(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 4, tzinfo=UTC))
    assert [p.id for p in in_calendar] == sorted(result.post_ids.values())


def test_importing_the_same_file_again_creates_no_duplicates(rt: Runtime, tmp_path: Path) -> None:
    path = sheet_file(tmp_path)
    run_import(rt, path)
    before = counts(rt)
    sheet = open_sheet(path)
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    assert [r.status for r in rows] == [RowStatus.DUPLICATE, RowStatus.DUPLICATE, RowStatus.INVALID, RowStatus.DUPLICATE]
    assert "already in the calendar" in str(rows[0].errors[0])
    with pytest.raises(OutpostError, match="No row can be imported"):
        commit(rt, rows, source_name=path.name)
    assert counts(rt) == before


def test_a_post_created_in_the_editor_is_a_duplicate_within_24_hours(rt: Runtime, tmp_path: Path) -> None:
    account = rt.planner.find_account("alice@mastodon.social")
    rt.planner.create_post(PostSpec("First", (account.id,), datetime(2026, 7, 1, 20, 0, tzinfo=UTC), "UTC"))
    sheet = open_sheet(sheet_file(tmp_path))
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    assert rows[0].status is RowStatus.DUPLICATE and rows[1].status is RowStatus.VALID


def test_all_or_nothing_refuses_a_file_with_a_bad_row_and_writes_nothing(rt: Runtime, tmp_path: Path) -> None:
    before = counts(rt)
    with pytest.raises(OutpostError, match=r"1 of 4 rows have problems \(first: row 4\); nothing was imported"):
        run_import(rt, sheet_file(tmp_path), all_or_nothing=True)
    assert counts(rt) == before


def test_a_planner_refusal_undoes_an_all_or_nothing_import(rt: Runtime, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    path = write_xlsx(tmp_path / "m.xlsx", [["Date", "Text", "Account", "Media"]] + [
        [datetime(2026, 7, 1, 9, i), f"post {i}", "sandbox", "cat.png" if i == 3 else None] for i in range(5)])
    sheet = open_sheet(path)
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    assert all(r.status is RowStatus.VALID for r in rows)
    image.unlink()  # gone between the preview and the import
    before = counts(rt)
    with pytest.raises(OutpostError, match=r"Row 5: .*Nothing was imported"):
        commit(rt, rows, source_name="m.xlsx", all_or_nothing=True, chunk=2)
    assert counts(rt)[:2] == before[:2]
    result = commit(rt, rows, source_name="m.xlsx", chunk=2)
    assert sorted(result.post_ids) == [2, 3, 4, 6] and list(result.refused) == [5]
    assert "no file" in result.refused[5]


def test_undo_removes_the_whole_import_but_keeps_published_posts(rt: Runtime, tmp_path: Path) -> None:
    before = counts(rt)
    _, result = run_import(rt, sheet_file(tmp_path))
    assert result.batch_id is not None
    published_id = result.post_ids[5]
    with rt.db.write() as s:
        for t in s.scalars(select(Target).where(Target.post_id == published_id)):
            t.status = TargetStatus.PUBLISHED.value
    outcome = undo(rt, result.batch_id)
    assert (outcome.deleted, outcome.kept) == (2, 1)
    posts, targets, batches = counts(rt)
    assert (posts, targets) == (before[0] + 1, before[1] + 1) and batches == before[2] + 1
    with rt.db.read() as s:
        batch = s.get(ImportBatch, result.batch_id)
        assert batch is not None and batch.undone_at is not None


def test_cancel_midway_leaves_nothing_behind(rt: Runtime, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [["Date", "Text", "Account"]] + [
        [datetime(2026, 7, 1, 9, 0) + timedelta(hours=i), f"post {i}", "sandbox"] for i in range(10)])
    sheet = open_sheet(path)
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    before = counts(rt)[:2]
    seen: list[tuple[int, int]] = []
    result = commit(rt, rows, source_name="c.xlsx", chunk=3, progress=lambda d, t: seen.append((d, t)),
                    cancelled=lambda: len(seen) >= 3)
    assert result.cancelled and result.imported == 0
    assert seen == [(0, 10), (3, 10), (6, 10)]
    assert counts(rt)[:2] == before


def test_as_drafts_creates_drafts(rt: Runtime, tmp_path: Path) -> None:
    _, result = run_import(rt, sheet_file(tmp_path), as_drafts=True)
    assert {t.status for pid in result.post_ids.values() for t in rt.planner.post(pid).targets} == {TargetStatus.DRAFT}


def test_export_from_the_calendar_imports_losslessly_into_another_data_folder(rt: Runtime, tmp_path: Path) -> None:
    mastodon = rt.planner.find_account("alice@mastodon.social")
    bluesky = rt.planner.find_account("alice.bsky.social")
    specs = [
        PostSpec("=cmd|' /C calc'!A0", (mastodon.id,), datetime(2026, 7, 1, 7, 30, tzinfo=UTC), "Europe/Berlin",
                 first_comment="@everyone look", thread=("part two",)),
        PostSpec("weekly", (mastodon.id, bluesky.id), datetime(2026, 7, 6, 16, 0, tzinfo=UTC), "America/New_York",
                 recurrence={"kind": "weekly", "weekdays": [0, 3], "until": "2026-09-30"}),
        PostSpec("an idea", (bluesky.id,), None, "UTC", draft=True),
    ]
    ids = [rt.planner.create_post(s) for s in specs]
    originals = [rt.planner.post(i) for i in ids]
    with rt.db.read() as s:
        rows = importing.export_rows(s, None, None)
    for name in ("out.xlsx", "out.csv"):
        export(rows, tmp_path / name)
        other = open_runtime(tmp_path / f"other-{name}")
        try:
            sheet = open_sheet(tmp_path / name)
            judged = judge(other, sheet, sheet.mapping, ImportOptions(timezone="Asia/Tokyo"))
            assert [r.status for r in judged] == [RowStatus.VALID] * 3, [str(e) for r in judged for e in r.errors]
            result = commit(other, judged, source_name=name)
            copies = [other.planner.post(result.post_ids[n]) for n in (2, 3, 4)]
            for a, b in zip(originals, copies, strict=True):
                assert (b.text, b.thread, b.first_comment, b.scheduled_at, b.timezone, b.recurrence, b.status) == (
                    a.text, a.thread, a.first_comment, a.scheduled_at, a.timezone, a.recurrence, a.status)
                assert [t.account_id for t in b.targets] == [t.account_id for t in a.targets]
        finally:
            other.close()


def test_export_honours_the_date_range(rt: Runtime) -> None:
    account = rt.planner.find_account("sandbox")
    for day in (1, 2, 3):
        rt.planner.create_post(PostSpec(f"day {day}", (account.id,), datetime(2026, 7, day, 9, tzinfo=UTC), "UTC"))
    rt.planner.create_post(PostSpec("undated", (account.id,), None, "UTC", draft=True))
    with rt.db.read() as s:
        ranged = importing.export_rows(s, datetime(2026, 7, 2, tzinfo=UTC), datetime(2026, 7, 3, tzinfo=UTC))
        everything = importing.export_rows(s, None, None)
    assert [r.text for r in ranged] == ["day 2"]
    assert [r.text for r in everything] == ["day 1", "day 2", "day 3", "undated"]


def stored(rt: Runtime, post_id: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """A post and its targets as the database holds them, minus what differs between two posts."""
    volatile = {"id", "post_id", "created_at", "updated_at", "import_batch_id", "series_id"}
    with rt.db.read() as s:
        conn = s.connection()
        post = dict(conn.exec_driver_sql("SELECT * FROM post WHERE id = ?", (post_id,)).mappings().one())
        targets = [dict(t) for t in conn.exec_driver_sql(
            "SELECT * FROM target WHERE post_id = ? ORDER BY account_id", (post_id,)).mappings()]
    return ({k: v for k, v in post.items() if k not in volatile},
            [{k: v for k, v in t.items() if k not in volatile} for t in targets])


def test_the_set_commit_stores_posts_exactly_as_the_planner_does(rt: Runtime, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "same.xlsx", [
        ["Date", "Text", "Account", "Media", "First comment", "Repeat", "Status"],
        [datetime(2026, 7, 1, 9, 30), "Plain", "alice@mastodon.social", None, None, None, None],
        [datetime(2026, 7, 2, 9, 30), "Two accounts", "alice.bsky.social, alice@mastodon.social",
         "https://cdn.example.com/a.jpg", "first!", None, None],
        [datetime(2026, 7, 3, 9, 30), "Weekly", "alice.bsky.social", None, None, "weekly:mon,thu", None],
        [None, "A draft", "alice@mastodon.social", None, None, None, "draft"],
    ])
    rows, result = run_import(rt, path)
    assert result.imported == 4
    for row in rows:
        assert row.spec is not None
        twin_spec = row.spec.__class__(**{**row.spec.__dict__, "text": row.spec.text})
        twin = rt.planner.create_post(twin_spec)
        assert stored(rt, result.post_ids[row.number]) == stored(rt, twin), row.number


def test_a_commit_tells_the_publisher_once(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[str] = []
    monkeypatch.setattr(rt.planner, "notify_changed", lambda kind="posts": told.append(kind))
    path = write_xlsx(tmp_path / "many.xlsx", [["Date", "Text", "Account"]] + [
        [datetime(2026, 7, 1, 9, 0) + timedelta(hours=i), f"post {i}", "sandbox"] for i in range(30)])
    _, result = run_import(rt, path, chunk=7)
    assert result.imported == 30 and told == ["posts"]


def test_a_post_added_after_the_preview_makes_its_row_a_duplicate_at_commit(rt: Runtime, tmp_path: Path) -> None:
    sheet = open_sheet(sheet_file(tmp_path))
    rows = judge(rt, sheet, sheet.mapping, OPTS)
    alice = rt.planner.find_account("alice@mastodon.social").id
    rt.planner.create_post(PostSpec(text="First", account_ids=(alice,), scheduled_at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
                                    timezone="Europe/Berlin"))
    result = commit(rt, rows, source_name="posts.xlsx")
    assert "Same text on the same account" in result.refused[2] and 2 not in result.post_ids
