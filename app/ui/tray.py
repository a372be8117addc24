"""The tray icon: the next post at a glance, pause/resume, publish due posts now, open, quit."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.core.models import PostStatus
from app.ui import icons
from app.ui.calendar.timeline import first_words, local_wall
from app.ui.health import describe_state

if TYPE_CHECKING:
    from app.engine.runtime import Runtime
    from app.ui.main_window import MainWindow

log = logging.getLogger("outpost.ui.tray")


class Tray(QSystemTrayIcon):
    quitRequested = Signal()

    def __init__(self, window: MainWindow, runtime: Runtime) -> None:
        super().__init__(icons.tray_icon(), window)
        self.window = window
        self.runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.setContextMenu(self.menu)
        self.activated.connect(self._activated)
        window.healthChanged.connect(self.refresh)
        self.rebuild_menu()
        self.refresh()

    def next_post_text(self) -> str:
        if not self.runtime.started:
            return "Starting…"
        state = self.runtime.publisher.state()
        if state.paused:
            return "Publishing is paused"
        due = state.next_due
        if due is None:
            return "No post scheduled"
        tz = self.window.tz
        wall = local_wall(due, tz)
        today = local_wall(self.runtime.clock(), tz).date()
        when = wall.strftime("%H:%M") if wall.date() == today else wall.strftime("%a %d %b %H:%M")
        posts = self.runtime.planner.posts_between(due, due.replace(microsecond=999999),
                                                   statuses=[PostStatus.SCHEDULED])
        words = f": {first_words(posts[0].text, 40)}" if posts else ""
        return f"Next post {when}{words}"

    def refresh(self) -> None:
        state = self.runtime.publisher.state() if self.runtime.started else None
        status, _color = describe_state(state, self.runtime.clock(), self.window.tz)
        self.setToolTip(f"Outpost · {status}\n{self.next_post_text()}")

    def rebuild_menu(self) -> None:
        """Rebuilt each time it opens, so the next post and the pause state are current."""
        self.menu.clear()
        header = QAction(self.next_post_text(), self.menu)
        header.setEnabled(False)
        self.menu.addAction(header)
        self.menu.addSeparator()
        self.open_action = self.menu.addAction(icons.icon("calendar-month"), "Open Outpost")
        self.open_action.triggered.connect(self.window.bring_to_front)
        paused = self.runtime.started and self.runtime.publisher.state().paused
        self.pause_action = self.menu.addAction(icons.icon("play" if paused else "pause"),
                                                "Resume publishing" if paused else "Pause publishing")
        self.pause_action.triggered.connect(self.toggle_pause)
        self.publish_action = self.menu.addAction(icons.icon("send"), "Publish due posts now")
        self.publish_action.triggered.connect(self.publish_due_now)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit Outpost")
        self.quit_action.triggered.connect(lambda _checked=False: self.window.confirm_quit())  # says what waits

    def toggle_pause(self) -> None:
        publisher = self.runtime.publisher
        if publisher.state().paused:
            publisher.resume()
            self.showMessage("Publishing resumed", "Scheduled posts go out again.",
                             QSystemTrayIcon.MessageIcon.Information, 4000)
        else:
            publisher.pause()
            self.showMessage("Publishing paused", "Nothing goes out until you resume.",
                             QSystemTrayIcon.MessageIcon.Warning, 4000)
        self.refresh()
        self.window.reload()

    def publish_due_now(self) -> None:
        task = asyncio.ensure_future(self.runtime.publisher.publish_due_now())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def notify(self, level: str, title: str, message: str) -> None:
        """A failure or a post that needs review: tell the user even with the window closed."""
        icon = {"error": QSystemTrayIcon.MessageIcon.Critical,
                "warning": QSystemTrayIcon.MessageIcon.Warning}.get(level, QSystemTrayIcon.MessageIcon.Information)
        self.showMessage(title, self.in_words(message), icon, 10_000)

    def in_words(self, message: str) -> str:
        """"Post #20 is 2 h overdue" names the post by its first words, as the activity list does."""
        from app.ui.activity import post_ids, readable

        ids = post_ids(message)
        if not ids:
            return message
        return readable(message, self.window._post_words(ids), self.runtime.planner.accounts())

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            if self.window.isVisible() and not self.window.isMinimized():
                self.window.hide()
            else:
                self.window.bring_to_front()
