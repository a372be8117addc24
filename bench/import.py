"""How long importing 10,000 rows takes, against a bare openpyxl read-only pass over the same file.

    .venv/bin/python bench/import.py [--rows 10000] [--repeat 3] [--commit]

Both are measured in the same run on the same file; the best of `--repeat` runs counts. The
importer's figure covers what the preview needs: hostile-file checks, reading, header detection,
column mapping, date parsing, per-account platform validation (the adapters' own checks) and the
duplicate query against a real SQLite data folder. Goal: at most 2x the bare read.
`--commit` also times creating the posts through the planner (one ImportBatch), reported apart.
"""

from __future__ import annotations

import argparse
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
from app.importer.rows import ImportOptions, RowStatus, open_sheet

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


def bare_read(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    n = 0
    try:
        ws = wb.active
        assert ws is not None
        for _row in ws.iter_rows(values_only=True):
            n += 1
    finally:
        wb.close()
    return n


def best(repeat: int, fn) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Best wall-clock and best CPU time of `repeat` runs (CPU time shrugs off a busy machine)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commit", action="store_true", help="also time creating the posts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "bench.xlsx"
        write_sheet(path, args.rows)
        rt = Runtime.open(work / "data", exclusive=False)
        try:
            rt.planner.add_account(Platform.MASTODON, ACCOUNTS[0])
            rt.planner.add_account(Platform.BLUESKY, ACCOUNTS[1])
            options = ImportOptions(timezone="Europe/Berlin")

            def importer() -> list:  # type: ignore[type-arg]
                sheet = open_sheet(path)
                return judge(rt, sheet, sheet.mapping, options)

            bare_read(path)  # warm imports and the page cache for both sides
            importer()
            t_bare, c_bare, n = best(args.repeat, lambda: bare_read(path))
            t_ours, c_ours, rows = best(args.repeat, importer)
            valid = sum(r.status is RowStatus.VALID for r in rows)  # type: ignore[union-attr]
            size = path.stat().st_size / 1e6
            print(f"file: {args.rows:,} rows, {size:.1f} MB ({n:,} sheet rows incl. header); {valid:,} valid")
            print(f"bare openpyxl read-only iteration: {t_bare:.3f} s wall, {c_bare:.3f} s CPU")
            print(f"importer (read, map, dates, validation, duplicates): {t_ours:.3f} s wall, {c_ours:.3f} s CPU")
            print(f"ratio: {t_ours / t_bare:.2f}x wall, {c_ours / c_bare:.2f}x CPU (goal <= 2)")
            if args.commit:
                started = time.perf_counter()
                result = commit(rt, rows, source_name=path.name)  # type: ignore[arg-type]
                t_commit = time.perf_counter() - started
                print(f"commit through the planner: {result.imported:,} posts in {t_commit:.2f} s "
                      f"({t_commit / max(1, result.imported) * 1000:.2f} ms per post); "
                      f"end to end {(t_ours + t_commit) / t_bare:.1f}x the bare read")
        finally:
            rt.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
