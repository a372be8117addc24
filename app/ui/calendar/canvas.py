"""What month and week views share: posts, selection, keyboard cursor and mouse-driven drag.

A drag is driven entirely by this widget's own mouse events (press, move past the drag distance,
release), so it works the same under a real mouse and under QTest. Drops are not applied here:
the view emits what the user asked for and the window runs it through the undo stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QToolTip, QWidget

from app.core.models import PostStatus
from app.core.timeutil import utcnow
from app.engine.repeat import Repeat, in_series
from app.store.views import PostView
from app.ui import theme
from app.ui.calendar.chips import tooltip_html
from app.ui.calendar.timeline import bucket_by_day, local_wall, plan_moves, range_utc

if TYPE_CHECKING:  # event types are set up by Qt when the first such event comes, not at start-up
    from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPaintEvent

UNMOVABLE = {PostStatus.PUBLISHING: "is being published right now", PostStatus.CANCELLED: "was cancelled"}


@dataclass
class Drag:
    """The drag in progress: which posts, where they would land, and why not if refused."""

    anchor: PostView
    posts: list[PostView]
    external: bool = False  # a draft dragged in from the sidebar
    pos: QPoint = field(default_factory=QPoint)
    targets: dict[int, datetime] = field(default_factory=dict)
    refused: str = ""
    active: bool = False


class CalendarCanvas(QAbstractScrollArea):
    """Base of the painted views. Subclasses lay out chips and map positions to instants."""

    moveRequested = Signal(object)  # dict[int, datetime]: new UTC instants by post id
    duplicateRequested = Signal(int, object)  # published post id, new instant
    dropRefused = Signal(str)  # the reason, for the user
    postActivated = Signal(int)  # double click on a chip (a repeat: its series' stored post)
    newPostRequested = Signal(object)  # double click on empty space: suggested instant (or date)
    selectionChanged = Signal(list)  # stored post ids (a repeat counts as its series' stored post)
    rangeChanged = Signal()
    moreRequested = Signal(object)  # the date whose "+N more" was clicked

    DAYS = 7

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Our own viewport: wrapping Qt's default one makes PySide6 set up every QWidget subclass
        # to find its type (about 40 ms, before the first paint).
        viewport = QWidget()
        viewport.setBackgroundRole(QPalette.ColorRole.Base)
        viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paint_static covers every pixel
        self.setViewport(viewport)
        self.tz = tz
        self.clock: Callable[[], datetime] = utcnow
        self.first_weekday = 0
        self.posts: list[PostView] = []
        self.by_day: dict[date, list[PostView]] = {}
        self.by_id: dict[int, PostView] = {}
        self.selected: list[int] = []
        self.cursor_day = local_wall(self.clock(), tz).date()
        self.drag: Drag | None = None
        self._press: tuple[QPoint, int | None, Qt.KeyboardModifier] | None = None
        # The window's series actions (app.ui.calendar.repeats): asks "this one / following / all".
        self.repeats: Any = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self._pictures_asked = False

    def _pictures_ready(self) -> None:
        self.static_layer = None
        self.viewport().update()

    # -- data ---------------------------------------------------------------------------------
    def first_day(self) -> date:
        raise NotImplementedError

    def visible_range(self) -> tuple[datetime, datetime]:
        """UTC bounds of what this view shows: the range the window queries."""
        return range_utc(self.first_day(), self.DAYS, self.tz)

    def set_posts(self, posts: list[PostView]) -> None:
        if posts is self.posts and posts:
            return  # the same read again (the window reloads twice on a page turn): nothing changed
        if not self._pictures_asked and any(p.media for p in posts):
            from app.ui.calendar.thumbs import thumbnails  # loaded with the first post that has a picture

            self._pictures_asked = True
            thumbnails().on_ready(self._pictures_ready)
        self.posts = posts
        self.by_day = bucket_by_day(posts, self.tz)
        self.by_id = {p.id: p for p in posts}
        kept = [i for i in self.selected if i in self.by_id]
        if kept != self.selected:
            self.selected = kept
            self.emit_selection()
        self.relayout()
        self.static_layer = None
        self.viewport().update()

    def neighbour_ranges(self) -> list[tuple[datetime, datetime]]:
        """The ranges one page back and ahead, which the window prefetches."""
        return []

    def relayout(self) -> None:
        """Recompute chip rectangles after posts or geometry changed."""

    def set_cursor(self, day: date) -> None:
        """Move the keyboard cursor; the view re-anchors (and says so) when it leaves the range."""
        old_first = self.first_day()
        self.cursor_day = day
        self.anchor_to(day)
        if self.first_day() != old_first:
            self.rangeChanged.emit()
        self.viewport().update()

    def anchor_to(self, day: date) -> None:
        raise NotImplementedError

    def go_today(self) -> None:
        self.set_cursor(local_wall(self.clock(), self.tz).date())

    def step_page(self, pages: int) -> None:
        raise NotImplementedError

    def title(self) -> str:
        raise NotImplementedError

    # -- geometry hooks -----------------------------------------------------------------------
    def chip_at(self, pos: QPoint) -> int | None:
        raise NotImplementedError

    def wall_at(self, pos: QPoint, post: PostView, external: bool) -> datetime | None:
        """The wall-clock time `post` would take if dropped at `pos` (None: not over a day)."""
        raise NotImplementedError

    def day_at(self, pos: QPoint) -> date | None:
        raise NotImplementedError

    def more_at(self, pos: QPoint) -> date | None:
        return None

    # -- selection ----------------------------------------------------------------------------
    def select(self, ids: list[int], *, emit: bool = True) -> None:
        self.selected = list(dict.fromkeys(ids))
        if emit:
            self.emit_selection()
        else:
            self._selection_pending = True
        self.viewport().update()

    _selection_pending = False

    def emit_selection(self) -> None:
        """Tell the window; a repeat stands for its series' stored post, which it can show."""
        posts = [self.by_id[i] for i in self.selected if i in self.by_id]
        if self.repeats is not None:
            self.repeats.selected = [p for p in posts if isinstance(p, Repeat)]
        ids = [p.head_id if isinstance(p, Repeat) else p.id for p in posts]
        self.selectionChanged.emit(list(dict.fromkeys(ids)))

    def activate(self, post_id: int) -> None:
        """Open a post; for a post of a series, first ask which occurrences the change is for."""
        post = self.by_id.get(post_id)
        if post is not None and in_series(post) and self.repeats is not None:
            self.repeats.edit(post)
        else:
            self.postActivated.emit(post.head_id if isinstance(post, Repeat) else post_id)  # no window: its series

    def _click_select(self, post_id: int, mods: Qt.KeyboardModifier) -> None:
        """Selection on press; the window hears of it on release, so nothing moves mid-drag."""
        if mods & Qt.KeyboardModifier.ControlModifier:
            ids = [i for i in self.selected if i != post_id] if post_id in self.selected else [*self.selected, post_id]
            self.select(ids, emit=False)
        elif mods & Qt.KeyboardModifier.ShiftModifier and self.selected:
            order = [p.id for p in sorted(self.posts, key=lambda p: (p.scheduled_at or self.clock(), p.id))]
            a, b = order.index(self.selected[-1]), order.index(post_id)
            span = order[min(a, b) : max(a, b) + 1]
            self.select([*self.selected, *span], emit=False)
        else:
            self.select([post_id], emit=False)

    # -- mouse --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position().toPoint()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        more = self.more_at(pos)
        if more is not None:
            self.cursor_day = more  # the week view opens on this day (the window follows the cursor)
            self.moreRequested.emit(more)
            return None
        hit = self.chip_at(pos)
        mods = event.modifiers()
        self._press = (pos, hit, mods)
        if hit is None:
            day = self.day_at(pos)
            if day is not None:
                self.cursor_day = day
            if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
                self.select([], emit=False)
        elif hit not in self.selected or mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self._click_select(hit, mods)
        self.viewport().update()
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self.drag is not None and self.drag.active:
            self._update_drag(pos)
            return
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, hit, _mods = self._press
        if hit is None or (pos - start).manhattanLength() < QApplication.startDragDistance():
            return
        ids = self.selected if hit in self.selected else [hit]
        posts = [self.by_id[i] for i in ids if i in self.by_id]
        self.drag = Drag(anchor=self.by_id[hit], posts=posts, active=True)
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self._update_drag(pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        drag, self.drag = self.drag, None
        press, self._press = self._press, None
        self.unsetCursor()
        if drag is not None and drag.active:
            self._update_drag_into(drag, pos)
            self._finish(drag)
        elif press is not None and press[1] is not None and not press[2]:
            self.select([press[1]], emit=False)
        if self._selection_pending:
            self._selection_pending = False
            self.emit_selection()
        self.viewport().update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        hit = self.chip_at(pos)
        if hit is not None:
            self.activate(hit)
            return
        day = self.day_at(pos)
        if day is not None:
            self.newPostRequested.emit(self.suggested_instant(pos, day))

    def suggested_instant(self, pos: QPoint, day: date) -> object:
        return day

    # -- drags from outside (drafts in the sidebar) -------------------------------------------
    def external_drag_move(self, post: PostView, global_pos: QPoint) -> None:
        if self.drag is None or self.drag.anchor.id != post.id:
            self.drag = Drag(anchor=post, posts=[post], external=True, active=True)
        self._update_drag(self.viewport().mapFromGlobal(global_pos))

    def external_drag_cancel(self) -> None:
        self.drag = None
        self.viewport().update()

    def external_drop(self, post: PostView, global_pos: QPoint) -> bool:
        """Finish a sidebar drag; False when the pointer is not over a day."""
        pos = self.viewport().mapFromGlobal(global_pos)
        drag = self.drag or Drag(anchor=post, posts=[post], external=True, active=True)
        self.drag = None
        self.viewport().update()
        if not self.viewport().rect().contains(pos):
            return False
        self._update_drag_into(drag, pos)
        self._finish(drag)
        return True

    # -- drag logic ---------------------------------------------------------------------------
    def _update_drag(self, pos: QPoint) -> None:
        assert self.drag is not None
        self._update_drag_into(self.drag, pos)
        self.viewport().update()

    def _update_drag_into(self, drag: Drag, pos: QPoint) -> None:
        drag.pos = pos
        drag.targets = {}
        drag.refused = ""
        wall = self.wall_at(pos, drag.anchor, drag.external)
        if wall is None:
            drag.refused = "Drop it on a day."
            return
        from app.core.timeutil import localize

        if drag.anchor.scheduled_at is None:
            drag.targets = {drag.anchor.id: localize(wall, self.tz)}
        else:
            drag.targets = plan_moves(drag.posts, drag.anchor, wall, self.tz)
        drag.refused = self.refusal(drag)

    def refusal(self, drag: Drag) -> str:
        """Why this drop cannot happen, in the user's words; empty when it can."""
        now = self.clock()
        for post in drag.posts:
            if post.status in UNMOVABLE:
                return f"This post {UNMOVABLE[post.status]}; it cannot be moved."
        published = [p for p in drag.posts if p.status is PostStatus.PUBLISHED]
        if published and len(drag.posts) > 1:
            return "Published posts cannot move. Drag one on its own to duplicate it."
        if len(drag.posts) > 1 and any(in_series(p) for p in drag.posts):
            return "A repeating post moves on its own: drag it alone to choose this one, the following or all."
        earliest = min(drag.targets.values(), default=None)
        if earliest is not None and earliest <= now:
            stamp = local_wall(now, self.tz).strftime("%H:%M on %a %d %b")
            return f"That time is in the past (it is {stamp}). Drop it on a later time."
        return ""

    def _finish(self, drag: Drag) -> None:
        if drag.refused:
            self.dropRefused.emit(drag.refused)
            return
        if not drag.targets:
            return
        unchanged = all(self.by_id.get(i) and self.by_id[i].scheduled_at == t for i, t in drag.targets.items())
        if unchanged:
            return
        if drag.anchor.status is PostStatus.PUBLISHED:
            self.duplicateRequested.emit(drag.anchor.id, drag.targets[drag.anchor.id])
            return
        if in_series(drag.anchor) and not drag.external:
            if self.repeats is None:
                self.dropRefused.emit("Repeating posts can be moved once the calendar has opened your data.")
            else:
                self.repeats.move(drag.anchor, drag.targets[drag.anchor.id])
            return
        self.moveRequested.emit(dict(drag.targets))

    # -- keyboard -----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        steps: dict[int, int] = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -7,
            Qt.Key.Key_Down: 7,
        }
        if key in steps and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_cursor(self.cursor_day + timedelta(days=steps[key]))
        elif key == Qt.Key.Key_PageUp:
            self.step_page(-1)
        elif key == Qt.Key.Key_PageDown:
            self.step_page(1)
        elif key == Qt.Key.Key_T and not event.modifiers():
            self.go_today()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected:
            self.activate(self.selected[0])
        elif key == Qt.Key.Key_Escape and self.drag is not None:
            self.drag = None
            self._press = None
            self.unsetCursor()
            self.viewport().update()
        else:
            super().keyPressEvent(event)

    # -- context menu: what a repeating post offers ------------------------------------------
    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        hit = self.chip_at(event.pos())
        post = self.by_id.get(hit) if hit is not None else None
        if hit is None or post is None or not in_series(post) or self.repeats is None:
            return super().contextMenuEvent(event)
        if hit not in self.selected:
            self.select([hit])
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        menu.addAction("Edit…", lambda: self.repeats.edit(post))
        menu.addAction("Cancel…", lambda: self.repeats.cancel(post))
        menu.popup(event.globalPos())
        self.context_menu = menu  # kept alive while open, and for tests
        return None

    # -- tooltips -----------------------------------------------------------------------------
    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()  # type: ignore[attr-defined]
            hit = self.chip_at(pos)
            if hit is not None and hit in self.by_id:
                QToolTip.showText(event.globalPos(), tooltip_html(self.by_id[hit], self.tz), self.viewport())  # type: ignore[attr-defined]
            else:
                more = self.more_at(pos)
                if more is not None:
                    QToolTip.showText(event.globalPos(), "Show every post of this day", self.viewport())  # type: ignore[attr-defined]
                else:
                    QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    # -- painting -----------------------------------------------------------------------------
    static_layer: QPixmap | None = None

    def paint_static(self, p: QPainter) -> None:
        """The grid and the chips: everything that does not follow the pointer."""
        raise NotImplementedError

    def paint_overlay(self, p: QPainter) -> None:
        """What follows the pointer during a drag: the drop target, ghosts, the refusal."""

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self.viewport())
        if self.drag is not None and self.drag.active:
            # During a drag only the overlay changes: the rest is painted once and reused.
            ratio = self.viewport().devicePixelRatioF()
            size = self.viewport().size() * ratio
            if self.static_layer is None or self.static_layer.size() != size:
                self.static_layer = QPixmap(size)
                self.static_layer.setDevicePixelRatio(ratio)
                layer = QPainter(self.static_layer)
                self.paint_static(layer)
                layer.end()
            p.drawPixmap(0, 0, self.static_layer)
        else:
            self.static_layer = None
            self.paint_static(p)
        self.paint_overlay(p)
        p.end()

    # -- shared painting ----------------------------------------------------------------------
    EMPTY_HINT = "Nothing planned here yet. Double-click a day to write a post, or press Ctrl+N."

    def paint_empty_hint(self, p: QPainter) -> None:
        """A quiet hint on an empty page, so a new user knows where to start."""
        if self.posts:
            return
        fm = QFontMetrics(self.font())
        width = fm.horizontalAdvance(self.EMPTY_HINT) + 28
        rect = QRectF((self.viewport().width() - width) / 2, self.viewport().height() - 56, width, fm.height() + 14)
        path = QPainterPath()
        path.addRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        pal = self.palette()
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillPath(path, theme.mix(pal.color(pal.ColorRole.Base), pal.color(pal.ColorRole.Text), 0.06))
        p.setPen(theme.muted_text(pal))
        p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self.EMPTY_HINT)
        p.restore()
    def paint_refusal(self, painter: QPainter) -> None:
        """The reason a drop would be refused, in a bubble next to the pointer."""
        if self.drag is None or not self.drag.refused:
            return
        fm = QFontMetrics(self.font())
        text = self.drag.refused
        width = min(fm.horizontalAdvance(text) + 20, self.viewport().width() - 16)
        lines = 1 if fm.horizontalAdvance(text) + 20 <= width else 2
        height = fm.height() * lines + 12
        x = min(max(8, self.drag.pos.x() + 14), self.viewport().width() - width - 8)
        y = min(max(8, self.drag.pos.y() + 18), self.viewport().height() - height - 8)
        rect = QRectF(x, y, width, height)
        path = QPainterPath()
        path.addRoundedRect(rect, 6, 6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillPath(path, QColor("#c23b3b"))
        painter.setPen(QColor("white"))
        painter.drawText(rect.adjusted(10, 6, -10, -6), int(Qt.TextFlag.TextWordWrap), text)
        painter.restore()

    def today(self) -> date:
        return local_wall(self.clock(), self.tz).date()

    @staticmethod
    def pointf(p: QPoint) -> QPointF:
        return QPointF(p)
