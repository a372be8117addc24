"""The calendar from the keyboard: Enter on a day starts a post there, Esc closes the details,
Alt+arrows move the selected posts (a day sideways; a week, or 15 minutes in the week view, up and
down) through the window's undoable move, so Ctrl+Z puts them back.

An event filter the window installs on its views: the calendar's own keys (arrows, PgUp/PgDn, T,
Enter on a selected post, Esc during a drag) stay the calendar's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

from app.core.models import PostStatus
from app.core.timeutil import localize
from app.engine.repeat import Repeat, in_series
from app.ui.calendar.canvas import CalendarCanvas
from app.ui.calendar.timeline import default_time_for, local_wall

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

MOVABLE = {PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED}
ARROWS = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}


class CalendarKeys(QObject):
    """Installed on each calendar view (and the details panel, for Esc)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key, mods = event.key(), event.modifiers()
        view = self.window.current_canvas()
        if key == Qt.Key.Key_Escape and not mods:
            return self.close_details(view)
        if view is None or watched is not view:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods:
            return self.new_post_on_cursor_day(view)
        if key in ARROWS and mods == Qt.KeyboardModifier.AltModifier:
            self.move_selected(view, key)
            return True
        return False

    def close_details(self, view: CalendarCanvas | None) -> bool:
        if view is not None and view.drag is not None:
            return False  # Esc first cancels the drag (the calendar's own key)
        details = self.window._details
        if details is None or details.isHidden():
            return False
        if view is not None:
            view.select([], emit=False)
        self.window._selection_changed([])
        return True

    def new_post_on_cursor_day(self, view: CalendarCanvas) -> bool:
        """Enter: a selected post on this day opens (the calendar's key); otherwise a new post here."""
        day = view.cursor_day
        on_day = [p for i in view.selected if (p := view.by_id.get(i)) is not None and p.scheduled_at is not None
                  and local_wall(p.scheduled_at, self.window.tz).date() == day]
        if on_day:
            return False
        if self.window._runtime is None:
            return True  # the data is still opening
        self.window.open_editor(at=default_time_for(day, self.window.clock(), self.window.tz))
        return True

    def move_selected(self, view: CalendarCanvas, key: int) -> None:
        posts = [p for i in view.selected if (p := view.by_id.get(i)) is not None]
        if not posts:
            self.window.toast.show_message("Select a post first (click it), then Alt+arrows move it.")
            return
        step = ARROWS[Qt.Key(key)]
        sideways = key in (Qt.Key.Key_Left, Qt.Key.Key_Right)
        if sideways:
            delta, wall = timedelta(days=step), True
        elif view is getattr(self.window, "_views", {}).get("week"):
            delta, wall = timedelta(minutes=15 * step), False
        else:
            delta, wall = timedelta(days=7 * step), True
        fixed = [p for p in posts if p.status not in MOVABLE or p.natively_scheduled]
        if fixed:
            self.window.show_error("Published, publishing and handed-off posts stay where they are; "
                                   "duplicate one to post it again.")
            return
        if any(isinstance(p, Repeat) or in_series(p) for p in posts):
            if len(posts) == 1 and view.repeats is not None and posts[0].scheduled_at is not None:
                view.repeats.move(posts[0], self._shifted(posts[0].scheduled_at, delta, wall))
            else:
                self.window.show_error("Move repeating posts one at a time: Outpost asks whether the change is "
                                       "for this one, the following or all.")
            return
        undated = [p for p in posts if p.scheduled_at is None]
        if undated:
            self.window.show_error("A draft without a date moves by dragging it onto the calendar.")
            return
        moves: dict[int, datetime | None] = {
            p.id: self._shifted(p.scheduled_at, delta, wall) for p in posts if p.scheduled_at is not None}
        if self.window.move_posts(moves):
            view.select(list(moves), emit=False)
            first = min(v for v in moves.values() if v is not None)
            view.set_cursor(local_wall(first, self.window.tz).date())

    def _shifted(self, at: datetime, delta: timedelta, wall: bool) -> datetime:
        """Days move the wall-clock time (09:00 stays 09:00 across a DST change); minutes move the instant."""
        if not wall:
            return at + delta
        local = local_wall(at, self.window.tz).replace(tzinfo=None)
        return localize(local + delta, self.window.tz)
