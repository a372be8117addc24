"""Generated sheets and damaged files: the importer never crashes, and a refusal changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.errors import OutpostError
from app.engine.runtime import Runtime
from app.importer.columns import SYNONYMS, Field
from app.importer.commit import commit, judge, undo
from app.importer.reading import read_table
from app.importer.rows import ImportOptions, open_sheet
from app.store.schema import ImportBatch, Post, Target
from tests.importer.sheets import write_xlsx
from tests.importer.test_commit import NOW, open_runtime

HEADERS = [n for names in SYNONYMS.values() for n in names[:3]] + ["Notes", "", "Link"]
cell = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["=1+1", "2026-07-01 09:30", "03/04/2027 10:00", "25/12/2026", "alice.bsky.social",
                     "sandbox", "weekly:mon", "draft", "https://x.test/a.png", "Europe/Berlin", "'=x", "9:30 PM"]),
    st.integers(-10**6, 10**7),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.booleans(),
)


@st.composite
def grids(draw: st.DrawFn) -> list[list[object]]:
    width = draw(st.integers(1, 8))
    rows: list[list[object]] = []
    if draw(st.booleans()):
        rows.append([draw(st.sampled_from(HEADERS)) for _ in range(width)])
    rows += draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=12))
    return rows


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = open_runtime(tmp_path / "data")
    yield runtime
    runtime.close()


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) or 0 for t in (Post, Target, ImportBatch))  # type: ignore[return-value]


def _write(path: Path, grid: list[list[object]], encoding: str, delimiter: str) -> Path:
    if path.suffix == ".xlsx":
        clean = [[(c.replace("\x00", "") if isinstance(c, str) else c) for c in row] for row in grid]
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        clean = [[ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row] for row in clean]
        return write_xlsx(path, clean)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([["" if c is None else str(c) for c in row] for row in grid])
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return path


def _attempt(rt: Runtime, path: Path, all_or_nothing: bool, as_drafts: bool) -> None:
    before = counts(rt)
    try:
        sheet = open_sheet(path)
        rows = judge(rt, sheet, sheet.mapping, ImportOptions(timezone="Europe/Berlin", default_account_id=None,
                                                             as_drafts=as_drafts), now=NOW)
        assert [r.number for r in rows] == [n for n, _ in sheet.data]
        result = commit(rt, rows, source_name=path.name, all_or_nothing=all_or_nothing)
    except OutpostError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert counts(rt) == before
        return
    assert counts(rt)[0] == before[0] + result.imported
    assert result.batch_id is not None
    undo(rt, result.batch_id)
    assert counts(rt)[:2] == before[:2]


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@SETTINGS
@given(grid=grids(), fmt=st.sampled_from([".xlsx", ".csv"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
       delimiter=st.sampled_from([",", ";"]), all_or_nothing=st.booleans(), as_drafts=st.booleans())
def test_generated_sheets_never_crash_and_refusals_change_nothing(
        rt: Runtime, tmp_path: Path, grid: list[list[object]], fmt: str, encoding: str, delimiter: str,
        all_or_nothing: bool, as_drafts: bool) -> None:
    _attempt(rt, _write(tmp_path / f"gen{fmt}", grid, encoding, delimiter), all_or_nothing, as_drafts)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(grid=grids(), fmt=st.sampled_from([".xlsx", ".csv"]), all_or_nothing=st.booleans())
def test_generated_sheets_long_variant(rt: Runtime, tmp_path: Path, grid: list[list[object]], fmt: str,
                                       all_or_nothing: bool) -> None:
    _attempt(rt, _write(tmp_path / f"gen{fmt}", grid, "utf-8", ","), all_or_nothing, False)


@SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".xlsx", ".csv"]))
def test_arbitrary_bytes_are_refused_or_read_never_crash(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"blob{suffix}"
    path.write_bytes(data)
    try:
        read_table(path)
    except OutpostError as exc:
        assert str(exc)


@SETTINGS
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=8))
def test_damaged_workbooks_are_refused_never_crash(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    path = write_xlsx(tmp_path / "d.xlsx", [["Date", "Text", "Account"], ["2026-07-01 09:30", "hello", "sandbox"]])
    data = bytearray(path.read_bytes())
    for position, xor in flips:
        data[position % len(data)] ^= xor
    path.write_bytes(bytes(data))
    try:
        table = read_table(path)
    except OutpostError as exc:
        assert str(exc)
    else:
        assert table.rows


def test_header_synonyms_fuzz_helper_covers_every_field() -> None:
    assert {f for f in Field} <= {f for f, names in SYNONYMS.items() if names}
