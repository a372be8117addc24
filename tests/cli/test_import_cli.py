"""`outpost import`, `outpost export`, `outpost undo-import` against a real data folder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.core.models import Platform, TargetStatus
from app.engine.runtime import Runtime
from app.store.schema import ImportBatch, Post
from tests.importer.sheets import write_csv, write_xlsx

SOON = (datetime.now() + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    rt = Runtime.open(d, exclusive=False)
    rt.planner.add_account(Platform.MASTODON, "alice@mastodon.social")
    rt.planner.add_account(Platform.BLUESKY, "alice.bsky.social")
    rt.close()
    return d


def db_counts(data_dir: Path) -> tuple[int, int]:
    rt = Runtime.open(data_dir, exclusive=False)
    try:
        with rt.db.read() as s:
            return (s.scalar(select(func.count()).select_from(Post)) or 0,
                    s.scalar(select(func.count()).select_from(ImportBatch)) or 0)
    finally:
        rt.close()


def posts_file(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "posts.xlsx", [
        ["Social calendar"],
        ["Scheduled at", "Caption", "Profile"],
        [SOON, "One", "alice@mastodon.social"],
        [SOON + timedelta(days=1), "Two", "alice.bsky.social"],
        [SOON - timedelta(days=400), "Old", "alice@mastodon.social"],
        [SOON + timedelta(days=2), "Three", None],
    ])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_json_reports_every_row_with_its_spreadsheet_number(data_dir: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", posts_file(tmp_path), "--account", "alice.bsky.social",
                       "--timezone", "Europe/Berlin", "--json")
    assert code == 0
    report = json.loads(out)
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(3, "valid"), (4, "valid"), (5, "invalid"), (6, "valid")]
    assert report["imported"] == 3 and report["skipped"] == 1
    assert "in the past" in report["rows"][2]["errors"][0] and report["rows"][2]["post_id"] is None
    rt = Runtime.open(data_dir, exclusive=False)
    try:
        three = rt.planner.post(report["rows"][3]["post_id"])
        assert three.text == "Three" and [t.account_id for t in three.targets] == [
            rt.planner.find_account("alice.bsky.social").id]
        assert three.timezone == "Europe/Berlin"
    finally:
        rt.close()


def test_dry_run_changes_nothing(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = db_counts(data_dir)
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", posts_file(tmp_path), "--dry-run")
    assert code == 0 and "Dry run: 2 of 4 rows would be imported" in out
    assert "row 6 (invalid): Profile (C): No account" in out
    assert db_counts(data_dir) == before


@pytest.mark.parametrize(("content", "message"), [
    (b"PK\x03\x04 definitely not a workbook", "not an Excel workbook"),
    (b"", "empty"),
])
def test_a_rejected_file_exits_non_zero_with_one_line_and_changes_nothing(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str) -> None:
    path = tmp_path / "evil.xlsx"
    path.write_bytes(content)
    before = db_counts(data_dir)
    code, out, err = run(capsys, "--data-dir", data_dir, "import", path, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert db_counts(data_dir) == before


def test_all_or_nothing_refuses_and_changes_nothing(data_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = db_counts(data_dir)
    code, out, err = run(capsys, "--data-dir", data_dir, "import", posts_file(tmp_path), "--all-or-nothing", "--json")
    assert code == 2 and "nothing was imported" in err and err.count("\n") == 1
    assert json.loads(out)["imported"] == 0
    assert db_counts(data_dir) == before


def test_reimporting_reports_duplicates_and_exits_non_zero(data_dir: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = posts_file(tmp_path)
    assert run(capsys, "--data-dir", data_dir, "import", path, "--account", "alice.bsky.social")[0] == 0
    before = db_counts(data_dir)
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", path, "--account", "alice.bsky.social", "--json")
    assert code == 2
    assert [r["status"] for r in json.loads(out)["rows"]] == ["duplicate", "duplicate", "invalid", "duplicate"]
    assert db_counts(data_dir) == before


def test_as_drafts_and_undo(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = db_counts(data_dir)
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", posts_file(tmp_path), "--as-drafts", "--json",
                       "--account", "alice.bsky.social")
    report = json.loads(out)
    rt = Runtime.open(data_dir, exclusive=False)
    try:
        statuses = {t.status for r in report["rows"] if r["post_id"] for t in rt.planner.post(r["post_id"]).targets}
    finally:
        rt.close()
    assert code == 0 and statuses == {TargetStatus.DRAFT}
    code, out, _ = run(capsys, "--data-dir", data_dir, "undo-import", report["batch_id"])
    assert code == 0 and "3 posts removed" in out
    assert db_counts(data_dir)[0] == before[0]


def test_export_then_import_round_trip(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--data-dir", data_dir, "import", posts_file(tmp_path), "--account", "alice.bsky.social",
        "--timezone", "America/New_York")
    first_day = SOON.date()
    for name in ("out.xlsx", "out.csv"):
        code, out, _ = run(capsys, "--data-dir", data_dir, "export", tmp_path / name, "--from", first_day.isoformat(),
                           "--to", (first_day + timedelta(days=1)).isoformat(), "--timezone", "America/New_York")
        assert code == 0 and "Exported 2 posts" in out
        other = tmp_path / f"other-{name}"
        rt = Runtime.open(other, exclusive=False)
        rt.planner.add_account(Platform.MASTODON, "alice@mastodon.social")
        rt.planner.add_account(Platform.BLUESKY, "alice.bsky.social")
        rt.close()
        code, out, _ = run(capsys, "--data-dir", other, "import", tmp_path / name, "--json", "--timezone", "UTC")
        report = json.loads(out)
        assert code == 0 and report["imported"] == 2
        a, b = Runtime.open(data_dir, exclusive=False), Runtime.open(other, exclusive=False)
        try:
            src = [(p.text, p.scheduled_at, p.timezone) for p in a.planner.posts() if p.text in ("One", "Two")]
            dst = [(p.text, p.scheduled_at, p.timezone) for p in b.planner.posts()]
            assert sorted(src) == sorted(dst)
        finally:
            a.close()
            b.close()


def test_ambiguous_dates_ask_for_an_order(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    year = SOON.year + 1
    path = write_csv(tmp_path / "d.csv", f"Date;Text;Account\n03/04/{year} 10:00;hello;alice.bsky.social\n")
    code, out, err = run(capsys, "--data-dir", data_dir, "import", path, "--dry-run")
    assert "--date-order" in err and "could be 3 April or 4 March" in out
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", path, "--date-order", "month-first", "--json",
                       "--timezone", "UTC")
    report = json.loads(out)
    assert code == 0 and report["imported"] == 1
    rt = Runtime.open(data_dir, exclusive=False)
    try:
        when = rt.planner.post(report["rows"][0]["post_id"]).scheduled_at
    finally:
        rt.close()
    assert when is not None and (when.month, when.day) == (3, 4)


def test_files_without_a_text_column_are_refused(data_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "n.csv", "When,What\n2030-01-01 10:00,x\n")
    code, _, err = run(capsys, "--data-dir", data_dir, "import", path)
    assert code == 2 and "No Text column" in err and "When, What" in err


def test_map_reads_a_column_the_importer_does_not_know(data_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    when = (SOON + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    path = write_csv(tmp_path / "m.csv", f"When,Words,Notes\n{when},hello there,internal\n")
    code, _, err = run(capsys, "--data-dir", data_dir, "import", path, "--dry-run")
    assert code == 2 and "No Text column" in err
    code, out, _ = run(capsys, "--data-dir", data_dir, "import", path, "--map", "Words=Text", "--map", "C=",
                       "--account", "alice.bsky.social", "--json")
    report = json.loads(out)
    assert code == 0 and report["imported"] == 1
    code, _, err = run(capsys, "--data-dir", data_dir, "import", path, "--map", "Words=Body text")
    assert code == 2 and "is not a field" in err
