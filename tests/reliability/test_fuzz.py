"""Bad input, generated: CLI arguments, post texts, media files and spreadsheets.

The properties: nothing crashes (a refusal is an OutpostError, or exit code 2 with one line), an
accepted text comes back exactly as given, and a refused input changes nothing, compared as a
logical dump of the database (sqlite3 iterdump) before and after, never the file's bytes.

Default runs keep to a few dozen examples each; `--runslow` runs the long variants.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from app.core.errors import OutpostError
from app.core.models import MediaItem, Platform, PostSpec
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store.paths import db_path
from tests.fakes.support import PNG_1PX
from tests.reliability.support import logical_dump, record_figures

FAST_RUN = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
LONG_RUN = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
FIGURES: dict[str, Any] = {}

EDGES = ["\u200d", "\u200b", "\u200c", "\u200e", "\u200f", "\u202e", "\u2066", "\u2069", "\ufeff", "\u0000",
         "👩\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇺🇳", "e\u0301\u0301\u0301", "עברית", "العربية", "ﷺ", "𝕏",
         "\r\n", "\r", "\t", "\u2028", "#tag", "@alice.test", "https://example.com/a?b=c", "\\", "'", '"', "%s",
         "'; DROP TABLE post; --", "\U000e0041", "\ud7ff", "\uffff", "ᄀᄀᄀ", "🧑🏽\u200d💻"]
texts = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(EDGES)), max_size=25).map("".join)


def _tally(name: str, outcome: str) -> None:
    row = FIGURES.setdefault(name, {"examples": 0})
    row["examples"] += 1
    row[outcome] = row.get(outcome, 0) + 1
    record_figures("fuzz", FIGURES)


@pytest.fixture
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = Runtime.open(tmp_path_factory.mktemp("fuzz") / "data", exclusive=False)
    for platform, handle, settings_ in ((Platform.MASTODON, "alice", {}),
                                        (Platform.BLUESKY, "alice.test", {"did": "did:plc:alice"})):
        runtime.planner.add_account(platform, handle, server="https://127.0.0.1:9", settings=settings_,
                                    timezone="UTC")
    yield runtime
    runtime.close()


def _create(rt: Runtime, text: str, media: tuple[MediaItem, ...] = ()) -> str:
    """Create one post on every account; returns the outcome. Refusals must change nothing."""
    before = logical_dump(db_path(rt.data_dir))
    spec = PostSpec(text=text, account_ids=tuple(a.id for a in rt.planner.accounts()), timezone="UTC",
                    scheduled_at=utcnow() + timedelta(days=1), media=media)
    try:
        post_id = rt.planner.create_post(spec)
    except OutpostError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        assert logical_dump(db_path(rt.data_dir)) == before, "a refused post changed the database"
        return "refused"
    assert rt.planner.post(post_id).text == text  # stored exactly as given
    rt.planner.delete(post_id)
    return "accepted"


# ---- post texts ------------------------------------------------------------------------------

@FAST_RUN
@given(text=texts)
def test_any_post_text_is_stored_exactly_or_refused_without_a_change(rt: Runtime, text: str) -> None:
    _tally("post texts", _create(rt, text))


@pytest.mark.slow
@LONG_RUN
@given(text=texts)
def test_any_post_text_long_run(rt: Runtime, text: str) -> None:
    _tally("post texts (long)", _create(rt, text))


@pytest.mark.parametrize("unit", ["a", "👩\u200d👩\u200d👧", "é", "\u200d", "ע"])
def test_a_ten_megabyte_text_is_refused_and_changes_nothing(rt: Runtime, unit: str) -> None:
    import time

    text = unit * (10_000_000 // len(unit.encode()))
    started = time.monotonic()
    outcome = _create(rt, text)
    seconds = time.monotonic() - started
    _tally("10 MB texts", outcome)
    FIGURES.setdefault("10 MB text seconds", {})[repr(unit)] = round(seconds, 2)
    assert outcome == "refused"  # every platform's limit is far below 10 MB


# ---- media files -----------------------------------------------------------------------------

def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


media_bytes = st.one_of(
    st.integers(0, len(PNG_1PX)).map(lambda n: PNG_1PX[:n]),  # truncated
    st.binary(max_size=2048),  # anything
    st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)).map(lambda wh: _png(*wh)),  # huge dimensions
    st.just(PNG_1PX),
)
extensions = st.sampled_from([".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".mov", ".txt", "", ".PNG", ".png.exe"])


@FAST_RUN
@given(data=media_bytes, ext=extensions, alt=texts)
def test_any_media_file_is_accepted_or_refused_without_a_crash(rt: Runtime, tmp_path_factory: Any, data: bytes,
                                                                ext: str, alt: str) -> None:
    path = tmp_path_factory.mktemp("media") / f"file{ext}"
    path.write_bytes(data)
    _tally("media files", _create(rt, "with media", (MediaItem(str(path), alt_text=alt),)))


def test_missing_unreadable_and_directory_media_are_refused(rt: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "folder.png"
    folder.mkdir()
    for source in (str(tmp_path / "gone.png"), str(folder), "", "/dev/null", "file:///etc/passwd"):
        outcome = _create(rt, "bad media", (MediaItem(source),))
        _tally("missing or odd media paths", outcome)
        assert outcome == "refused", source


# ---- CLI arguments ---------------------------------------------------------------------------

WORDS = ["post", "add", "list", "accounts", "remove", "status", "import", "export", "undo-import", "cancel",
         "retry", "publish-now", "restore-backup", "--latest", "--account", "--at", "--text", "--media", "--repeat",
         "--until", "--timezone", "--json", "--draft", "--dry-run", "--map", "--from", "--to", "sandbox", "1", "0",
         "-1", "99999999999999999999", "2026-13-45T25:61", "2099-01-01T09:00", "daily", "monthly:31:last",
         "weekly:xyz", "Europe/Nowhere", "", " ", "--", "-", "nan", "\u202e", "../../etc/passwd", "x.csv",
         "--help", "-h", "--version"]
random_argv = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), min_size=1, max_size=8)
post_add = st.tuples(texts, st.sampled_from(["2099-01-01T09:00", "2099-03-14T02:30", "2000-01-01T00:00", "tomorrow",
                                             "2099-01-01T09:00+14:00", ""]),
                     st.sampled_from([[], ["--draft"], ["--repeat", "daily", "--until", "2099-02-01"],
                                      ["--repeat", "monthly:31:last"], ["--timezone", "America/New_York"],
                                      ["--json"]])).map(
    lambda t: ["post", "add", "--account", "sandbox", "--at", t[1], "--text", t[0], *t[2]])
argv_lists = st.one_of(random_argv, post_add, st.sampled_from([["post", "list"], ["status", "--json"],
                                                               ["accounts", "list"], ["restore-backup"]])).filter(
    lambda a: a[0] not in ("run", "self-test") and "connect" not in a
    and not any(w.startswith("--d") for w in a))


def _cli(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            return main(argv)
    except SystemExit as exc:  # argparse refuses, or --help / --version
        return int(exc.code or 0)


@FAST_RUN
@given(argv=argv_lists)
def test_any_command_line_exits_cleanly_and_a_refusal_changes_nothing(rt: Runtime, argv: list[str],
                                                                       monkeypatch_env: None) -> None:
    if argv[0] == "" or argv == ["--"]:
        return  # no command opens the window
    before = logical_dump(db_path(rt.data_dir))
    code = _cli(argv)
    assert code in (0, 2), (argv, code)  # 1 would be an unexpected error
    if code == 2:
        assert logical_dump(db_path(rt.data_dir)) == before, argv
    _tally("command lines", f"exit {code}")


@pytest.fixture
def monkeypatch_env(rt: Runtime) -> Iterator[None]:
    old = os.environ.get("OUTPOST_DATA_DIR")
    os.environ["OUTPOST_DATA_DIR"] = str(rt.data_dir)
    yield
    if old is None:
        os.environ.pop("OUTPOST_DATA_DIR", None)
    else:
        os.environ["OUTPOST_DATA_DIR"] = old


# ---- spreadsheets through `outpost import` ---------------------------------------------------

HEADERS = ["Text", "Date", "Time", "Account", "Media", "Scheduled Time", "scheduled_time", "Timezone", "Repeat",
           "Alt text", "First comment", "", "Text"]
cells = st.one_of(texts, st.sampled_from(["2099-07-01 09:30", "03/04/2099 10:00", "31/02/2099", "sandbox",
                                          "@alice", "=HYPERLINK(\"x\")", "2027-03-14 02:30", "25:00", "-1",
                                          "1e308", "monthly:31", "Europe/Berlin", "Mars/Olympus"]))


valid_rows = st.lists(st.tuples(st.tuples(texts, st.uuids()).map(lambda t: f"{t[0]} {t[1].hex[:8]}"),
                                st.sampled_from(["2099-07-01 09:30", "2099-12-24T18:00", "2099-03-14 02:30"])),
                      min_size=1, max_size=5)  # a fresh tag per row: re-imports are not all duplicates


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(1, 6))
    if draw(st.booleans()):  # a plausible sheet: Text and Date, mostly good rows, maybe some bad ones
        rows: list[list[str]] = [["Text", "Date"]] + [list(r) for r in draw(valid_rows)]
        rows += draw(st.lists(st.lists(cells, min_size=2, max_size=2), max_size=3))
    else:
        rows = [[draw(st.sampled_from(HEADERS)) for _ in range(width)]] if draw(st.booleans()) else []
        rows += draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=8))
    buffer = io.StringIO()
    import csv

    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return buffer.getvalue().encode(encoding, errors="replace")


@FAST_RUN
@given(content=st.one_of(csv_files(), st.binary(max_size=1024)), ext=st.sampled_from([".csv", ".xlsx", ".txt", ".CSV"]),
       options=st.lists(st.sampled_from(["--dry-run", "--all-or-nothing", "--as-drafts", "--json"]), unique=True))
def test_any_spreadsheet_imports_or_is_refused_without_a_crash(rt: Runtime, tmp_path_factory: Any, content: bytes,
                                                               ext: str, options: list[str],
                                                               monkeypatch_env: None) -> None:
    path = tmp_path_factory.mktemp("sheets") / f"posts{ext}"
    path.write_bytes(content)
    before = logical_dump(db_path(rt.data_dir))
    code = _cli(["import", str(path), "--account", "sandbox", "--timezone", "UTC", *options])
    assert code in (0, 2), code
    after = logical_dump(db_path(rt.data_dir))
    if code == 2 or "--dry-run" in options:
        assert after == before
    _tally("spreadsheets via outpost import", f"exit {code}")


def test_a_spreadsheet_with_a_ten_megabyte_cell_is_refused_or_imported_without_a_crash(
        rt: Runtime, tmp_path: Path, monkeypatch_env: None) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("Text,Date\n\"" + "x" * 10_000_000 + "\",2099-07-01 09:30\n", encoding="utf-8")
    before = logical_dump(db_path(rt.data_dir))
    code = _cli(["import", str(path), "--account", "sandbox", "--timezone", "UTC"])
    assert code in (0, 2)
    assert logical_dump(db_path(rt.data_dir)) == before  # the row is too long for every platform
    _tally("10 MB spreadsheet cell", f"exit {code}")
