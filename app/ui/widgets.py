"""Small building blocks shared by the window's panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QLayout, QPushButton, QSizePolicy, QWidget

from app.core.models import PostStatus
from app.ui import icons, theme


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every widget in `layout`."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()
            widget.setParent(None)  # gone now, not when the deferred delete runs
            widget.deleteLater()


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, instead of being cut mid-word."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)
        self._elide()

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, max(0, self.width() - 2)))


def section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setProperty("role", "section")
    return label


def separator() -> QFrame:
    line = QFrame()
    line.setProperty("role", "separator")
    line.setFrameShape(QFrame.Shape.NoFrame)
    return line


def muted(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "muted")
    label.setWordWrap(wrap)
    return label


def pill(text: str, color: QColor | str) -> QLabel:
    """A rounded status label tinted with `color`."""
    c = QColor(color)
    label = QLabel(text)
    label.setProperty("pill", True)
    pal = QApplication.palette()
    base = pal.color(QPalette.ColorRole.Base)
    fg = c.lighter(150) if theme.is_dark(pal) else c.darker(125)
    label.setStyleSheet(f"background: {theme.mix(base, c, 0.2).name()}; color: {fg.name()};")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setSizePolicy(label.sizePolicy().horizontalPolicy(), label.sizePolicy().verticalPolicy())
    return label


def status_pill(status: PostStatus | str, label: str | None = None) -> QLabel:
    try:
        ps = PostStatus(str(status))
    except ValueError:
        ps = PostStatus.DRAFT
    return pill(label or theme.STATUS_LABELS[ps], theme.status_color(ps))


def button(text: str, icon_name: str = "", *, primary: bool = False, danger: bool = False,
           flat: bool = False, parent: QWidget | None = None) -> QPushButton:
    b = QPushButton(text, parent)
    if icon_name:
        b.setIcon(icons.icon(icon_name, "#ffffff" if primary else ("#d64545" if danger else None)))
    if primary:
        b.setProperty("primary", True)
    if danger:
        b.setProperty("danger", True)
    if flat:
        b.setProperty("flat", True)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b
