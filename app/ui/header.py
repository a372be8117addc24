"""The bar above the calendar: navigation, the period shown, the view switch, the zone, New post."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from app.ui import icons
from app.ui.widgets import button

VIEWS = (("month", "Month", "calendar-month"), ("week", "Week", "calendar-week"),
         ("agenda", "Agenda", "agenda"), ("activity", "Activity", "activity"))


class HeaderBar(QFrame):
    viewChosen = Signal(str)
    stepRequested = Signal(int)
    todayRequested = Signal()
    newPostRequested = Signal()
    sidebarToggled = Signal()

    def __init__(self, zone_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headerBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 12, 8)
        row.setSpacing(6)
        self.sidebar_button = self._tool("sidebar", "Show or hide the sidebar")
        self.sidebar_button.clicked.connect(self.sidebarToggled.emit)
        row.addWidget(self.sidebar_button)
        self.today_button = button("Today")
        self.today_button.setToolTip("Go to today (T)")
        self.today_button.clicked.connect(self.todayRequested.emit)
        row.addWidget(self.today_button)
        self.prev_button = self._tool("chevron-left", "Previous (PgUp)")
        self.prev_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button = self._tool("chevron-right", "Next (PgDn)")
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        self.title = QLabel()
        self.title.setObjectName("headerTitle")
        self.title.setMinimumWidth(120)
        row.addWidget(self.title, 1)
        seg = QWidget()
        self.segmented = seg
        seg.setObjectName("segmented")
        seg_row = QHBoxLayout(seg)
        seg_row.setContentsMargins(0, 0, 0, 0)
        seg_row.setSpacing(0)
        self.group = QButtonGroup(self)
        self.view_buttons: dict[str, QToolButton] = {}
        for i, (name, label, icon_name) in enumerate(VIEWS):
            b = QToolButton()
            b.setText(label)
            b.setIcon(icons.icon(icon_name))
            b.setIconSize(QSize(16, 16))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setCheckable(True)
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            b.setToolTip(f"{label} (Ctrl+{i + 1})")
            b.setObjectName("segFirst" if i == 0 else "segLast" if i == len(VIEWS) - 1 else "segMiddle")
            b.clicked.connect(lambda _c=False, n=name: self.viewChosen.emit(n))
            self.group.addButton(b)
            self.view_buttons[name] = b
            seg_row.addWidget(b)
        seg.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(seg)
        self.zone = QLabel(zone_text)
        self.zone.setObjectName("zoneLabel")
        self.zone.setToolTip("Times are shown in this time zone")
        row.addWidget(self.zone)
        self.new_button = button("New post", "plus", primary=True)
        self.new_button.setToolTip("Write a new post (Ctrl+N)")
        self.new_button.clicked.connect(self.newPostRequested.emit)
        row.addWidget(self.new_button)

    @staticmethod
    def _tool(icon_name: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setIcon(icons.icon(icon_name))
        b.setIconSize(QSize(18, 18))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        return b

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        # Narrow windows keep the view switch as icons, so the period title is never clipped.
        compact = self.width() < 1180
        style = Qt.ToolButtonStyle.ToolButtonIconOnly if compact else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        if self.view_buttons["month"].toolButtonStyle() != style:
            for b in self.view_buttons.values():
                b.setToolButtonStyle(style)
                b.adjustSize()
            self.segmented.adjustSize()
            layout = self.layout()
            if layout is not None:
                layout.invalidate()
        self.zone.setVisible(self.width() >= 900)
        # A very small (or scaled) screen: "New post" keeps its icon and tooltip, the period its room.
        self.new_button.setText("" if self.width() < 760 else "New post")

    def set_view(self, name: str) -> None:
        self.view_buttons[name].setChecked(True)
        navigable = name != "activity"
        for b in (self.today_button, self.prev_button, self.next_button):
            b.setEnabled(navigable)
