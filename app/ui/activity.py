"""The activity view: recent events and publishing attempts, newest first."""

from __future__ import annotations

import re
from datetime import tzinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.store.views import AccountView, EventView
from app.ui import icons
from app.ui.calendar.timeline import local_wall
from app.ui.widgets import muted

_POST_REF = re.compile(r"\b([Pp])ost #(\d+)")
_REPEATED_NAME = re.compile(r"\b([\w@.-]+(?: [\w@.-]+)*?) \(\1\)")


def post_ids(message: str) -> set[int]:
    """The post numbers an engine message names ("post #20")."""
    return {int(m.group(2)) for m in _POST_REF.finditer(message)}


def readable(message: str, post_words: dict[int, str], accounts: list[AccountView]) -> str:
    """The engine's log words in the user's: "post #20 on sandbox" -> "“Hello…” on Sandbox"."""
    def post(match: re.Match[str]) -> str:
        words = post_words.get(int(match.group(2)))
        if words is None:
            return match.group(0)
        return f"{'P' if match.group(1) == 'P' else 'p'}ost “{words}”"

    text = _REPEATED_NAME.sub(r"\1", _POST_REF.sub(post, message))  # "Sandbox (Sandbox)" -> "Sandbox"
    for a in accounts:
        if a.handle:
            text = re.sub(rf"\bon @?{re.escape(a.handle.lstrip('@'))}\b(?! ·)", f"on {a.label}", text)
    return text


LEVEL_ICONS = {"info": ("check", "#2e9d5b"), "warning": ("alert", "#d9801a"), "error": ("close", "#d64545")}


class ActivityView(QWidget):
    """Recent events and publishing attempts, newest first; a row about a post opens it."""

    postActivated = Signal(int)

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityView")
        self.tz = tz
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["When", "What happened"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 180)
        self.tree.setFrameShape(QTreeWidget.Shape.NoFrame)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemClicked.connect(self._activated)
        self.empty = muted("Nothing has happened yet. Publishing attempts and changes appear here.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.empty)

    def set_events(self, events: list[EventView], post_words: dict[int, str] | None = None,
                   accounts: list[AccountView] | None = None) -> None:
        """`post_words`: the first words of each post the events name (instead of "post #20")."""
        self.tree.clear()
        for e in events:
            message = readable(e.message, post_words or {}, accounts or [])
            item = QTreeWidgetItem([local_wall(e.at, self.tz).strftime("%a %d %b %H:%M:%S"), message])
            name, color = LEVEL_ICONS.get(e.level, LEVEL_ICONS["info"])
            item.setIcon(0, icons.icon(name, color))
            if e.level == "error":
                item.setForeground(1, QColor("#d64545"))
            if e.post_id is not None and e.post_id in (post_words or {}):
                item.setData(0, Qt.ItemDataRole.UserRole, e.post_id)
                item.setToolTip(1, f"{message}\n\nClick to see this post.")
            else:
                item.setToolTip(1, message)
            self.tree.addTopLevelItem(item)
        self.empty.setVisible(not events)
        self.tree.setVisible(bool(events))

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        post_id = item.data(0, Qt.ItemDataRole.UserRole)
        if post_id is not None:
            self.postActivated.emit(int(post_id))
