"""How long a whole import takes (read + validate + commit), against a baseline of the same work
done bare: openpyxl read-only iteration of the same file plus sqlite3 `executemany` of the same
rows into tables of the same shape (post + target).

    .venv/bin/python bench/import.py [--rows 10000 50000] [--repeat 1]

Both sides are measured in the same run on the same file; the best of `--repeat` runs counts.
The importer's figure covers everything a real import does: hostile-file checks, reading,
header detection, mapping, dates, per-account platform validation, the duplicate query, the
planner's checks again at commit, and writing the posts in one ImportBatch (one transaction)
to a real SQLite data folder. Goal: at most 3x the baseline. Peak memory (max RSS) of a whole
50,000-row import is measured in a fresh subprocess; goal: at most 250 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl

from app.core.models import Platform
from app.engine.runtime import Runtime
from app.importer.commit import commit, judge
from app.importer.rows import ImportOptions, open_sheet

ACCOUNTS = ("alice@mastodon.social", "alice.bsky.social", "sandbox")
WORDS = ("launch", "summer", "sale", "behind", "the", "scenes", "thanks", "for", "reading", "new", "video",
         "out", "now", "🎉", "link", "in", "bio", "café", "über", "today")


def write_sheet(path: Path, rows: int) -> None:
    # Normal mode, like Excel, writes the sheet's <dimension>; write-only files lack it and make
    # every read-only open scan the whole sheet first.
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Posts"
    ws.append(["Date", "Time zone", "Account", "Text", "Media", "First comment", "Repeat", "Status"])
    start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=2)
    for i in range(rows):
        words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(8 + i % 25))
        ws.append([
            start + timedelta(minutes=37 * i),
            "Europe/Berlin" if i % 3 else None,
            ACCOUNTS[i % 3] if i % 10 else f"{ACCOUNTS[0]}, {ACCOUNTS[1]}",
            f"Post {i}: {words} https://example.com/p/{i}",
            f"https://cdn.example.com/img/{i}.jpg" if i % 4 == 0 else None,
            "More in the thread" if i % 5 == 0 else None,
            "weekly:mon" if i % 97 == 0 else None,
            "scheduled",
        ])
    wb.save(path)


def bare_read(path: Path) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.active
        assert ws is not None
        return [row for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def baseline(path: Path, db_path: Path) -> int:
    """openpyxl read-only iteration plus sqlite3 executemany of the same rows (post + target)."""
    rows = bare_read(path)[1:]
    db_path.unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE post (id INTEGER PRIMARY KEY, text TEXT, title TEXT, media JSON, first_comment TEXT, "
                    "thread JSON, overrides JSON, extra JSON, status TEXT, scheduled_at DATETIME, timezone TEXT, "
                    "recurrence JSON, series_id TEXT, anchor_local TEXT, occurrence_key TEXT, import_batch_id INT, "
                    "created_at DATETIME, updated_at DATETIME)")
        con.execute("CREATE TABLE target (id INTEGER PRIMARY KEY, post_id INT, account_id INT, status TEXT, "
                    "scheduled_at DATETIME, due_at DATETIME, external_id TEXT, external_url TEXT, attempts INT, "
                    "last_error TEXT, last_error_kind TEXT, natively_scheduled BOOL, checkpoints JSON, updated_at DATETIME)")
        now = datetime.now().isoformat()
        with con:
            con.executemany(
                "INSERT INTO post (id, text, title, media, first_comment, thread, overrides, extra, status, scheduled_at, "
                "timezone, recurrence, import_batch_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(i, r[3], "", json.dumps([r[4]] if r[4] else []), r[5] or "", "[]", "{}", "{}", "scheduled",
                  str(r[0]), r[1] or "Europe/Berlin", None, 1, now, now) for i, r in enumerate(rows, start=1)])
            con.executemany(
                "INSERT INTO target (post_id, account_id, status, scheduled_at, due_at, external_id, external_url, "
                "attempts, last_error, last_error_kind, natively_scheduled, checkpoints, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(i, 1, "scheduled", str(r[0]), str(r[0]), "", "", 0, "", "", 0, "{}", now)
                 for i, r in enumerate(rows, start=1)])
    finally:
        con.close()
    return len(rows)


def best(repeat: int, fn) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Best wall-clock and best CPU time of `repeat` runs (CPU time shrugs off a busy machine)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def whole_import(path: Path, data_dir: Path) -> tuple[int, int]:
    """A real import into a fresh data folder: (rows judged, posts created)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    rt = Runtime.open(data_dir, exclusive=False)
    try:
        rt.planner.add_account(Platform.MASTODON, ACCOUNTS[0])
        rt.planner.add_account(Platform.BLUESKY, ACCOUNTS[1])
        sheet = open_sheet(path)
        rows = judge(rt, sheet, sheet.mapping, ImportOptions(timezone="Europe/Berlin"))
        result = commit(rt, rows, source_name=path.name)
        return len(rows), result.imported
    finally:
        rt.close()


# Linux carries a process's peak RSS across fork and exec, so a child started from this (large)
# process would report our peak, not its own: a small fresh launcher starts the measured child.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def peak_memory(path: Path) -> float:
    """Max RSS in MB (getrusage) of a fresh process that runs one whole import of `path` and nothing else."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, __file__, "--memory-child", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def memory_child(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        whole_import(path, Path(tmp) / "data")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB on Linux
    print(peak * scale / 1e6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    worst, rss = 0.0, 0.0
    for count in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            path = work / "bench.xlsx"
            write_sheet(path, count)
            baseline(path, work / "warm.sqlite")  # warm imports and the page cache for both sides
            t_base, c_base, n = best(args.repeat, lambda p=path, w=work: baseline(p, w / "base.sqlite"))
            t_ours, c_ours, result = best(args.repeat, lambda p=path, w=work: whole_import(p, w / "data"))
            judged, created = result  # type: ignore[misc]
            size = path.stat().st_size / 1e6
            ratio = t_ours / t_base
            worst = max(worst, ratio)
            print(f"{count:,} rows ({size:.1f} MB .xlsx): {created:,} of {judged:,} rows imported")
            print(f"  baseline (openpyxl read-only + sqlite3 executemany of {n:,} rows): "
                  f"{t_base:.2f} s wall, {c_base:.2f} s CPU")
            print(f"  whole import (read, validate, commit):             {t_ours:.2f} s wall, {c_ours:.2f} s CPU")
            print(f"  ratio: {ratio:.2f}x wall, {c_ours / c_base:.2f}x CPU (goal <= 3)")
            if count == max(args.rows):
                rss = peak_memory(path)
                print(f"  max RSS of the whole import (a fresh process): {rss:.0f} MB (goal <= 250)")
    return 0 if worst <= 3 and rss <= 250 else 1


if __name__ == "__main__":
    raise SystemExit(main())
