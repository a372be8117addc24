"""What the calendar does with a post of a repeating series: it asks "only this one, this and the
following ones, or all?" and runs the answer (app.engine.series) as one undoable step.

The window hands each view to `connect_repeats`; the views then route a drop, a double-click
or "Cancel…" on a repeating post here instead of moving or opening it directly.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.engine.repeat import Repeat, repeats_live
from app.store.views import PostView
from app.ui.calendar.timeline import first_words, local_wall

if TYPE_CHECKING:  # the dialogs and the engine load on first use, never before the first paint
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from app.engine.planner import Planner
    from app.engine.series import Scope, SeriesChange

CHOICES = (("this", "Only this one"), ("following", "This and the following ones"), ("all", "All in the series"))


class RepeatActions:
    """The series questions for one window (its planner, undo stack, toast and reload)."""

    def __init__(self, window: Any) -> None:
        self._window = weakref.ref(window)
        self.selected: list[Repeat] = []  # the repeats selected on the calendar (details show their series)
        self.question: QMessageBox | None = None  # the open question, for tests

    @property
    def window(self) -> Any:
        window = self._window()
        if window is None:
            raise RuntimeError("the window is gone")
        return window

    # -- the three actions ------------------------------------------------------------------------
    def move(self, post: PostView, at: datetime) -> None:
        when = local_wall(at, self.window.tz).strftime("%a %d %b, %H:%M")
        if not repeats_live(post):  # already changed on its own: it moves alone
            self._run("Move repeating post", lambda scope: self._series().move(self.planner, post, at, scope),
                      "this", f"Moved to {when}.")
            return
        self.ask(post, "Move a repeating post", f"Move to {when}:",
                 lambda scope: self._run("Move repeating post",
                                         lambda s: self._series().move(self.planner, post, at, s), scope,
                                         _moved(scope, when)))

    def edit(self, post: PostView) -> None:
        if not repeats_live(post):
            self.window.edit_post(post.id)
            return

        def chosen(scope: str) -> None:
            from app.engine import series
            from app.ui.calendar.series_command import SeriesCommand

            command = SeriesCommand(self.planner, "Edit repeating post",
                                    lambda: series.prepare_edit(self.planner, post, series.Scope(scope)),
                                    self.window.show_error)
            command.apply()
            result = command.result
            if result is None or result.open_id is None:
                return
            if result.changed:  # the occurrence was stored on its own (or a series split off): Ctrl+Z undoes it
                command.skip_next_redo = True
                self.undo_stack.push(command)
            self.window.reload()
            self.window.edit_post(result.open_id)

        self.ask(post, "Edit a repeating post", "Change:", chosen)

    def cancel(self, post: PostView) -> None:
        if not repeats_live(post):  # already on its own: only it is cancelled
            self._run("Cancel repeating post", lambda scope: self._series().cancel(self.planner, post, scope),
                      "this", _cancelled("this"))
            return
        self.ask(post, "Cancel a repeating post", "Cancel (it will not be published):",
                 lambda scope: self._run("Cancel repeating post",
                                         lambda s: self._series().cancel(self.planner, post, s), scope,
                                         _cancelled(scope)))

    def offer_cancel(self, post_id: int) -> bool:
        """For the details panel's Cancel: True when `post_id` is a series' post and the question is open."""
        from app.core.errors import OutpostError

        try:
            post = self.planner.post(post_id)
        except OutpostError:
            return False
        if not post.series_id:
            return False
        chosen = next((r for r in self.selected if r.head_id == post_id), None)
        self.cancel(chosen or post)
        return True

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def planner(self) -> Planner:
        return self.window.planner  # type: ignore[no-any-return, unused-ignore]

    @property
    def undo_stack(self) -> QUndoStack:
        return self.window.undo  # type: ignore[no-any-return, unused-ignore]

    @staticmethod
    def _series() -> Any:
        from app.engine import series  # loaded with the engine, never before the first paint

        return series

    def ask(self, post: PostView, title: str, lead: str, chosen: Callable[[str], None]) -> QMessageBox:
        """Ask which occurrences; `chosen("this" | "following" | "all")` runs after a click, never inside it."""
        from PySide6.QtWidgets import QMessageBox

        from app.core.recurrence import Recurrence

        rule = Recurrence.from_dict(post.recurrence).describe() if post.recurrence else "Repeats"
        when = local_wall(post.scheduled_at, self.window.tz).strftime("%a %d %b, %H:%M") if post.scheduled_at else ""
        box = QMessageBox(QMessageBox.Icon.Question, title,
                          f"“{first_words(post.text or post.title or '(no text)', 60)}” on {when} "
                          f"is part of a series: {rule}.\n\n{lead}",
                          QMessageBox.StandardButton.Cancel, _parent(self.window))
        buttons: dict[QPushButton, str] = {}
        for scope, label in CHOICES:
            buttons[box.addButton(label, QMessageBox.ButtonRole.AcceptRole)] = scope
        box.setDefaultButton(next(iter(buttons)))
        box.setObjectName("seriesQuestion")

        def answered(clicked: object) -> None:
            scope = buttons.get(clicked)  # type: ignore[call-overload]
            if scope is not None:
                chosen(scope)

        box.buttonClicked.connect(answered)
        box.open()  # never exec(): the publisher's loop keeps running
        self.question = box
        return box

    def _run(self, text: str, change: Callable[[Scope], SeriesChange], scope: str, done: str) -> None:
        from app.engine.series import Scope
        from app.ui.calendar.series_command import SeriesCommand
        from app.ui.commands import run

        command = SeriesCommand(self.planner, text, lambda: change(Scope(scope)), self.window.show_error)
        if run(self.undo_stack, command):
            self.window.toast.show_message(done, action="Undo", callback=self.undo_stack.undo)
        self.window.reload()


def _moved(scope: str, when: str) -> str:
    return {"this": f"Moved this one to {when}.", "following": f"This and the following ones now start {when}.",
            "all": "Moved every coming occurrence."}[scope]


def _cancelled(scope: str) -> str:
    return {"this": "Cancelled this one; the series goes on.", "following": "Cancelled this and the following ones.",
            "all": "Cancelled the series."}[scope]


def _parent(window: Any) -> Any:
    from PySide6.QtWidgets import QWidget

    return window if isinstance(window, QWidget) else None


_actions: weakref.WeakKeyDictionary[Any, RepeatActions] = weakref.WeakKeyDictionary()


def actions_for(window: Any) -> RepeatActions:
    actions = _actions.get(window)
    if actions is None:
        actions = _actions[window] = RepeatActions(window)
    return actions


def connect_repeats(window: Any, view: Any) -> None:
    """Let `view` (month, week or agenda) ask the series questions through `window`."""
    if hasattr(view, "repeats"):
        view.repeats = actions_for(window)
