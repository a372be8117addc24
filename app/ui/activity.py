"""The activity view: recent events and publishing attempts, newest first."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.store.views import EventView
from app.ui import icons
from app.ui.calendar.timeline import local_wall
from app.ui.widgets import muted

LEVEL_ICONS = {"info": ("check", "#2e9d5b"), "warning": ("alert", "#d9801a"), "error": ("close", "#d64545")}


class ActivityView(QWidget):
    """Recent events and publishing attempts, newest first."""

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
        self.empty = muted("Nothing has happened yet. Publishing attempts and changes appear here.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.empty)

    def set_events(self, events: list[EventView]) -> None:
        self.tree.clear()
        for e in events:
            item = QTreeWidgetItem([local_wall(e.at, self.tz).strftime("%a %d %b %H:%M:%S"), e.message])
            name, color = LEVEL_ICONS.get(e.level, LEVEL_ICONS["info"])
            item.setIcon(0, icons.icon(name, color))
            if e.level == "error":
                item.setForeground(1, QColor("#d64545"))
            item.setToolTip(1, e.message)
            self.tree.addTopLevelItem(item)
        self.empty.setVisible(not events)
        self.tree.setVisible(bool(events))
