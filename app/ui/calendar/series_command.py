"""One change to a repeating series as a step on the window's undo stack (Ctrl+Z / Ctrl+Shift+Z)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core.errors import OutpostError
from app.ui.commands import _Command

if TYPE_CHECKING:
    from app.engine.planner import Planner
    from app.engine.series import SeriesChange


class SeriesCommand(_Command):
    """One change to a series (app.engine.series); undo puts its stored posts back."""

    def __init__(self, planner: Planner, text: str, change: Callable[[], SeriesChange],
                 on_error: Callable[[str], None]) -> None:
        super().__init__(text)
        self.planner = planner
        self._change = change
        self.on_error = on_error
        self.result: SeriesChange | None = None

    def apply(self) -> None:
        try:
            self.result = self._change()
            self.failed = not self.result.changed
        except OutpostError as exc:
            self.result = None
            self.failed = True
            self.on_error(str(exc))

    def undo(self) -> None:
        if self.result is None:
            return
        from app.engine import series

        try:
            series.undo(self.planner, self.result)
        except OutpostError as exc:
            self.on_error(f"Cannot undo that: {exc}")
