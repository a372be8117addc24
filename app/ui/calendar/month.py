"""The month view: a six-week grid of days, each with its posts as chips and "+N more"."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from app.store.views import PostView
from app.ui import theme
from app.ui.calendar.canvas import CalendarCanvas
from app.ui.calendar.chips import CHIP_HEIGHT, chip_font, paint_chip
from app.ui.calendar.timeline import (
    add_months,
    default_time_for,
    local_wall,
    month_grid_start,
    range_utc,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent

HEADER = 28
DAY_LABEL = 24
GAP = 2
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class MonthView(CalendarCanvas):
    DAYS = 42

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(tz, parent)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.month = self.cursor_day.replace(day=1)
        self._chip_rects: list[tuple[QRectF, int]] = []
        self._more_rects: list[tuple[QRectF, date, int]] = []
        self.setObjectName("monthView")
        self.setAccessibleName("Month calendar")

    def sizeHint(self) -> QSize:
        return QSize(760, 560)

    def minimumSizeHint(self) -> QSize:
        return QSize(420, 320)

    # -- range --------------------------------------------------------------------------------
    def first_day(self) -> date:
        return month_grid_start(self.month, self.first_weekday)

    def anchor_to(self, day: date) -> None:
        self.month = day.replace(day=1)
        self.relayout()

    def step_page(self, pages: int) -> None:
        target = add_months(self.cursor_day, pages)
        self.set_cursor(target)

    def title(self) -> str:
        return self.month.strftime("%B %Y")

    def neighbour_ranges(self) -> list[tuple[datetime, datetime]]:
        return [range_utc(month_grid_start(add_months(self.month, step), self.first_weekday), self.DAYS, self.tz)
                for step in (1, -1)]

    # -- geometry -----------------------------------------------------------------------------
    def cell_rect(self, index: int) -> QRectF:
        w = self.viewport().width() / 7
        h = (self.viewport().height() - HEADER) / 6
        row, col = divmod(index, 7)
        return QRectF(col * w, HEADER + row * h, w, h)

    def day_rect(self, day: date) -> QRectF | None:
        index = (day - self.first_day()).days
        return self.cell_rect(index) if 0 <= index < self.DAYS else None

    def capacity(self) -> int:
        h = (self.viewport().height() - HEADER) / 6
        return max(0, int((h - DAY_LABEL - 4) // (CHIP_HEIGHT + GAP)))

    def relayout(self) -> None:
        self._chip_rects = []
        self._more_rects = []
        cap = self.capacity()
        first = self.first_day()
        for i in range(self.DAYS):
            day = first + timedelta(days=i)
            posts = self.by_day.get(day, [])
            if not posts:
                continue
            cell = self.cell_rect(i)
            shown = posts if len(posts) <= cap else posts[: max(0, cap - 1)]
            y = cell.top() + DAY_LABEL
            for post in shown:
                self._chip_rects.append((QRectF(cell.left() + 4, y, cell.width() - 8, CHIP_HEIGHT), post.id))
                y += CHIP_HEIGHT + GAP
            hidden = len(posts) - len(shown)
            if hidden:
                self._more_rects.append((QRectF(cell.left() + 4, y, cell.width() - 8, CHIP_HEIGHT), day, hidden))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    def chip_rect(self, post_id: int) -> QRectF | None:
        for rect, pid in self._chip_rects:
            if pid == post_id:
                return rect
        return None

    def chip_at(self, pos: QPoint) -> int | None:
        for rect, pid in self._chip_rects:
            if rect.contains(pos):
                return pid
        return None

    def more_at(self, pos: QPoint) -> date | None:
        for rect, day, _n in self._more_rects:
            if rect.contains(pos):
                return day
        return None

    def day_at(self, pos: QPoint) -> date | None:
        if pos.y() < HEADER or not self.viewport().rect().contains(pos):
            return None
        w = self.viewport().width() / 7
        h = (self.viewport().height() - HEADER) / 6
        col = min(6, int(pos.x() // w))
        row = min(5, int((pos.y() - HEADER) // h))
        return self.first_day() + timedelta(days=row * 7 + col)

    def wall_at(self, pos: QPoint, post: PostView, external: bool) -> datetime | None:
        day = self.day_at(pos)
        if day is None:
            return None
        if post.scheduled_at is None:
            return local_wall(default_time_for(day, self.clock(), self.tz), self.tz)
        # A move to another day keeps the time of day.
        return datetime.combine(day, local_wall(post.scheduled_at, self.tz).time())

    def suggested_instant(self, pos: QPoint, day: date) -> object:
        return default_time_for(day, self.clock(), self.tz, time(9, 0))

    # -- painting -----------------------------------------------------------------------------
    def paint_static(self, p: QPainter) -> None:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        p.fillRect(self.viewport().rect(), base)
        line = theme.grid_line(pal)
        muted = theme.muted_text(pal)
        text = pal.color(QPalette.ColorRole.Text)
        accent = theme.accent(pal)
        w = self.viewport().width() / 7
        small = chip_font(self.font())
        head_font = QFont(small)
        head_font.setWeight(QFont.Weight.DemiBold)
        p.setFont(head_font)
        p.setPen(muted)
        for col in range(7):
            name = WEEKDAYS[(self.first_weekday + col) % 7].upper()
            p.drawText(QRectF(col * w, 0, w, HEADER), Qt.AlignmentFlag.AlignCenter, name)
        today = self.today()
        first = self.first_day()
        # Worked out once per paint, not per cell.
        other_month = theme.weekend_fill(pal)
        weekend = theme.mix(base, other_month, 0.5)
        past = theme.mix(base, pal.color(QPalette.ColorRole.Window), 0.25)
        grid = QPen(line, 1)
        for i in range(self.DAYS):
            day = first + timedelta(days=i)
            cell = self.cell_rect(i)
            if day.month != self.month.month:
                p.fillRect(cell, other_month)
            elif day.weekday() >= 5:
                p.fillRect(cell, weekend)
            if day < today:
                p.fillRect(cell, past)
            p.setPen(grid)
            p.drawRect(cell)
            label = str(day.day) if day.day != 1 else day.strftime("%-d %b")
            label_rect = QRectF(cell.left() + 6, cell.top() + 4, cell.width() - 12, DAY_LABEL - 6)
            p.setFont(head_font if day == today else small)
            if day == today:
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                width = max(22, p.fontMetrics().horizontalAdvance(label) + 12)
                pill = QRectF(label_rect.left() - 3, label_rect.top() - 1, width, 20)
                p.setBrush(accent)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawRoundedRect(pill, 10, 10)
                p.setPen(pal.color(QPalette.ColorRole.HighlightedText))
                p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
                p.setBrush(Qt.BrushStyle.NoBrush)
            else:
                p.setPen(text if day.month == self.month.month and day >= today else muted)
                p.drawText(label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            if day == self.cursor_day and self.hasFocus():
                p.setPen(QPen(accent, 2))
                p.drawRect(cell.adjusted(1, 1, -1, -1))
        selected = set(self.selected)
        dragged = {q.id for q in self.drag.posts} if self.drag and self.drag.active else set()
        for rect, pid in self._chip_rects:
            post = self.by_id[pid]
            p.setOpacity(0.35 if pid in dragged else 1.0)
            paint_chip(p, rect, post, self.tz, pal, small, selected=pid in selected)
        p.setOpacity(1.0)
        p.setFont(small)
        for rect, _day, hidden in self._more_rects:
            p.setPen(accent)
            p.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, f"+{hidden} more")
        self.paint_empty_hint(p)

    def paint_overlay(self, p: QPainter) -> None:
        if not self.drag or not self.drag.active:
            return
        tint = QColor(theme.status_color_refused() if self.drag.refused else theme.accent(self.palette()))
        tint.setAlpha(40)
        for day in self._drop_days():
            cell = self.day_rect(day)
            if cell is not None:
                p.fillRect(cell, tint)
        self._paint_ghosts(p, chip_font(self.font()))
        self.paint_refusal(p)

    def _drop_days(self) -> set[date]:
        if not self.drag or not self.drag.active:
            return set()
        return {local_wall(t, self.tz).date() for t in self.drag.targets.values()} or (
            {d} if (d := self.day_at(self.drag.pos)) else set()
        )

    def _paint_ghosts(self, p: QPainter, font: QFont) -> None:
        if not self.drag or not self.drag.active:
            return
        stacked: dict[date, int] = {}
        for post in self.drag.posts:
            target = self.drag.targets.get(post.id)
            if target is None:
                continue
            day = local_wall(target, self.tz).date()
            cell = self.day_rect(day)
            if cell is None:
                continue
            n = stacked.get(day, 0)
            stacked[day] = n + 1
            y = min(cell.top() + DAY_LABEL + n * (CHIP_HEIGHT + GAP), cell.bottom() - CHIP_HEIGHT - 2)
            moved = _with_time(post, target)
            paint_chip(p, QRectF(cell.left() + 4, y, cell.width() - 8, CHIP_HEIGHT), moved, self.tz,
                       self.palette(), font, ghost=True, refused=bool(self.drag.refused))


def _with_time(post: PostView, at: datetime) -> PostView:
    from dataclasses import replace

    return replace(post, scheduled_at=at)
