"""Health in view: the status bar (publisher state, next wake-up, counts) and the activity list."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStatusBar,
    QWidget,
)

from app.core.models import PostStatus
from app.core.timeutil import humanize_delta
from app.ui import theme
from app.ui.calendar.timeline import local_wall

if TYPE_CHECKING:
    from app.engine.publisher import PublisherState



def describe_state(state: PublisherState | None, now: datetime, tz: tzinfo) -> tuple[str, str]:
    """(text, colour) for the publisher: running, paused, or a platform held by its breaker."""
    if state is None or not state.running:
        return "Publisher stopped", "#8a8f98"
    if state.paused:
        return "Publishing paused", "#d9801a"
    if state.paused_platforms:
        names = ", ".join(p.label for p in state.paused_platforms)
        return f"Publishing · {names} on hold", "#d9801a"
    if state.in_flight:
        return f"Publishing {state.in_flight} now", "#7c5cd6"
    return "Publishing on", "#2e9d5b"


def describe_next(state: PublisherState | None, now: datetime, tz: tzinfo) -> str:
    if state is None or state.paused or not state.running:
        return ""
    due = state.next_due or state.next_wakeup
    if due is None:
        return "Nothing scheduled"
    wall = local_wall(due, tz)
    when = wall.strftime("%H:%M") if wall.date() == local_wall(now, tz).date() else wall.strftime("%a %d %b %H:%M")
    if due <= now:
        return f"Next post due now ({when})"
    return f"Next post at {when} (in {humanize_delta(due - now)})"


class HealthBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.dot = QLabel()
        self.state = QLabel()
        self.next = QLabel()
        self.counts = QLabel()
        left = QWidget()
        row = QHBoxLayout(left)
        row.setContentsMargins(6, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.dot)
        row.addWidget(self.state)
        self.addWidget(left)
        self.addWidget(self.next, 1)
        self.addPermanentWidget(self.counts)

    def update_health(self, state: PublisherState | None, counts: dict[PostStatus, int], now: datetime, tz: tzinfo) -> None:
        text, color = describe_state(state, now, tz)
        self.dot.setText(f"<span style='color:{color};font-size:14px'>●</span>")
        self.state.setText(text)
        if state and state.paused_platforms:
            self.state.setToolTip("\n".join(f"{p.label}: {reason}" for p, reason in state.paused_platforms.items()))
        else:
            self.state.setToolTip("")
        self.next.setText(describe_next(state, now, tz))
        parts = [f"{counts.get(PostStatus.SCHEDULED, 0)} scheduled"]
        for status in (PostStatus.NEEDS_REVIEW, PostStatus.FAILED, PostStatus.PARTIAL, PostStatus.MISSED):
            n = counts.get(status, 0)
            if n:
                parts.append(f"<span style='color:{theme.status_color(status).name()}'>{n} "
                             f"{theme.STATUS_LABELS[status].lower()}</span>")
        parts.append(f"{counts.get(PostStatus.PUBLISHED, 0)} published")
        self.counts.setText("  ·  ".join(parts))
