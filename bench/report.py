"""Rewrite docs/reliability.md from what the reliability suites and the catch-up bench measure now.

    .venv/bin/python bench/report.py            # default variants (a few minutes)
    .venv/bin/python bench/report.py --slow     # also the long variants: 500 posts / 30 kills,
                                                # 10,000 posts, long fuzz runs (about 10 minutes)

Each suite writes its figures as JSON into OUTPOST_RELIABILITY_FIGURES (tests/reliability/support.py
`record_figures`); this script runs them, runs bench/catchup.py, and renders one page.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"


def run_suites(figures: Path, slow: bool) -> tuple[str, int]:
    env = {**os.environ, "OUTPOST_RELIABILITY_FIGURES": str(figures), "QT_QPA_PLATFORM": "offscreen"}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"]
    if slow:
        args.append("--runslow")
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "passed" in line),
                   done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no output")
    return summary.strip("= "), done.returncode


def run_bench(figures: Path) -> None:
    args = [sys.executable, str(ROOT / "bench" / "catchup.py"), "--json", str(figures / "catchup.json"),
            "--repeat", "3"]
    subprocess.run(args, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=True,
                   capture_output=True)


def load(figures: Path, name: str) -> dict[str, Any]:
    path = figures / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data


def table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(out)


def crash_section(data: dict[str, Any]) -> str:
    rows = []
    for variant in ("default", "slow"):
        f = data.get(variant)
        if not f:
            continue
        moments = ", ".join(f"{k} {v}" for k, v in f["kills_by_moment"].items())
        outcomes = ", ".join(f"{k} {v}" for k, v in f["outcomes"].items())
        rows.append([variant, f["posts"], f["targets"], f"{f['kills']} ({moments})", f.get("kills_during_refresh", "-"),
                     f["duplicates"], f["lost"], f["false_success"], outcomes, f["integrity_check"], f["seconds"]])
    text = table(["variant", "posts", "targets", "SIGKILLs (moment)", "kills mid-refresh", "duplicates", "lost",
                  "false success", "final", "quick_check", "s"], rows)
    saved = data.get("kill_after_token_saved")
    if saved:
        text += ("\n\nKilled right after a rotated Bluesky token pair was saved, before its first use "
                 f"(tests/reliability/crashkeyring.py): {saved['published']} of {saved['posts']} posts published, "
                 f"{saved['duplicates']} duplicates, {saved['password_sign_ins_after']} sign-ins with the app "
                 f"password afterwards (the saved refresh token worked; {saved['refreshes']} refreshes in all).")
    reasons = {k: v for variant in ("default", "slow") for k, v in (data.get(variant) or {}).get("reasons", {}).items()}
    if reasons:
        text += "\n\nTargets not published, with the reason the person reads:\n\n" + table(
            ["reason", "targets"], [[k, v] for k, v in reasons.items()])
    return text


def fault_section(data: dict[str, Any]) -> str:
    rows = [[name, f["status"], f["on_platform"], f["attempts"], f.get("seconds", "-"), f["message"]]
            for name, f in data.items()]
    return table(["fault", "final status", "posts on the platform", "attempts", "s", "what the person reads"], rows)


def database_section(data: dict[str, Any]) -> str:
    rows = [[name, json.dumps(value, ensure_ascii=False)[:220]] for name, value in data.items()]
    return table(["fault", "result"], rows)


def time_section(data: dict[str, Any]) -> str:
    parts = []
    dst = data.get("dst", {})
    if dst:
        parts.append(table(["zone, change, first day", "published (local)"],
                           [[k, ", ".join(v["local"])] for k, v in dst.items()]))
    for key in ("jumps", "suspend"):
        if key in data:
            parts.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))
    return "\n\n".join(parts)


def fuzz_section(data: dict[str, Any]) -> str:
    rows = [[name, f.pop("examples"), ", ".join(f"{k} {v}" for k, v in f.items())]
            for name, f in data.items() if "examples" in f]
    text = table(["input", "examples", "outcomes"], rows)
    seconds = data.get("10 MB text seconds")
    if seconds:
        text += "\n\nTime to refuse a 10 MB text: " + ", ".join(f"{k} {v} s" for k, v in seconds.items())
    return text


def load_section(bench: dict[str, Any]) -> str:
    if not bench:
        return "(bench not run)"
    old, new = bench["unbatched"], bench["outpost"]
    return "\n".join([
        f"{bench['posts']:,} posts over a year, {bench['due']:,} due at once after a week offline, platform limit "
        f"{bench['rate_per_s']}/s, median of {bench['runs']} run(s); heartbeat: a 5 ms QTimer on the qasync loop.",
        "",
        table(["run", "longest loop block (ms)", "catch-up (s)"], [
            ["idle loop (floor)", bench["idle_block_ms"], "-"],
            ["claim everything in one transaction (claim_batch 100,000)", old["longest_block_ms"], old["seconds"]],
            ["claim in batches of 64 (as shipped)", new["longest_block_ms"], new["seconds"]],
        ]),
        "",
        f"Ratio claim-everything/as shipped: **{bench['ratio']}x**. Goal ≤ 50 ms: **{'met' if bench['goal_met'] else 'not met'}** "
        f"(each run: {bench.get('outpost_blocks_ms')} ms). Correctness (each once, rate respected, batches "
        "bounded) is asserted by tests/reliability/test_load.py; the time only here.",
        "",
        WRITER_THREAD_EFFECT,
        "",
        JOURNAL_AHEAD_EFFECT,
    ])


# Measured once, when the writer thread landed (the engine before it no longer exists to rerun).
WRITER_THREAD_EFFECT = """Every write of the engine is committed on one writer thread (app/engine/writer.py) and the loop
awaits each commit, so the size of a claim no longer shows in the loop's block: the claim-everything
row above is that variant of today's engine. When the writer thread landed, the engine before it
(commit 93061d2) and the new one were run alternately on the same machine, two runs of the bench each:

| engine | longest loop block, median of 3 (ms) | each run (ms) | catch-up (s) | idle floor (ms) |
|---|---|---|---|---|
| before: journal commits on the loop, outcomes in worker threads | 60.1, 84.6 | [81.2, 46.6, 60.1], [58.2, 84.6, 87.4] | 5.61, 6.73 | 7.5, 7.7 |
| now: one writer thread | 10.2, 9.0 | [10.2, 8.2, 10.2], [9.0, 10.0, 7.5] | 4.07, 4.11 | 7.0, 7.9 |

The same pair, bench/lateness.py (scheduled instant to adapter call, 200 posts): spread (one every
50 ms) p50/p99 5.5/13.0 and 5.5/14.3 ms before, 7.3/13.8 and 6.2/15.4 ms now (goal p99 ≤ 50 ms: met);
burst (200 due in the same second, no platform limit) p99 918 and 1013 ms before, 636 and 542 ms now.
bench/idle.py over 5 minutes: 0 SQL statements, 5 timer wake-ups (goal: 0 and ≤ 5)."""


# Measured when the journal moved ahead of the instant (the engine before it no longer exists to rerun).
JOURNAL_AHEAD_EFFECT = """**On time to the millisecond.** A wake-up now comes `arm_lead` (1 s) before the first due post,
claims what falls due within `claim_window` (up to `claim_ahead`, 512, when nothing is overdue; a
catch-up still claims 64 at a time) and journals those attempts in one group commit of two
statements (200 rows: 69 ms on this machine under load, 957 ms as one statement pair per attempt
before); each call then waits only for its instant. A row's `started_at` is its instant: after a
kill before that instant the restart closes it as not sent, with no check and not counted
(tests/engine/test_journal_ahead.py; tests/reliability/test_journal_ahead_crash.py kills `outpost run`
at the crash point `journaled_ahead`); a row whose instant passed while Outpost was down is checked
with the platform, and one that never arrived goes out at once, not counted as an attempt.

bench/lateness.py as it is now (200 posts, a platform that answers at once, 16 calls at a time; the
sandbox's own fsync per call, used above, would put 199 fsyncs before a burst's last call), run
against the engine before (commit 30cf004) and after, alternately on the same machine (2 CPUs),
two runs each:

| engine | load | spread p50 / p99 / max (ms) | burst p50 / p99 / max (ms) | bare timers' p99 (ms) |
|---|---|---|---|---|
| before: journaled at the instant, 64 claims at a time | 0.7-1.0 | 7.8 / 14.3 / 78.7; 7.9 / 36.9 / 77.3 | 396 / 773 / 773; 331 / 643 / 643 | 1.3, 1.3 |
| now: journaled ahead | 0.8-0.9 | 1.12 / 4.08 / 45.3; 0.99 / 3.92 / 54.1 | 7.6 / 20.0 / 20.0; 9.8 / 23.2 / 23.2 | 2.0, 5.5 |
| before, other work running | 3.9-4.3 | 164 / 780 / 830; 93.5 / 269 / 319 | 1306 / 2736 / 2736; 982 / 2365 / 2365 | 4.7, 6.5 |
| now, other work running | 4.3-4.4 | 1.14 / 12.2 / 84.1; 1.37 / 79.2 / 179.2 | 12.1 / 59.1 / 59.2; 23.1 / 47.5 / 47.5 | 5.3, 4.2 |

Goals: spread p99 ≤ 5 ms: **met** on a quiet machine (4.1 and 3.9 ms), not under load; burst, every
call within 100 ms of its instant: **met** (20 and 23 ms; 59 and 47 ms under load). The spread's
worst calls (45-180 ms) are stalls of the whole process, not a late journal: a probe saw a 440 ms
generation-2 garbage collection fall on a 407 ms gap, and the other gaps follow the machine's load."""


def render(figures: Path, summary: str, code: int, slow: bool) -> str:
    crash, faults, database = load(figures, "crash_loop"), load(figures, "fault_matrix"), load(figures, "database_faults")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Reliability: what the suites measured

Generated by `python bench/report.py{' --slow' if slow else ''}` on {stamp} ({platform.system()} \
{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs). Do not edit by hand: \
run it again. Suites: `tests/reliability/`; result: **{summary}**{'' if code == 0 else ' (FAILURES: see pytest)'}.

The promises: a post is never lost and never published twice. Each section says how it was tested;
the rules tested are in reliability.md (§1 publishing, §2 SQLite, §6 time, §7 the cases).

## 1. Crash loop (test_crash_loop.py)

`outpost run` publishes to the Mastodon and Bluesky fakes, each in its own process (secrets in the
file keyring), and is killed with SIGKILL again and again, then restarted. Kill moments in turn:
random (after the fakes saw progress), `journaled` (attempt committed, request not sent),
`answered` (the platform made the post, the outcome not committed) — both through
`OUTPOST_CRASH_AT` in app/engine/crashpoints.py — and mid-refresh (Bluesky's refresh reached
the server, which rotated the single-use refresh token, and its answer is held back).
Duplicates and losses are counted from the fakes' own records.

{crash_section(crash)}

## 2. Fault matrix (test_fault_matrix.py)

The real engine against the fakes; one row per fault.

{fault_section(faults)}

## 3. Database faults (test_database_faults.py)

Injected `database or disk is full` / `readonly database` at the commit boundary; a real 2 MB
tmpfs filled up (root on Linux); a read-only mount at start; corrupted header and pages;
a leftover WAL after SIGKILL; a second `outpost run`; a 2 s write lock held elsewhere; daily
backups over ten starts. `outpost restore-backup --latest` restores the newest intact backup and
keeps the damaged file with its `-wal` in `damaged/<time>/`.

{database_section(database)}

## 4. Time (test_time.py)

The engine's clock and APScheduler's `datetime.now` are simulated together; wall-clock jumps move
the wall clock only (as a clock change or a suspend does), so the publisher's jump detector sees them.
Daily posts across DST gaps and folds publish once a day at the instant PEP 495 `fold=0` gives
(02:30 in a gap becomes 03:30; a folded time is its first occurrence).

{time_section(load(figures, "time"))}

## 5. Bad input (test_fuzz.py)

Generated with hypothesis; a refusal must leave the database's logical dump (sqlite3 `iterdump`)
unchanged, an accepted text must come back exactly.

{fuzz_section(load(figures, "fuzz"))}

## 6. Load: catch-up after a week offline (bench/catchup.py)

{load_section(load(figures, "catchup"))}

## 7. Known limits (what the figures do not yet show)

- What still holds the loop during a catch-up, seen with a per-callback probe (three runs): no
  callback over 8 ms (APScheduler's first wake-up, 4-8 ms; a publish task's step, up to 4.5 ms,
  re-arming with one read). The rest of the longest gaps (7-19 ms) has no callback in it: it
  is the loop waiting for the GIL while the writer thread runs SQLAlchemy code (Python switches
  threads every 5 ms), and, in a cold process, the start (first recovery write, first wake-up).
- A full (generation 2) garbage collection stops every thread: 40-380 ms on this machine with the
  10,000 posts' objects. In the probe each one ran while the posts were being created, never during
  the measured catch-up, but nothing keeps one from falling there.
- Writes that still run on the loop: the planner's (the window's edits; during a catch-up they
  wait, through SQLite's lock, for the writer thread's current transaction: a few ms) and an
  adapter's step checkpoints (`StepJournal.record` is synchronous in the adapter protocol; only
  multi-step publishes make them). Reads stay on the loop (`rearm`'s next-due query).
- The writer thread is close to saturated by this catch-up: about 3.9 s of transactions in the
  4.1 s it takes at 200 calls/s (about 1,000 journal and outcome group commits of 3 ms each at the
  median, 31 claims of 7 ms), each on a new connection (NullPool). A faster platform or a slower
  disk makes the writer, not the loop, the limit: the catch-up takes longer, the window stays
  responsive.
- A read-only remount while SQLite holds the file open is refused by Linux, so "read-only in the
  middle of a write" is injected (`attempt to write a readonly database` at the commit); "full in
  the middle of a write" uses a real 2 MB tmpfs.
- Times of day in the DST suite come from a simulated clock: the engine's `clock` and
  APScheduler's `datetime.now` are patched together, and the scheduler's `_process_jobs` is driven
  at each instant instead of waiting for the loop's timer.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", action="store_true", help="also run the long variants")
    parser.add_argument("--no-bench", action="store_true", help="skip bench/catchup.py")
    parser.add_argument("--figures", metavar="DIR", help="keep the figures in DIR (default: a temporary folder)")
    parser.add_argument("--render-only", action="store_true", help="only render the figures already in --figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outpost-reliability-") as tmp:
        figures = Path(args.figures or tmp)
        figures.mkdir(parents=True, exist_ok=True)
        summary_file = figures / "summary.json"
        if args.render_only:
            summary, code = json.loads(summary_file.read_text(encoding="utf-8"))
        else:
            print("running tests/reliability ...", flush=True)
            summary, code = run_suites(figures, args.slow)
            summary_file.write_text(json.dumps([summary, code]), encoding="utf-8")
            print(summary, flush=True)
            if not args.no_bench:
                print("running bench/catchup.py ...", flush=True)
                run_bench(figures)
        DOC.write_text(render(figures, summary, code, args.slow), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
