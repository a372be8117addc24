"""What a spreadsheet cell can hold once read, shared by every reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True)
class CellFault:
    """A cell whose value cannot be used: a formula never calculated, or an Excel error."""

    kind: str  # "formula" | "error"
    text: str = ""


FORMULA_WITHOUT_VALUE = CellFault("formula")

CellValue = str | int | float | bool | datetime | date | time | timedelta | CellFault | None


@dataclass(frozen=True)
class Merge:
    """Merged cells in one column, from `first_row` to `last_row` (spreadsheet numbers)."""

    column: int
    first_row: int
    last_row: int
