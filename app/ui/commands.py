"""Undoable actions on posts, for the window's QUndoStack (Ctrl+Z / Ctrl+Shift+Z).

Each command calls the planner, which re-arms the publisher at once. A command whose redo was
refused raises OutpostError from `redo`, and the window shows the message instead of pushing it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand, QUndoStack

from app.core.errors import OutpostError

if TYPE_CHECKING:
    from app.engine.planner import Planner, PostSnapshot

ErrorSink = Callable[[str], None]


class _Command(QUndoCommand):
    """Applied once before it is pushed, so a refused action never lands on the stack."""

    skip_next_redo = False
    failed = False

    def redo(self) -> None:
        if self.skip_next_redo:
            self.skip_next_redo = False
            return
        self.apply()

    def apply(self) -> None:
        raise NotImplementedError


def run(stack: QUndoStack, command: _Command) -> bool:
    """Apply `command`; push it on the stack when it worked. True when it worked."""
    command.apply()
    if command.failed:
        return False
    command.skip_next_redo = True
    stack.push(command)
    return True


class MoveCommand(_Command):
    """Move posts to new instants; undo puts each back where it was (a draft back to no date)."""

    def __init__(self, planner: Planner, moves: dict[int, datetime | None], on_error: ErrorSink) -> None:
        n = len(moves)
        super().__init__(f"Move {n} post{'s' if n > 1 else ''}")
        self.planner = planner
        self.moves = dict(moves)
        self.previous: dict[int, datetime | None] = {}
        self.on_error = on_error
        self.failed = False

    def apply(self) -> None:
        try:
            self.previous = self.planner.reschedule(self.moves)
            self.failed = False
        except OutpostError as exc:
            self.failed = True
            self.on_error(str(exc))

    def undo(self) -> None:
        if self.failed:
            return
        try:
            self.planner.reschedule(self.previous)
        except OutpostError as exc:
            self.on_error(f"Cannot undo the move: {exc}")


class DuplicateCommand(_Command):
    """Copy a post as a new one (at a new time, or as a draft); undo deletes the copy."""

    def __init__(self, planner: Planner, post_id: int, at: datetime | None, on_error: ErrorSink) -> None:
        super().__init__("Duplicate post")
        self.planner = planner
        self.post_id = post_id
        self.at = at
        self.on_error = on_error
        self.new_id: int | None = None
        self._snapshot: PostSnapshot | None = None

    def apply(self) -> None:
        try:
            if self._snapshot is not None:
                self.new_id = self.planner.restore(self._snapshot)
            else:
                self.new_id = self.planner.duplicate(self.post_id, self.at)
        except OutpostError as exc:
            self.new_id = None
            self.failed = True
            self.on_error(str(exc))

    def undo(self) -> None:
        if self.new_id is None:
            return
        try:
            self._snapshot = self.planner.delete(self.new_id)
        except OutpostError as exc:
            self.on_error(f"Cannot undo the copy: {exc}")


class DeleteCommand(_Command):
    """Delete a post; undo restores it from a snapshot."""

    def __init__(self, planner: Planner, post_id: int, on_error: ErrorSink) -> None:
        super().__init__("Delete post")
        self.planner = planner
        self.post_id = post_id
        self.on_error = on_error
        self._snapshot: PostSnapshot | None = None

    def apply(self) -> None:
        try:
            self._snapshot = self.planner.delete(self.post_id)
        except OutpostError as exc:
            self._snapshot = None
            self.failed = True
            self.on_error(str(exc))

    def undo(self) -> None:
        if self._snapshot is None:
            return
        try:
            self.post_id = self.planner.restore(self._snapshot)
        except OutpostError as exc:
            self.on_error(f"Cannot restore the post: {exc}")
