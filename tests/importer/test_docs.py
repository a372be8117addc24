"""docs/import.md stays in step with the code it documents."""

from __future__ import annotations

from pathlib import Path

from app.importer.columns import SYNONYMS, Field
from app.importer.export import EXPORT_COLUMNS
from app.importer.reading import MAX_COLUMNS, MAX_DATA_ROWS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")


def test_every_column_and_every_recognised_header_is_documented() -> None:
    table = {line.split("|")[1].strip().strip("`"): line for line in DOC.splitlines() if line.startswith("| `")}
    assert set(table) == {f.value for f in Field}
    for f, names in SYNONYMS.items():
        for name in names:
            if name != f.value:
                assert name.replace("|", "\\|") in table[f.value], (f, name)


def test_export_columns_and_limits_match_the_text() -> None:
    assert ", ".join(f"`{f.value}`" for f in EXPORT_COLUMNS) in DOC.replace("\n", " ")
    assert f"{MAX_DATA_ROWS:,} rows and {MAX_COLUMNS} columns" in DOC
