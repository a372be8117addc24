"""The agenda: a day-by-day list of posts with search and filters by account, platform and status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.models import Platform, PostStatus
from app.core.timeutil import utcnow
from app.engine.repeat import Repeat, in_series, repeats_live
from app.store.views import AccountView, PostView
from app.ui import icons, theme
from app.ui.calendar.chips import chip_font
from app.ui.calendar.glyphs import paint_glyph
from app.ui.calendar.thumbs import paint_media, thumbnails
from app.ui.calendar.timeline import first_words, local_wall, range_utc
from app.ui.qt import timer

ATTENTION = {PostStatus.FAILED, PostStatus.NEEDS_REVIEW, PostStatus.MISSED, PostStatus.PARTIAL}
DAY_ROW = 34
POST_ROW = 52
SPAN_DAYS = 31


class _AgendaList(QAbstractScrollArea):
    """Painted rows: a header per day, then one row per post."""

    activated = Signal(int)
    selectionChanged = Signal(list)

    def __init__(self, owner: AgendaView) -> None:
        super().__init__(owner)
        self.owner = owner
        self.rows: list[tuple[str, object]] = []  # ("day", date) or ("post", PostView)
        self.selected: int | None = None
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.viewport().update())
        thumbnails().on_ready(self.viewport().update)

    def set_rows(self, rows: list[tuple[str, object]]) -> None:
        self.rows = rows
        self._offsets = []
        y = 0
        for kind, _ in rows:
            self._offsets.append(y)
            y += DAY_ROW if kind == "day" else POST_ROW
        self._height = y
        self._update_range()
        self.viewport().update()

    def _update_range(self) -> None:
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, getattr(self, "_height", 0) - self.viewport().height()))
        sb.setPageStep(self.viewport().height())
        sb.setSingleStep(POST_ROW)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_range()

    def row_at(self, y: int) -> int | None:
        y += self.verticalScrollBar().value()
        for i, top in enumerate(getattr(self, "_offsets", [])):
            h = DAY_ROW if self.rows[i][0] == "day" else POST_ROW
            if top <= y < top + h:
                return i
        return None

    def post_rect(self, post_id: int) -> QRectF | None:
        for i, (kind, value) in enumerate(self.rows):
            if kind == "post" and isinstance(value, PostView) and value.id == post_id:
                return QRectF(0, self._offsets[i] - self.verticalScrollBar().value(), self.viewport().width(), POST_ROW)
        return None

    def _post_at(self, pos: QPoint) -> int | None:
        i = self.row_at(pos.y())
        if i is None or self.rows[i][0] != "post":
            return None
        value = self.rows[i][1]
        return value.id if isinstance(value, PostView) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self._post_at(event.position().toPoint())
        self.selected = hit
        self.selectionChanged.emit([hit] if hit is not None else [])
        self.viewport().update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._post_at(event.position().toPoint())
        if hit is not None:
            self.activated.emit(hit)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ids = [v.id for k, v in self.rows if k == "post" and isinstance(v, PostView)]
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and ids:
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            index = ids.index(self.selected) + step if self.selected in ids else 0
            self.selected = ids[max(0, min(len(ids) - 1, index))]
            self.selectionChanged.emit([self.selected])
            rect = self.post_rect(self.selected)
            if rect is not None and (rect.top() < 0 or rect.bottom() > self.viewport().height()):
                self.verticalScrollBar().setValue(int(rect.top() + self.verticalScrollBar().value() - POST_ROW))
            self.viewport().update()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected is not None:
            self.activated.emit(self.selected)
        else:
            self.owner.keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self.viewport())
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        p.fillRect(self.viewport().rect(), base)
        muted = theme.muted_text(pal)
        text = pal.color(QPalette.ColorRole.Text)
        line = theme.grid_line(pal)
        scroll = self.verticalScrollBar().value()
        width = self.viewport().width()
        small = chip_font(self.font())
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        today = self.owner.today()
        tz = self.owner.tz
        if not self.rows:
            p.setPen(muted)
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter,
                       "No posts match in these 31 days.\nChange the filters or press PgDn for later posts.")
        for i, (kind, value) in enumerate(self.rows):
            top = self._offsets[i] - scroll
            h = DAY_ROW if kind == "day" else POST_ROW
            if top + h < 0:
                continue
            if top > self.viewport().height():
                break
            if kind == "day" and isinstance(value, date):
                p.fillRect(QRectF(0, top, width, h), theme.mix(base, pal.color(QPalette.ColorRole.Window), 0.6))
                p.setFont(bold)
                p.setPen(theme.accent(pal) if value == today else text)
                label = value.strftime("%A %d %B")
                if value == today:
                    label += "  ·  Today"
                elif value == today + timedelta(days=1):
                    label += "  ·  Tomorrow"
                p.drawText(QRectF(16, top, width - 32, h), Qt.AlignmentFlag.AlignVCenter, label)
                continue
            assert isinstance(value, PostView)
            row = QRectF(0, top, width, h)
            if value.id == self.selected:
                p.fillRect(row, theme.mix(base, theme.accent(pal), 0.16))
            p.setPen(QPen(line, 1))
            p.drawLine(row.bottomLeft(), row.bottomRight())
            repeat = isinstance(value, Repeat)
            ink = theme.mix(text, base, 0.35) if repeat else text  # a coming repeat, not stored: lighter
            p.setFont(bold)
            p.setPen(ink)
            when = local_wall(value.scheduled_at, tz).strftime("%H:%M") if value.scheduled_at else "—"
            p.drawText(QRectF(16, top, 52, h), Qt.AlignmentFlag.AlignVCenter, when)
            color = theme.status_color(value.status)
            pill_text = theme.STATUS_LABELS[value.status]
            if repeat:
                color, pill_text = muted, "Repeats"
            p.setFont(small)
            fm = QFontMetrics(small)
            pill = QRectF(72, top + (h - 18) / 2, fm.horizontalAdvance(pill_text) + 16, 18)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.mix(base, color, 0.2))
            p.drawRoundedRect(pill, 9, 9)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(color.darker(130) if not theme.is_dark(pal) else color.lighter(140))
            p.drawText(pill, Qt.AlignmentFlag.AlignCenter, pill_text)
            x = 72 + 112
            for platform in value.platforms[:4]:
                icons.paint_platform(p, platform, QRectF(x, top + (h - 16) / 2, 16, 16))
                x += 20
            x = max(x + 8, 72 + 112 + 88)
            right = width - 16
            if value.media:
                thumb = QRectF(right - 40, top + (h - 40) / 2, 40, 40)
                paint_media(p, thumb, value, muted, picture=True)
                right -= 52
            p.setFont(self.font())
            p.setPen(ink)
            avail = int(right - x)
            words = first_words(value.text or value.title or "(no text)", 400)
            p.drawText(QRectF(x, top + 7, avail, 20), Qt.AlignmentFlag.AlignVCenter,
                       QFontMetrics(self.font()).elidedText(words, Qt.TextElideMode.ElideRight, avail))
            p.setFont(small)
            p.setPen(muted)
            detail = ", ".join(t.account_label for t in value.targets)
            detail_x = x
            if repeats_live(value) and value.recurrence and not value.errors:
                from app.core.recurrence import Recurrence

                paint_glyph(p, "repeat", QRectF(x, top + 30, 12, 12), muted)
                detail_x += 16
                detail = f"{Recurrence.from_dict(value.recurrence).describe()} · {detail}"
            if value.errors:
                p.setPen(theme.status_color_refused())
                detail = value.errors[0]
            room = int(right - detail_x)
            p.drawText(QRectF(detail_x, top + 27, room, 18), Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(detail, Qt.TextElideMode.ElideRight, room))
        p.end()


class AgendaView(QWidget):
    """A list of posts from the cursor day on, filtered by text, account, platform and status."""

    postActivated = Signal(int)
    selectionChanged = Signal(list)
    rangeChanged = Signal()

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agendaView")
        self.tz = tz
        self.clock: Callable[[], datetime] = utcnow
        self.cursor_day = local_wall(self.clock(), tz).date()
        self.posts: list[PostView] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search posts")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.account_filter = QComboBox()
        self.platform_filter = QComboBox()
        self.status_filter = QComboBox()
        for combo, label in (
            (self.account_filter, "All accounts"),
            (self.platform_filter, "All platforms"),
            (self.status_filter, "Any status"),
        ):
            combo.addItem(label, None)
            combo.setMinimumContentsLength(8)
            combo.setMaximumWidth(170)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for platform in Platform:
            self.platform_filter.addItem(icons.platform_icon(platform), platform.label, platform)
        for status in PostStatus:
            self.status_filter.addItem(theme.STATUS_LABELS[status], status)
        bar = QHBoxLayout()
        bar.setContentsMargins(12, 10, 12, 10)
        bar.setSpacing(8)
        self.search.setMinimumWidth(160)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.account_filter)
        bar.addWidget(self.platform_filter)
        bar.addWidget(self.status_filter)
        self.list = _AgendaList(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        self._debounce = timer(self, 200, single_shot=True)
        self._debounce.timeout.connect(self.rangeChanged.emit)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        for combo in (self.account_filter, self.platform_filter, self.status_filter):
            combo.currentIndexChanged.connect(lambda _i: self.rangeChanged.emit())
        self.repeats: Any = None  # the window's series questions (app.ui.calendar.repeats)
        self.list.activated.connect(self.activate)
        self.list.selectionChanged.connect(self._selection)

    def sizeHint(self) -> QSize:
        return QSize(760, 560)

    def _post(self, post_id: int) -> PostView | None:
        return next((p for p in self.posts if p.id == post_id), None)

    def activate(self, post_id: int) -> None:
        """Open a post; a post of a series first asks which occurrences the change is for."""
        post = self._post(post_id)
        if post is not None and in_series(post) and self.repeats is not None:
            self.repeats.edit(post)
        else:
            self.postActivated.emit(post.head_id if isinstance(post, Repeat) else post_id)

    def _selection(self, ids: list[int]) -> None:
        posts = [p for p in (self._post(i) for i in ids) if p is not None]
        if self.repeats is not None:
            self.repeats.selected = [p for p in posts if isinstance(p, Repeat)]
        self.selectionChanged.emit([p.head_id if isinstance(p, Repeat) else p.id for p in posts])

    def set_accounts(self, accounts: list[AccountView]) -> None:
        current = self.account_filter.currentData()
        self.account_filter.blockSignals(True)
        self.account_filter.clear()
        self.account_filter.addItem("All accounts", None)
        for account in accounts:
            self.account_filter.addItem(icons.platform_icon(account.platform), account.display_name or account.handle, account.id)
        index = self.account_filter.findData(current)
        self.account_filter.setCurrentIndex(max(0, index))
        self.account_filter.blockSignals(False)

    def set_status_filter(self, status: PostStatus | None) -> None:
        self.status_filter.setCurrentIndex(max(0, self.status_filter.findData(status)))

    def first_day(self) -> date:
        return self.cursor_day

    def visible_range(self) -> tuple[datetime, datetime]:
        if self.status_filter.currentData() in ATTENTION:
            # What needs the user is usually in the past: look back half a year.
            return range_utc(self.cursor_day - timedelta(days=183), SPAN_DAYS + 183, self.tz)
        return range_utc(self.cursor_day, SPAN_DAYS, self.tz)

    def query(self) -> dict[str, object]:
        """Keyword arguments for the planner's posts_between, from the filters."""
        account = self.account_filter.currentData()
        platform = self.platform_filter.currentData()
        status = self.status_filter.currentData()
        text = self.search.text().strip()
        # Qt hands enum values back as plain strings: turn them into the enums again.
        return {
            "account_ids": [int(account)] if account is not None else None,
            "platforms": [Platform(platform)] if platform is not None else None,
            "statuses": [PostStatus(status)] if status is not None else None,
            "text": text or None,
        }

    def set_posts(self, posts: list[PostView]) -> None:
        self.posts = sorted((p for p in posts if p.scheduled_at), key=lambda p: (p.scheduled_at or self.clock(), p.id))
        rows: list[tuple[str, object]] = []
        last: date | None = None
        for post in self.posts:
            assert post.scheduled_at is not None
            day = local_wall(post.scheduled_at, self.tz).date()
            if day != last:
                rows.append(("day", day))
                last = day
            rows.append(("post", post))
        self.list.set_rows(rows)

    def set_cursor(self, day: date) -> None:
        self.cursor_day = day
        self.rangeChanged.emit()

    def go_today(self) -> None:
        self.set_cursor(self.today())

    def step_page(self, pages: int) -> None:
        self.set_cursor(self.cursor_day + timedelta(days=SPAN_DAYS * pages))

    def today(self) -> date:
        return local_wall(self.clock(), self.tz).date()

    def title(self) -> str:
        end = self.cursor_day + timedelta(days=SPAN_DAYS - 1)
        return f"{self.cursor_day:%d %b} – {end:%d %b %Y}"

    @property
    def selected(self) -> list[int]:
        return [self.list.selected] if self.list.selected is not None else []

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_PageUp:
            self.step_page(-1)
        elif event.key() == Qt.Key.Key_PageDown:
            self.step_page(1)
        elif event.key() == Qt.Key.Key_T and not self.search.hasFocus():
            self.go_today()
        else:
            super().keyPressEvent(event)
