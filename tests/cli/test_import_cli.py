"""`outpost import`, `outpost export`, `outpost undo-import` against a real data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


# --- issue 15: files from other programs, from outside ------------------------------------------------

def outpost(data_dir: Path, *argv: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A real `outpost` process, as a person runs it."""
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


ROOT = Path(__file__).resolve().parents[2]
DAY = SOON.strftime("%d/%m/%Y")


def test_a_media_path_naming_a_fifo_is_a_row_error_not_a_hang(data_dir: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "picture.png"
    os.mkfifo(fifo)
    path = write_csv(tmp_path / "f.csv", f"Date,Text,Account,Media\n{SOON:%Y-%m-%d %H:%M},hi,alice.bsky.social,"
                                         f"{fifo}\n")
    done = outpost(data_dir, "import", path, "--dry-run", "--json", timeout=30)
    report = json.loads(done.stdout)
    assert report["rows"][0]["status"] == "invalid"
    assert "a pipe, not a regular file" in report["rows"][0]["errors"][0]


def test_a_csv_that_is_a_symlink_to_dev_zero_is_refused_in_one_line(data_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    done = outpost(data_dir, "import", link, timeout=30)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr
    assert db_counts(data_dir) == (0, 0)


def test_dates_beyond_the_calendar_are_row_errors_not_a_traceback(data_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", "Date,Text,Account\n0001-01-01 09:00,early,alice.bsky.social\n"
                                          f"9999-12-31 23:00,late,alice.bsky.social\n{SOON:%Y-%m-%d %H:%M},ok,"
                                          "alice.bsky.social\n")
    done = outpost(data_dir, "import", path, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert [r["status"] for r in report["rows"]] == ["invalid", "invalid", "valid"]


def test_a_headerless_hootsuite_file_imports_its_first_post(data_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hootsuite.csv", f"{DAY} 09:30,First post,https://example.com/a\r\n"
                                                 f"{DAY} 11:00,Second post,\r\n")
    done = outpost(data_dir, "import", path, "--account", "alice.bsky.social", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["imported"] == 2 and report["rows"][0]["row"] == 1
    assert any("Hootsuite" in w for w in report["warnings"])
    mapped = outpost(data_dir, "import", path, "--account", "alice.bsky.social", "--map", "A=Date", "--map", "B=Text",
                     "--dry-run", "--json")
    assert json.loads(mapped.stdout)["rows"][0]["row"] == 1  # the first post is not taken as a header


def test_dry_run_json_says_what_would_be_imported_and_carries_warnings(data_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "Date,Text,Account,Comment(s),Notes\n"
                                         f"{SOON:%Y-%m-%d},hello,alice.bsky.social,first!,internal\n")
    done = outpost(data_dir, "import", path, "--dry-run", "--json", "--default-time", "08:15", "--timezone", "UTC")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["would_import"] == 1 and report["imported"] == 0
    assert report["rows"][0]["status"] == "valid"
    assert any("default time 08:15" in w for w in report["rows"][0]["warnings"])
    assert any("Notes (E)" in w and "--map" in w for w in report["warnings"])
    refused = outpost(data_dir, "import", path, "--dry-run", "--json")
    assert "has no time of day" in json.loads(refused.stdout)["rows"][0]["errors"][0]


def test_map_leaves_out_one_of_several_columns_that_look_alike(data_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "two.csv", f"Date,Text,Caption,Account\n{SOON:%Y-%m-%d %H:%M},one,two,"
                                           "alice.bsky.social\n")
    refused = outpost(data_dir, "import", path, "--dry-run")
    assert refused.returncode == 2 and "--map" in refused.stderr and "'Text', 'Caption'" in refused.stderr
    done = outpost(data_dir, "import", path, "--dry-run", "--json", "--map", "Caption=")
    assert done.returncode == 0 and json.loads(done.stdout)["would_import"] == 1


def test_undo_import_refuses_an_id_sqlite_cannot_hold_in_one_line(data_dir: Path) -> None:
    done = outpost(data_dir, "undo-import", str(2**63))
    assert done.returncode == 2 and "is not an id" in done.stderr and "Traceback" not in done.stderr


def test_an_old_xls_file_says_how_to_convert_it(data_dir: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    done = outpost(data_dir, "import", old)
    assert done.returncode == 2 and "save it as .xlsx (or .ods)" in done.stderr


def test_columns_mapped_by_letter_in_a_file_without_headers_keep_the_first_row(data_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plain.csv", f"First post,{SOON:%Y-%m-%d %H:%M}\r\nSecond post,"
                                             f"{SOON + timedelta(hours=1):%Y-%m-%d %H:%M}\r\n")
    done = outpost(data_dir, "import", path, "--map", "A=Text", "--map", "B=Date", "--account", "alice.bsky.social",
                   "--dry-run", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and [r["row"] for r in report["rows"]] == [1, 2] and report["would_import"] == 2
