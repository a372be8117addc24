"""A short message floating over the bottom of the calendar, with an optional action button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.ui.qt import timer


class Toast(QFrame):
    """Non-blocking feedback: why a drop was refused, what was moved, an offer to duplicate."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("toast")
        self.host = host
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.action = QPushButton()
        self.action.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_button = QPushButton("✕")
        self.close_button.setFixedWidth(28)
        self.close_button.setToolTip("Dismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.close_button)
        self._timer = timer(self, 6000, single_shot=True)
        self._timer.timeout.connect(self.hide)
        self.close_button.clicked.connect(self.hide)
        self.action.clicked.connect(self._run_action)
        self._callback: Callable[[], None] | None = None
        self.undo_index = -1
        self.undo_stack: QUndoStack | None = None
        host.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, *, kind: str = "info", action: str = "",
                     callback: Callable[[], None] | None = None, msec: int = 6000, undo_index: int = -1) -> None:
        """`undo_index`: the undo stack's index this message describes; it goes when the stack moves.
        An "Undo" offer without one describes the stack as it is now (`undo_stack`, set by the window)."""
        if undo_index < 0 and action == "Undo" and self.undo_stack is not None:
            undo_index = self.undo_stack.index()
        self.undo_index = undo_index
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.action.setVisible(bool(action))
        self.action.setText(action)
        self._callback = callback
        self._place()
        self.show()
        self.raise_()
        self._timer.start(msec)

    def undo_moved(self, index: int) -> None:
        """Ctrl+Z or Ctrl+Shift+Z: a "Moved… Undo" offer that no longer holds goes away."""
        if self.undo_index >= 0 and index != self.undo_index:
            self.undo_index = -1
            self._callback = None
            self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _run_action(self) -> None:
        callback, self._callback = self._callback, None
        self.hide()
        if callback is not None:
            callback()

    def _place(self) -> None:
        width = min(560, self.host.width() - 32)
        self.setFixedWidth(max(200, width))
        self.adjustSize()
        x = (self.host.width() - self.width()) // 2
        y = self.host.height() - self.height() - 20
        self.move(max(8, x), max(8, y))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.host and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
