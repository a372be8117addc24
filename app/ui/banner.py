"""The missed-posts banner: what did not go out while Outpost was closed, and what to do now."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.store.views import PostView
from app.ui import icons
from app.ui.calendar.timeline import first_words, local_wall
from app.ui.widgets import ElidedLabel, button, clear_layout

SHOWN = 4


class MissedBanner(QFrame):
    """Non-blocking: sits above the calendar until every missed post is dealt with."""

    publishRequested = Signal(list)
    rescheduleRequested = Signal(int)
    discardRequested = Signal(list)
    openRequested = Signal(int)

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("missedBanner")
        self.tz = tz
        self.posts: list[PostView] = []
        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 8, 12, 8)
        outer.setSpacing(10)
        glyph = QLabel()
        glyph.setPixmap(icons.icon("clock", "#b5468f").pixmap(20, 20))
        glyph.setAlignment(Qt.AlignmentFlag.AlignTop)
        outer.addWidget(glyph)
        body = QVBoxLayout()
        body.setSpacing(3)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        body.addWidget(self.title)
        self.rows = QVBoxLayout()
        self.rows.setSpacing(2)
        body.addLayout(self.rows)
        outer.addLayout(body, 1)
        actions = QVBoxLayout()
        actions.setSpacing(4)
        self.publish_all = button("Publish all now", "send", primary=True)
        self.discard_all = button("Discard all", "close")
        self.publish_all.clicked.connect(lambda: self.publishRequested.emit([p.id for p in self.posts]))
        self.discard_all.clicked.connect(lambda: self.discardRequested.emit([p.id for p in self.posts]))
        actions.addWidget(self.publish_all)
        actions.addWidget(self.discard_all)
        actions.addStretch(1)
        outer.addLayout(actions)
        self.hide()

    def set_posts(self, posts: list[PostView]) -> None:
        self.posts = posts
        clear_layout(self.rows)
        n = len(posts)
        self.title.setText(f"{n} post{'s' if n != 1 else ''} did not go out while Outpost was closed"
                           if n else "")
        for post in posts[:SHOWN]:
            self.rows.addWidget(self._row(post))
        if n > SHOWN:
            more = QLabel(f"and {n - SHOWN} more: see Missed in the sidebar")
            more.setProperty("role", "muted")
            self.rows.addWidget(more)
        self.setVisible(n > 0)

    def _row(self, post: PostView) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        when = local_wall(post.scheduled_at, self.tz).strftime("%a %d %b %H:%M") if post.scheduled_at else ""
        stamp = QLabel(when)
        stamp.setStyleSheet("font-weight: 600;")
        layout.addWidget(stamp)
        label = ElidedLabel(first_words(post.text, 200))
        label.setToolTip(post.text)
        layout.addWidget(label, 1)
        for text, signal, value in (("Publish now", self.publishRequested, [post.id]),
                                    ("Reschedule…", self.rescheduleRequested, post.id),
                                    ("Discard", self.discardRequested, [post.id])):
            b = button(text, flat=True)
            b.clicked.connect(lambda _c=False, s=signal, v=value: s.emit(v))
            layout.addWidget(b)
        return row
