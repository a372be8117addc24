"""The sidebar: accounts with status dots, what needs attention, and undated drafts to drag out."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import AccountStatus, PostStatus
from app.store.views import AccountView, PostView
from app.ui import icons, theme
from app.ui.calendar.canvas import CalendarCanvas
from app.ui.calendar.timeline import first_words
from app.ui.widgets import button

ATTENTION = (PostStatus.NEEDS_REVIEW, PostStatus.FAILED, PostStatus.PARTIAL, PostStatus.MISSED)
ATTENTION_ICONS = ("alert", "close", "alert", "clock")
PROBLEM_DOT = "#d64545"  # an account whose last post failed: red, whatever its connection


def _dot_icon(platform_icon: QIcon, dot: str) -> QIcon:
    """The platform glyph with a small status dot at its lower right."""
    out = QIcon()
    for size, ratio in ((18, 1.0), (18, 2.0)):
        pm = QPixmap(int(size * ratio), int(size * ratio))
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        platform_icon.paint(p, 0, 0, size - 2, size - 2)
        p.setPen(QColor("white"))
        p.setBrush(QColor(dot))
        p.drawEllipse(size - 8, size - 8, 7, 7)
        p.end()
        out.addPixmap(pm)
    return out


class DraftList(QListWidget):
    """Undated drafts. Pressing one and moving onto the calendar schedules it where it is dropped.

    The drag is driven by this list's own mouse events (Qt keeps delivering them here while the
    button is held), which it forwards to the calendar under the pointer.
    """

    activated = Signal(int)

    def __init__(self, canvas: Callable[[], CalendarCanvas | None]) -> None:
        super().__init__()
        self.canvas = canvas
        self.drafts: dict[int, PostView] = {}
        self._press: tuple[QPoint, int] | None = None
        self._dragging = False
        self.setDragEnabled(False)
        self.setMouseTracking(True)
        self.itemDoubleClicked.connect(lambda item: self.activated.emit(int(item.data(Qt.ItemDataRole.UserRole))))
        self.setIconSize(QSize(16, 16))
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_drafts(self, drafts: list[PostView]) -> None:
        self.clear()
        self.drafts = {d.id: d for d in drafts}
        for d in drafts:
            item = QListWidgetItem(first_words(d.text or d.title or "(no text)", 48))
            item.setData(Qt.ItemDataRole.UserRole, d.id)
            item.setToolTip("Drag onto the calendar to schedule it.\n\n" + (d.text or "")[:400])
            if d.platforms:
                item.setIcon(icons.platform_icon(d.platforms[0]))
            else:
                item.setIcon(icons.icon("draft"))
            self.addItem(item)

    def item_rect(self, post_id: int) -> QPoint:
        for i in range(self.count()):
            item = self.item(i)
            if int(item.data(Qt.ItemDataRole.UserRole)) == post_id:
                return self.visualItemRect(item).center()
        raise KeyError(post_id)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        item = self.itemAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and item is not None:
            self._press = (event.position().toPoint(), int(item.data(Qt.ItemDataRole.UserRole)))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return super().mouseMoveEvent(event)
        start, post_id = self._press
        pos = event.position().toPoint()
        if not self._dragging and (pos - start).manhattanLength() < QApplication.startDragDistance():
            return None
        self._dragging = True
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        canvas = self.canvas()
        if canvas is not None:
            canvas.external_drag_move(self.drafts[post_id], self.viewport().mapToGlobal(pos))
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, self._press = self._press, None
        dragging, self._dragging = self._dragging, False
        self.unsetCursor()
        canvas = self.canvas()
        if dragging and press is not None and canvas is not None:
            if not canvas.external_drop(self.drafts[press[1]], self.viewport().mapToGlobal(event.position().toPoint())):
                canvas.external_drag_cancel()
            return
        super().mouseReleaseEvent(event)


class _Row(QFrame):
    """A clickable row with an icon, a label and a count."""

    clicked = Signal()

    def __init__(self, icon: QIcon, text: str, color: str = "") -> None:
        super().__init__()
        self.detail = QLabel()  # e.g. which account failed, under the label
        self.detail.setProperty("role", "muted")
        self.detail.setWordWrap(True)
        self.detail.hide()
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setObjectName("sidebarRow")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)
        layout.setSpacing(8)
        glyph = QLabel()
        glyph.setPixmap(icon.pixmap(16, 16))
        self.text = QLabel(text)
        self.count = QLabel("0")
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.color = color
        words = QVBoxLayout()
        words.setContentsMargins(0, 0, 0, 0)
        words.setSpacing(0)
        words.addWidget(self.text)
        words.addWidget(self.detail)
        layout.addWidget(glyph)
        layout.addLayout(words, 1)
        layout.addWidget(self.count)

    def set_count(self, n: int) -> None:
        self.count.setText(str(n))
        strong = n > 0 and self.color
        self.count.setStyleSheet(
            f"color: white; background: {self.color}; border-radius: 8px; padding: 0 6px; font-weight: 600;"
            if strong else "color: palette(placeholder-text);"
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()


class Sidebar(QFrame):
    statusFilterRequested = Signal(object)  # PostStatus
    accountsRequested = Signal()
    draftActivated = Signal(int)

    def __init__(self, canvas: Callable[[], CalendarCanvas | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setMinimumWidth(200)
        self.setMaximumWidth(280)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 8)
        layout.setSpacing(0)
        layout.addWidget(self._section("Accounts"))
        self.accounts = QListWidget()
        self.accounts.setIconSize(QSize(18, 18))
        self.accounts.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accounts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.accounts.setSizeAdjustPolicy(QListWidget.SizeAdjustPolicy.AdjustToContents)
        layout.addWidget(self.accounts)
        self.manage = button("Manage accounts…", "users", flat=True)
        self.manage.clicked.connect(self.accountsRequested.emit)
        holder = QHBoxLayout()
        holder.setContentsMargins(8, 0, 8, 0)
        holder.addWidget(self.manage)
        holder.addStretch(1)
        layout.addLayout(holder)
        layout.addWidget(self._section("Needs attention"))
        self.rows: dict[PostStatus, _Row] = {}
        for status, icon_name in zip(ATTENTION, ATTENTION_ICONS, strict=True):
            color = theme.status_color(status).name()
            row = _Row(icons.icon(icon_name, color), theme.STATUS_LABELS[status], color)
            row.clicked.connect(lambda s=status: self.statusFilterRequested.emit(s))
            row.setToolTip(f"Show {theme.STATUS_LABELS[status].lower()} posts in the agenda")
            self.rows[status] = row
            layout.addWidget(row)
        self.drafts_title = self._section("Drafts")
        layout.addWidget(self.drafts_title)
        self.drafts = DraftList(canvas)
        self.drafts.activated.connect(self.draftActivated.emit)
        layout.addWidget(self.drafts, 1)
        self.drafts_hint = QLabel("Drag a draft onto the calendar to schedule it.")
        self.drafts_hint.setProperty("role", "muted")
        self.drafts_hint.setWordWrap(True)
        self.drafts_hint.setContentsMargins(12, 4, 12, 0)
        layout.addWidget(self.drafts_hint)

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setProperty("section", True)
        return label

    def set_accounts(self, accounts: list[AccountView], problems: dict[int, str] | None = None) -> None:
        """`problems`: each account's latest error among posts that need attention (its dot turns red)."""
        problems = problems or {}
        self.accounts.clear()
        names = [a.display_name or a.handle for a in accounts]
        for a, name in zip(accounts, names, strict=True):
            # The same name on several platforms: say which is which (a.label never repeats a word).
            label = a.label if names.count(name) > 1 or not name else name
            problem = problems.get(a.id, "")
            dot = PROBLEM_DOT if problem and a.status is AccountStatus.ACTIVE else theme.ACCOUNT_DOTS[a.status]
            item = QListWidgetItem(_dot_icon(icons.platform_icon(a.platform), dot), label)
            item.setData(Qt.ItemDataRole.UserRole, a.id)
            state = {"active": "Connected", "needs_reconnect": "Needs reconnecting", "disabled": "Disabled"}[a.status.value]
            item.setToolTip(f"{a.label}\n{state}" + (f"\nLast error: {problem}" if problem else ""))
            self.accounts.addItem(item)
        if not accounts:
            self.accounts.addItem(QListWidgetItem("No accounts yet"))
        rows = max(1, len(accounts))
        row_height = max(self.accounts.sizeHintForRow(0), 24)
        self.accounts.setFixedHeight(min(7, rows) * (row_height + 2) + 8)

    def set_counts(self, counts: dict[PostStatus, int], partly: list[PostView] | None = None) -> None:
        """`partly`: the partly published posts that need attention, to name the accounts they failed on."""
        for status, row in self.rows.items():
            row.set_count(counts.get(status, 0))
        row = self.rows[PostStatus.PARTIAL]
        failing = [p for p in (partly or []) if p.partly_published]
        # The account's own name is enough here (the platform is in its tooltip and the details).
        accounts = list(dict.fromkeys(t.account_label.split(" · ")[0] for p in failing for t in p.problem_targets))
        row.detail.setText(("Failed on " + ", ".join(accounts[:2]) + ("…" if len(accounts) > 2 else ""))
                           if accounts else "")
        row.detail.setVisible(bool(accounts))
        notes = "\n".join(f"“{first_words(p.text or p.title, 40)}”: {p.attention_note}" for p in failing[:8])
        row.setToolTip("Out on some accounts, not on others. Show them in the agenda"
                       + (f"\n\n{notes}" if notes else ""))

    def set_drafts(self, drafts: list[PostView]) -> None:
        self.drafts.set_drafts(drafts)
        self.drafts_title.setText(f"DRAFTS · {len(drafts)}" if drafts else "DRAFTS")
        self.drafts_hint.setText("Drag a draft onto the calendar to schedule it." if drafts
                                 else "Drafts without a date appear here.")
