"""The week view: seven day columns over a 24-hour grid with 15-minute slots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from app.core.timeutil import localize, to_local
from app.store.views import PostView
from app.ui import theme
from app.ui.calendar.canvas import CalendarCanvas
from app.ui.calendar.chips import chip_font, paint_chip
from app.ui.calendar.timeline import SLOT_MINUTES, local_wall, range_utc, snap_minutes, week_start

HEADER = 46
GUTTER = 58
HOUR = 48  # pixels per hour: a 15-minute slot is 12 px
CHIP_MINUTES = 45
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _WeekHeader(QWidget):
    """Day names and dates above the columns; the zone's UTC offset above the hour gutter."""

    def __init__(self, view: WeekView) -> None:
        super().__init__(view)
        self.view = view

    def zone_label(self) -> str:
        """"UTC", "UTC+1" or "UTC+5:30": the zone's offset now, from one reading of the clock."""
        return zone_label(self.view.tz, self.view.clock())

    def paintEvent(self, event: QPaintEvent) -> None:
        v = self.view
        p = QPainter(self)
        pal = v.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        muted = theme.muted_text(pal)
        accent = theme.accent(pal)
        small = chip_font(v.font())
        big = QFont(v.font())
        big.setPointSizeF(v.font().pointSizeF() + 4)
        today = v.today()
        p.setFont(small)
        p.setPen(muted)
        label = self.zone_label()
        room = QRectF(2, HEADER - 20, GUTTER - 8, 16)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if p.fontMetrics().horizontalAdvance(label) > room.width():
            # "UTC-3:30" is wider than the gutter: "UTC" above, the offset below.
            p.drawText(room.translated(0, -16), right, "UTC")
            label = label.removeprefix("UTC")
        p.drawText(room, right, label)
        for col in range(7):
            day = v.first_day() + timedelta(days=col)
            x = v.column_x(col)
            w = v.column_width()
            name = WEEKDAYS[day.weekday()].upper()
            p.setFont(small)
            p.setPen(accent if day == today else muted)
            p.drawText(QRectF(x, 4, w, 16), Qt.AlignmentFlag.AlignCenter, name)
            p.setFont(big)
            number = QRectF(x + w / 2 - 15, 20, 30, 24)
            if day == today:
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(accent)
                p.drawRoundedRect(number, 12, 12)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(pal.color(QPalette.ColorRole.HighlightedText))
            else:
                p.setPen(pal.color(QPalette.ColorRole.Text) if day >= today else muted)
            p.drawText(number, Qt.AlignmentFlag.AlignCenter, str(day.day))
        p.setPen(QPen(theme.grid_line(pal), 1))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()


class WeekView(CalendarCanvas):
    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(tz, parent)
        self.setObjectName("weekView")
        self.setAccessibleName("Week calendar")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setViewportMargins(0, HEADER, 0, 0)
        self.header = _WeekHeader(self)
        self.anchor = week_start(self.cursor_day, self.first_weekday)
        self._chip_rects: list[tuple[QRectF, int]] = []  # in content coordinates
        self._grab_offset = 0.0
        self.verticalScrollBar().setSingleStep(HOUR // 4)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._update_scroll_range()
        self.verticalScrollBar().setValue(int(7.5 * HOUR))
        self._scroll_pending = True  # the next posts decide where the hours open (now, or the first post)

    def _scrolled(self, _value: int) -> None:
        self.static_layer = None
        self.viewport().update()

    def sizeHint(self) -> QSize:
        return QSize(760, 560)

    def minimumSizeHint(self) -> QSize:
        return QSize(420, 320)

    # -- range --------------------------------------------------------------------------------
    def first_day(self) -> date:
        return self.anchor

    def anchor_to(self, day: date) -> None:
        self.anchor = week_start(day, self.first_weekday)
        self._scroll_pending = True
        self.relayout()
        self.header.update()

    def set_posts(self, posts: list[PostView]) -> None:
        super().set_posts(posts)
        if self._scroll_pending:
            self._scroll_pending = False
            self.scroll_to_time(self.opening_time(), margin_hours=1)

    def opening_time(self) -> time:
        """Where the hours open: the cursor day's first post still to come (or, today, now when
        none is left), else the week's first post, else 08:00."""
        now = local_wall(self.clock(), self.tz)
        in_week = self.anchor <= self.cursor_day < self.anchor + timedelta(days=7)
        day_posts = [local_wall(p.scheduled_at, self.tz) for p in self.by_day.get(self.cursor_day, [])
                     if p.scheduled_at is not None] if in_week else []
        if self.cursor_day == now.date() and in_week:
            coming = [w for w in day_posts if w >= now - timedelta(minutes=30)]
            return min(coming).time() if coming else min(now, now.replace(hour=23, minute=0)).time()
        if day_posts:
            return min(day_posts).time()
        week = [local_wall(p.scheduled_at, self.tz) for p in self.posts if p.scheduled_at is not None]
        firsts = [w.time() for w in week if self.anchor <= w.date() < self.anchor + timedelta(days=7)]
        return min(firsts) if firsts else time(8, 0)

    def step_page(self, pages: int) -> None:
        self.set_cursor(self.cursor_day + timedelta(days=7 * pages))

    def title(self) -> str:
        end = self.anchor + timedelta(days=6)
        if end.month == self.anchor.month:
            return f"{self.anchor.day} – {end.day} {end:%B %Y}"
        return f"{self.anchor:%d %b} – {end:%d %b %Y}"

    def neighbour_ranges(self) -> list[tuple[datetime, datetime]]:
        return [range_utc(self.anchor + timedelta(days=7 * step), 7, self.tz) for step in (1, -1)]

    def scroll_to_time(self, at: time, margin_hours: float = 0.0) -> None:
        """Scroll so `at` is at the top (with `margin_hours` of the hours before it above)."""
        self._scroll_pending = False
        self.verticalScrollBar().setValue(int(max(0.0, at.hour + at.minute / 60 - margin_hours) * HOUR))

    # -- geometry (content y = viewport y + scroll) -----------------------------------------
    def column_width(self) -> float:
        return (self.viewport().width() - GUTTER) / 7

    def column_x(self, col: int) -> float:
        return GUTTER + col * self.column_width()

    def y_for(self, at: time) -> float:
        """Viewport y of a time of day."""
        return (at.hour * 60 + at.minute + at.second / 60) * HOUR / 60 - self.verticalScrollBar().value()

    def point_for(self, day: date, at: time) -> QPoint:
        """A viewport point inside the slot of `day` at `at` (used by keyboard-less tests and drags)."""
        col = (day - self.anchor).days
        return QPoint(int(self.column_x(col) + self.column_width() / 2), int(self.y_for(at) + 3))

    def minutes_at(self, y: float) -> float:
        return (y + self.verticalScrollBar().value()) * 60 / HOUR

    def _update_scroll_range(self) -> None:
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, 24 * HOUR - self.viewport().height()))
        sb.setPageStep(self.viewport().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.header.setGeometry(cr.left(), cr.top(), cr.width(), HEADER)
        self._update_scroll_range()
        self.relayout()

    def relayout(self) -> None:
        self._chip_rects = []
        w = self.column_width()
        for col in range(7):
            posts = self.by_day.get(self.anchor + timedelta(days=col), [])
            for lane_rect, pid in _lanes(posts, self.tz):
                left = self.column_x(col) + 2 + lane_rect[0] * (w - 6)
                width = lane_rect[1] * (w - 6) - 1
                self._chip_rects.append((QRectF(left, lane_rect[2], width, lane_rect[3]), pid))

    def _visible(self, rect: QRectF) -> QRectF:
        return rect.translated(0, -self.verticalScrollBar().value())

    def chip_rect(self, post_id: int) -> QRectF | None:
        for rect, pid in self._chip_rects:
            if pid == post_id:
                return self._visible(rect)
        return None

    def chip_at(self, pos: QPoint) -> int | None:
        for rect, pid in reversed(self._chip_rects):
            if self._visible(rect).contains(pos):
                return pid
        return None

    def day_at(self, pos: QPoint) -> date | None:
        if pos.x() < GUTTER or not self.viewport().rect().contains(pos):
            return None
        col = min(6, int((pos.x() - GUTTER) // self.column_width()))
        return self.anchor + timedelta(days=col)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        hit = self.chip_at(pos)
        rect = self.chip_rect(hit) if hit is not None else None
        self._grab_offset = pos.y() - rect.top() if rect is not None else 0.0
        super().mousePressEvent(event)

    def wall_at(self, pos: QPoint, post: PostView, external: bool) -> datetime | None:
        day = self.day_at(pos)
        if day is None:
            return None
        offset = 0.0 if external else self._grab_offset
        # The chip's top follows the pointer; it lands on the nearest 15-minute slot.
        minutes = snap_minutes(self.minutes_at(pos.y() - offset) + SLOT_MINUTES / 2)
        return datetime.combine(day, time(minutes // 60, minutes % 60))

    def suggested_instant(self, pos: QPoint, day: date) -> object:
        minutes = snap_minutes(self.minutes_at(pos.y()))
        return localize(datetime.combine(day, time(minutes // 60, minutes % 60)), self.tz)

    def set_cursor(self, day: date) -> None:
        before, pending = self.anchor, self._scroll_pending
        super().set_cursor(day)
        if self.anchor == before:
            self._scroll_pending = pending  # moving within the week never scrolls the hours away
        self.header.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Up and Down move through the hours here; Left and Right through the days.
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not event.modifiers():
            step = HOUR if event.key() == Qt.Key.Key_Down else -HOUR
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + step)
            return
        super().keyPressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.drag is not None and self.drag.active:
            # Near the top or bottom edge a drag scrolls the hours, so any time can be reached.
            y = event.position().y()
            edge = 24
            if y < edge:
                self.verticalScrollBar().setValue(self.verticalScrollBar().value() - HOUR // 4)
            elif y > self.viewport().height() - edge:
                self.verticalScrollBar().setValue(self.verticalScrollBar().value() + HOUR // 4)
        super().mouseMoveEvent(event)

    # -- painting -----------------------------------------------------------------------------
    def paint_static(self, p: QPainter) -> None:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        vp = self.viewport().rect()
        p.fillRect(vp, base)
        line = theme.grid_line(pal)
        faint = theme.mix(base, line, 0.45)
        muted = theme.muted_text(pal)
        accent = theme.accent(pal)
        scroll = self.verticalScrollBar().value()
        today = self.today()
        now_wall = local_wall(self.clock(), self.tz)
        small = chip_font(self.font())
        w = self.column_width()
        for col in range(7):
            day = self.anchor + timedelta(days=col)
            x = self.column_x(col)
            if day.weekday() >= 5:
                p.fillRect(QRectF(x, 0, w, vp.height()), theme.mix(base, theme.weekend_fill(pal), 0.5))
            if day < today:
                p.fillRect(QRectF(x, 0, w, vp.height()), theme.mix(base, pal.color(QPalette.ColorRole.Window), 0.25))
            elif day == today:
                past_h = self.y_for(now_wall.time())
                if past_h > 0:
                    p.fillRect(QRectF(x, 0, w, past_h), theme.mix(base, pal.color(QPalette.ColorRole.Window), 0.25))
            if day == self.cursor_day and self.hasFocus():
                p.fillRect(QRectF(x, 0, w, vp.height()), theme.mix(base, accent, 0.05))
        p.setFont(small)
        first_hour = int(max(0, scroll // HOUR))
        last_hour = int(min(24, (scroll + vp.height()) // HOUR + 1))
        for hour in range(first_hour, last_hour + 1):
            y = hour * HOUR - scroll
            p.setPen(QPen(line, 1))
            p.drawLine(int(GUTTER - 6), int(y), vp.width(), int(y))
            p.setPen(QPen(faint, 1, Qt.PenStyle.DotLine))
            p.drawLine(GUTTER, int(y + HOUR / 2), vp.width(), int(y + HOUR / 2))
            if 0 < hour < 24 and y > 6:
                p.setPen(muted)
                p.drawText(QRectF(0, y - 8, GUTTER - 10, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{hour:02d}:00")
        p.setPen(QPen(line, 1))
        for col in range(8):
            x = int(self.column_x(col))
            p.drawLine(x, 0, x, vp.height())
        selected = set(self.selected)
        dragged = {q.id for q in self.drag.posts} if self.drag and self.drag.active else set()
        for rect, pid in self._chip_rects:
            r = self._visible(rect)
            if r.bottom() < 0 or r.top() > vp.height():
                continue
            p.setOpacity(0.35 if pid in dragged else 1.0)
            paint_chip(p, r, self.by_id[pid], self.tz, pal, small, selected=pid in selected, wrap=True)
        p.setOpacity(1.0)
        if self.anchor <= today < self.anchor + timedelta(days=7):
            col = (today - self.anchor).days
            now_y = self.y_for(now_wall.time())
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            red = theme.status_color_refused()
            p.setPen(QPen(red, 2))
            p.drawLine(int(self.column_x(col)), int(now_y), int(self.column_x(col) + w), int(now_y))
            p.setBrush(red)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QRectF(self.column_x(col) - 4, now_y - 4, 8, 8))
            p.setBrush(Qt.BrushStyle.NoBrush)
        self.paint_empty_hint(p)

    def paint_overlay(self, p: QPainter) -> None:
        if not self.drag or not self.drag.active:
            return
        self._paint_drop_slot(p)
        self._paint_ghosts(p, chip_font(self.font()))
        self.paint_refusal(p)

    def _paint_drop_slot(self, p: QPainter) -> None:
        if not self.drag or not self.drag.active:
            return
        target = self.drag.targets.get(self.drag.anchor.id)
        if target is None:
            return
        wall = local_wall(target, self.tz)
        col = (wall.date() - self.anchor).days
        if not 0 <= col < 7:
            return
        color = QColor(theme.status_color_refused() if self.drag.refused else theme.accent(self.palette()))
        color.setAlpha(60)
        slot = QRectF(self.column_x(col), self.y_for(wall.time()), self.column_width(), HOUR / 4)
        p.fillRect(slot, color)

    def _paint_ghosts(self, p: QPainter, font: QFont) -> None:
        if not self.drag or not self.drag.active:
            return
        for post in self.drag.posts:
            target = self.drag.targets.get(post.id)
            if target is None:
                continue
            wall = local_wall(target, self.tz)
            col = (wall.date() - self.anchor).days
            if not 0 <= col < 7:
                continue
            rect = QRectF(self.column_x(col) + 2, self.y_for(wall.time()), self.column_width() - 6, CHIP_MINUTES * HOUR / 60)
            paint_chip(p, rect, replace(post, scheduled_at=target), self.tz, self.palette(), font,
                       ghost=True, wrap=True, refused=bool(self.drag.refused))


def zone_label(tz: tzinfo, now: datetime) -> str:
    offset = to_local(now, tz).utcoffset() or timedelta()
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _lanes(posts: list[PostView], tz: tzinfo) -> list[tuple[tuple[float, float, float, float], int]]:
    """Side-by-side lanes for overlapping posts: (x fraction, width fraction, y, height) per post."""
    out: list[tuple[tuple[float, float, float, float], int]] = []
    height = CHIP_MINUTES * HOUR / 60
    cluster: list[tuple[float, int, int]] = []  # (y, lane, post id)
    lane_ends: list[float] = []
    cluster_end = -1.0

    def flush() -> None:
        lanes = max(1, len(lane_ends))
        for y, lane, pid in cluster:
            out.append(((lane / lanes, 1 / lanes, y, height), pid))

    for post in posts:
        assert post.scheduled_at is not None
        wall = local_wall(post.scheduled_at, tz)
        y = (wall.hour * 60 + wall.minute) * HOUR / 60
        if cluster and y >= cluster_end:
            flush()
            cluster, lane_ends = [], []
        for lane, end in enumerate(lane_ends):
            if end <= y:
                lane_ends[lane] = y + height
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(y + height)
        cluster.append((y, lane, post.id))
        cluster_end = max(cluster_end, y + height) if len(cluster) > 1 else y + height
    if cluster:
        flush()
    return out
