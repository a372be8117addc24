"""The main window: sidebar, calendar (month, week, agenda, activity), details panel, status bar.

It reads through the planner (fast SQLite queries by visible date range) and changes posts only
through undoable commands; every change re-arms the publisher inside the planner.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QByteArray, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.core.models import PostStatus
from app.core.timeutil import local_zone_name, utcnow
from app.store.views import (
    SHOWN_WITH_PROBLEMS,
    TARGET_PROBLEMS,
    PostView,
    account_problems,
    attention_counts,
    has_target_in,
)
from app.ui import icons
from app.ui.calendar.canvas import CalendarCanvas
from app.ui.calendar.month import MonthView
from app.ui.calendar.timeline import local_wall
from app.ui.header import HeaderBar
from app.ui.health import HealthBar
from app.ui.keys import CalendarKeys
from app.ui.qt import timer
from app.ui.settings import flag, window_settings
from app.ui.sidebar import Sidebar
from app.ui.toast import Toast

if TYPE_CHECKING:
    from app.engine.planner import Planner
    from app.engine.runtime import Runtime
    from app.ui.activity import ActivityView
    from app.ui.banner import MissedBanner
    from app.ui.calendar.agenda import AgendaView
    from app.ui.calendar.week import WeekView
    from app.ui.details import DetailsPanel
    from app.ui.editor.dialog import PostEditor

log = logging.getLogger("outpost.ui")

SIDEBAR_WIDTH = 230
MINIMUM_SIZE = QSize(760, 520)  # logical px; never more than the screen has (fit_to_screen)
VIEW_MINIMUM = QSize(300, 180)
TITLE_BAR = 32  # kept free above the window until the window manager reports its frame
NARROW = 900  # below this width the sidebar steps aside for the calendar


class MainWindow(QMainWindow):
    quitRequested = Signal()
    healthChanged = Signal()  # the tray follows this

    def __init__(self, runtime: Runtime | None = None, *, data_dir: Path | None = None, tz_name: str | None = None,
                 parent: QWidget | None = None) -> None:
        """Without a runtime the window paints at once and `attach` fills it when the data is open."""
        super().__init__(parent)
        self._runtime: Runtime | None = None
        folder = runtime.data_dir if runtime is not None else data_dir
        if folder is None:
            raise ValueError("MainWindow needs a runtime or a data dir")
        self.data_dir = folder
        self.settings = window_settings(folder)
        self.tz_name = tz_name or str(self.settings.value("timezone", "") or local_zone_name())
        self.tz = ZoneInfo(self.tz_name)
        self.clock: Callable[[], datetime] = runtime.clock if runtime is not None else utcnow
        self.tray: QSystemTrayIcon | None = None
        self.undo = QUndoStack(self)
        self.editors: list[PostEditor] = []
        self._really_quit = False
        self.setWindowTitle("Outpost")
        self.setWindowIcon(icons.app_icon())
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.setMinimumSize(MINIMUM_SIZE)  # fit_to_screen lowers it on a small or scaled screen
        self.keys = CalendarKeys(self)
        self._build()
        self._build_actions()
        from app.ui.menus import install_menus

        install_menus(self)  # File › Export…, Settings…, Help, and the saved theme (app/ui/menus.py)
        self._refresh_timer = timer(self, 30, single_shot=True)
        self._refresh_timer.timeout.connect(self.reload)
        # Posts of the pages around the one shown, read while idle: paging is then instant.
        self._range_cache: dict[tuple[datetime, datetime], list[PostView]] = {}
        self._prefetch_timer = timer(self, 150, single_shot=True)
        self._prefetch_timer.timeout.connect(self._prefetch)
        self._tick = timer(self, 30_000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        self._unsubscribe: Callable[[], None] = lambda: None
        self.set_view(str(self.settings.value("view", "month")))
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self.fit_to_screen()
        if runtime is not None:
            self.attach(runtime)
        else:
            self.health.showMessage("Opening your calendar…")

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the window has no data yet")
        return self._runtime

    @property
    def planner(self) -> Planner:
        return self.runtime.planner

    def attach(self, runtime: Runtime) -> None:
        """Connect the window to the opened data dir and show what is in it."""
        self._runtime = runtime
        self.clock = runtime.clock
        for view in self._views.values():
            view.clock = self.clock  # type: ignore[attr-defined]
        self._unsubscribe = runtime.subscribe(self._on_change)
        self.health.clearMessage()
        self.reload()

    def show_preview(self) -> bool:
        """Before the engine is attached: this page's posts from a read-only quick read.

        Start-up paints the empty calendar, then spends about 300 ms loading the engine; this
        fills the calendar in between (app.store.quickread). `attach` replaces it with the real read.
        """
        view = self.stack.currentWidget()
        if self._runtime is not None or not isinstance(view, CalendarCanvas):
            return False
        from app.store import quickread
        from app.store.paths import db_path

        posts = quickread.posts_between(db_path(self.data_dir), *view.visible_range())
        if not posts:
            return False
        view.set_posts(posts)
        view.viewport().repaint()  # paint now, without handling input before the data is attached
        return True

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        zone = self.tz_name.replace("_", " ")
        self.header = HeaderBar(zone)
        self.stack = QStackedWidget()
        self._views: dict[str, QWidget] = {}
        self._details: DetailsPanel | None = None
        self.month = MonthView(self.tz)
        self._add_view("month", self.month)
        self._banner: MissedBanner | None = None  # built when a post was missed
        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.stack, 1)
        self._center_layout = cl
        self.center = center
        self.sidebar = Sidebar(self.current_canvas)
        self.split = QSplitter()
        self.split.addWidget(self.sidebar)
        self.split.addWidget(center)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self.split.setCollapsible(0, False)  # hidden with the toggle, never squeezed to nothing
        self.split.setCollapsible(1, False)
        self.split.setSizes([SIDEBAR_WIDTH, 1050])
        self.split.setHandleWidth(1)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(0)
        bl.addWidget(self.header)
        bl.addWidget(self.split, 1)
        self.setCentralWidget(body)
        self.health = HealthBar()
        self.setStatusBar(self.health)
        self.toast = Toast(center)
        h = self.header
        h.viewChosen.connect(self.set_view)
        h.stepRequested.connect(self.step)
        h.todayRequested.connect(self.go_today)
        h.newPostRequested.connect(lambda: self.open_editor())
        h.sidebarToggled.connect(self._toggle_sidebar)
        self.sidebar.statusFilterRequested.connect(self.show_status)
        self.sidebar.draftActivated.connect(self.edit_post)
        self.sidebar.accountsRequested.connect(self.open_accounts)
        self.sidebar.drafts.itemClicked.connect(
            lambda item: self._selection_changed([int(item.data(Qt.ItemDataRole.UserRole))]))

    # -- views are built when first shown, so the window paints quickly ---------------------
    def _add_view(self, name: str, view: QWidget) -> None:
        view.clock = self.clock  # type: ignore[attr-defined]
        view.setMinimumSize(VIEW_MINIMUM)  # a 640×360 logical screen still shows the whole window
        self._views[name] = view
        self.stack.addWidget(view)
        from app.ui.calendar.repeats import connect_repeats  # asks: this one, the following or all?

        connect_repeats(self, view)
        if isinstance(view, CalendarCanvas):
            view.installEventFilter(self.keys)  # Enter, Esc, Alt+arrows (app/ui/keys.py)
            view.go_today()
            view.moveRequested.connect(self.move_posts)
            view.duplicateRequested.connect(self.offer_duplicate)
            view.dropRefused.connect(lambda reason: self.toast.show_message(reason, kind="error"))
            view.postActivated.connect(self.edit_post)
            view.newPostRequested.connect(self._new_post_at)
            view.selectionChanged.connect(self._selection_changed)
            view.rangeChanged.connect(self._range_changed)
            view.moreRequested.connect(self._show_day)
        elif name == "agenda":
            agenda: AgendaView = view  # type: ignore[assignment]
            agenda.cursor_day = agenda.today()
            agenda.rangeChanged.connect(self._range_changed)
            agenda.postActivated.connect(self.edit_post)
            agenda.selectionChanged.connect(self._selection_changed)
            if self._runtime is not None:
                agenda.set_accounts(self.planner.accounts())

    def view(self, name: str) -> QWidget:
        if name not in self._views:
            # Imported on first use: the month view alone is on screen at start-up.
            if name == "week":
                from app.ui.calendar import week

                self._add_view(name, week.WeekView(self.tz))
            elif name == "agenda":
                from app.ui.calendar import agenda

                self._add_view(name, agenda.AgendaView(self.tz))
            elif name == "activity":
                from app.ui import activity

                log_view = activity.ActivityView(self.tz)
                log_view.postActivated.connect(lambda post_id: self._selection_changed([post_id]))
                self._add_view(name, log_view)
            else:
                raise KeyError(name)
        return self._views[name]

    @property
    def week(self) -> WeekView:
        return self.view("week")  # type: ignore[return-value]

    @property
    def agenda(self) -> AgendaView:
        return self.view("agenda")  # type: ignore[return-value]

    @property
    def activity(self) -> ActivityView:
        return self.view("activity")  # type: ignore[return-value]

    @property
    def banner(self) -> MissedBanner:
        """The missed-posts banner above the calendar, built the first time a post is missed."""
        if self._banner is None:
            from app.ui.banner import MissedBanner

            banner = MissedBanner(self.tz)
            banner.publishRequested.connect(lambda ids: self._each(ids, self.planner.publish_now, "Publishing"))
            banner.discardRequested.connect(lambda ids: self._each(ids, self.planner.discard, "Discarded"))
            banner.rescheduleRequested.connect(self.edit_post)
            self._center_layout.insertWidget(0, banner)
            self._banner = banner
        return self._banner

    @property
    def details(self) -> DetailsPanel:
        if self._details is None:
            from app.ui import details

            panel = details.DetailsPanel(self.tz)
            panel.actionRequested.connect(self.run_action)
            panel.markPublishedRequested.connect(self.mark_published)
            panel.takeBackRequested.connect(self.confirm_take_back)
            panel.closeRequested.connect(lambda: self._selection_changed([]))
            panel.hide()
            panel.installEventFilter(self.keys)  # Esc closes it
            self.split.addWidget(panel)
            self.split.setStretchFactor(2, 0)
            self.split.setCollapsible(2, False)
            self._details = panel
        return self._details

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.new_action = self._action("New post", "Ctrl+N", lambda: self.open_editor(), "plus")
        file_menu.addAction(self.new_action)
        self.import_action = self._action("Import from a spreadsheet…", "Ctrl+I", lambda: self.open_import(), "import")
        self.import_action.setVisible(_module_exists("app.ui.import_dialog"))
        file_menu.addAction(self.import_action)
        self.accounts_action = self._action("Accounts…", "", self.open_accounts, "users")
        self.accounts_action.setVisible(_module_exists("app.ui.accounts_dialog"))
        self.sidebar.manage.setVisible(self.accounts_action.isVisible())
        file_menu.addAction(self.accounts_action)
        file_menu.addSeparator()
        self.autostart_action = QAction("Launch at login", self)
        self.autostart_action.setCheckable(True)
        self.autostart_action.toggled.connect(self._set_autostart)
        file_menu.addAction(self.autostart_action)
        file_menu.addSeparator()
        self.close_action = self._action("Close window", "Ctrl+W", self.close, "")
        file_menu.addAction(self.close_action)
        self.quit_action = self._action("Quit Outpost", "Ctrl+Q", self.confirm_quit, "")
        file_menu.addAction(self.quit_action)
        edit = menu.addMenu("&Edit")
        self.undo_action = self.undo.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.undo_action.setIcon(icons.icon("undo"))
        self.redo_action = self.undo.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setIcon(icons.icon("redo"))
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        self.delete_action = self._action("Delete post…", "Del", lambda: self._delete_selected(), "trash")
        edit.addAction(self.delete_action)
        view = menu.addMenu("&View")
        for i, (name, label) in enumerate((("month", "Month"), ("week", "Week"), ("agenda", "Agenda"),
                                           ("activity", "Activity"))):
            view.addAction(self._action(label, f"Ctrl+{i + 1}", lambda _c=False, n=name: self.set_view(n), ""))
        view.addSeparator()
        view.addAction(self._action("Today", "", self.go_today, "today"))
        for action in (self.undo_action, self.redo_action):
            self.addAction(action)
        self.toast.undo_stack = self.undo  # every "Undo" offer goes once Ctrl+Z (or redo) moved past it
        self.undo.indexChanged.connect(self.toast.undo_moved)
        file_menu.aboutToShow.connect(self._sync_autostart)

    def _sync_autostart(self) -> None:
        """Read the login item when the menu opens (it can change outside Outpost)."""
        try:
            from app.ui import autostart

            self.autostart_action.blockSignals(True)
            self.autostart_action.setChecked(autostart.is_enabled())
            self.autostart_action.blockSignals(False)
        except (ImportError, OSError):
            self.autostart_action.setVisible(False)

    def _action(self, text: str, shortcut: str, slot, icon_name: str) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icons.icon(icon_name))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    # -- navigation ---------------------------------------------------------------------------
    def current_view_name(self) -> str:
        return next(n for n, v in self._views.items() if v is self.stack.currentWidget())

    def current_canvas(self) -> CalendarCanvas | None:
        w = self.stack.currentWidget()
        return w if isinstance(w, CalendarCanvas) else None

    def set_view(self, name: str) -> None:
        if name not in ("month", "week", "agenda", "activity"):
            name = "month"
        previous = self.stack.currentWidget()
        cursor = getattr(previous, "cursor_day", None)
        view: Any = self.view(name)
        if isinstance(cursor, date) and name != "activity" and view is not previous:
            if name == "agenda":
                view.cursor_day = cursor
            else:
                view.cursor_day = cursor
                view.anchor_to(cursor)
        self.stack.setCurrentWidget(view)
        self.header.set_view(name)
        self.settings.setValue("view", name)
        view.setFocus()
        self.reload()

    def step(self, pages: int) -> None:
        view: Any = self.stack.currentWidget()
        if hasattr(view, "step_page"):
            view.step_page(pages)
            self.reload(side=False)

    def go_today(self) -> None:
        view: Any = self.stack.currentWidget()
        if hasattr(view, "step_page"):
            view.go_today()
            self.reload(side=False)

    def _show_day(self, day: date) -> None:
        self.week.cursor_day = day
        self.week.anchor_to(day)
        self.set_view("week")

    def show_status(self, status: PostStatus) -> None:
        self.agenda.set_status_filter(status)
        self.set_view("agenda")

    def _toggle_sidebar(self) -> None:
        self._sidebar_auto_hidden = False
        self._sidebar_narrow_hidden = False
        if self.sidebar.isHidden() or self.split.sizes()[0] < self.sidebar.minimumWidth():
            self.show_sidebar()  # shown but squeezed out of sight counts as shut
        else:
            self.sidebar.hide()

    def show_sidebar(self) -> None:
        """Show the sidebar at a usable width, whatever the splitter remembered."""
        self.sidebar.show()
        sizes = self.split.sizes()
        if sizes[0] < self.sidebar.minimumWidth():
            total = sum(sizes)
            sizes[0] = SIDEBAR_WIDTH
            sizes[1] = max(300, total - sum(sizes[2:]) - SIDEBAR_WIDTH)
            self.split.setSizes(sizes)

    def _range_changed(self) -> None:
        self.reload(side=False)

    # -- data ---------------------------------------------------------------------------------
    def _on_change(self, kind: str) -> None:
        if kind in ("posts", "accounts"):
            self._range_cache.clear()
        self._refresh_timer.start()
        if kind == "publisher":
            self.healthChanged.emit()

    def reload(self, *, side: bool = True) -> None:
        """Re-read what is visible: the current range only, never every post.

        `side` also refreshes the sidebar, banner, details and status bar (not needed when paging).
        """
        view: Any = self.stack.currentWidget()
        if hasattr(view, "step_page"):
            self.header.title.setText(view.title())
        if self._runtime is None:
            return
        try:
            if isinstance(view, CalendarCanvas):
                view.set_posts(self._posts_in(view.visible_range()))
                self._prefetch_timer.start()
            elif hasattr(view, "query"):
                start, end = view.visible_range()
                from app.engine.series import posts_with_repeats

                query = view.query()
                wanted = query.get("statuses") or []
                if len(wanted) == 1 and wanted[0] in TARGET_PROBLEMS:
                    # "Failed" lists every post failed on any account, partly published ones too,
                    # as the sidebar and `outpost status` count them.
                    query["statuses"] = list(SHOWN_WITH_PROBLEMS)
                    posts = [p for p in posts_with_repeats(self.planner, start, end, **query)
                             if has_target_in(p, wanted[0])]
                else:
                    posts = posts_with_repeats(self.planner, start, end, **query)
                view.set_posts(posts)
            elif hasattr(view, "set_events"):
                events = self.planner.events(200)
                view.set_events(events, self._post_words({e.post_id for e in events if e.post_id is not None}),
                                self.planner.accounts())
            if hasattr(view, "step_page"):
                self.header.title.setText(view.title())
            else:
                self.header.title.setText("Activity")
            if not side:
                return
            counts = self.planner.counts()
            # Posts out on some accounts but failed on another count under Needs attention, and
            # their accounts' dots show the error (read only when there are any: cheap counts).
            partly = self.planner.posts(PostStatus.PARTIAL) if counts.get(PostStatus.PARTIAL) else []
            troubled = list(partly)
            for status in (PostStatus.FAILED, PostStatus.NEEDS_REVIEW):
                if counts.get(status):
                    troubled += self.planner.posts(status)
            problems = (PostStatus.PARTIAL, PostStatus.FAILED, PostStatus.NEEDS_REVIEW, PostStatus.MISSED,
                        PostStatus.PUBLISHING)
            per_target = self.planner.posts_per_target_status() if any(counts.get(s) for s in problems) else {}
            accounts = self.planner.accounts()
            self.sidebar.set_accounts(accounts, account_problems(troubled))
            if "agenda" in self._views:
                self.agenda.set_accounts(accounts)
            self.counts = attention_counts(counts, per_target)
            self.sidebar.set_counts(self.counts, partly)
            self.sidebar.set_drafts(self.planner.drafts())
            missed = self.planner.missed()
            if missed or self._banner is not None:
                self.banner.set_posts(missed)
            self._refresh_details()
            self._update_health()
        except OutpostError as exc:
            self.toast.show_message(str(exc), kind="error")

    def _post_words(self, ids: set[int]) -> dict[int, str]:
        """The first words of each post still there, to name it in the activity list."""
        from app.ui.calendar.timeline import first_words

        words = {}
        for post_id in ids:
            try:
                post = self.planner.post(post_id)
            except OutpostError:
                continue  # deleted since: its events keep their number
            words[post_id] = first_words(post.text or post.title or "(no text)", 32)
        return words

    def _posts_in(self, span: tuple[datetime, datetime]) -> list[PostView]:
        posts = self._range_cache.get(span)
        if posts is None:
            from app.engine.series import posts_with_repeats  # the posts and the series' coming occurrences

            posts = self._range_cache[span] = posts_with_repeats(self.planner, *span)
        return posts

    def _prefetch(self) -> None:
        view = self.current_canvas()
        if view is None or self._runtime is None:
            return
        wanted = [view.visible_range(), *view.neighbour_ranges()]
        for span in list(self._range_cache):
            if span not in wanted:
                del self._range_cache[span]
        try:
            for span in wanted:
                self._posts_in(span)
        except OutpostError:
            self._range_cache.clear()

    def _update_health(self) -> None:
        if self._runtime is None:
            return
        state = self.runtime.publisher.state() if self.runtime.started else None
        self.health.update_health(state, getattr(self, "counts", {}), self.clock(), self.tz)
        self.healthChanged.emit()

    def _on_tick(self) -> None:
        for view in self._views.values():
            if isinstance(view, CalendarCanvas):
                view.viewport().update()
        if "week" in self._views:
            self.week.header.update()
        self._update_health()

    def _selection_changed(self, ids: list[int]) -> None:
        self.selected_id = ids[0] if ids else None
        self._refresh_details()

    def _refresh_details(self) -> None:
        post_id = getattr(self, "selected_id", None)
        post = None
        if post_id is not None:
            try:
                post = self.planner.post(post_id)
            except OutpostError:
                self.selected_id = None
        if post is None:
            if self._details is not None:
                self._details.clear()
                self._details.hide()
            if getattr(self, "_sidebar_auto_hidden", False):
                self._sidebar_auto_hidden = False
                if self.width() >= NARROW:
                    self.show_sidebar()
                else:
                    self._sidebar_narrow_hidden = True
            return
        self.details.show_post(post, self.planner.attempts(post.id))
        # isHidden, not isVisible: with the window in the tray every child is "invisible", and
        # reading that as "the sidebar is shut" once squeezed it to 0 px for good (issue 13 #1).
        if self.details.isHidden():
            if self.width() < 1200 and not self.sidebar.isHidden():
                # A narrow window keeps the calendar usable: the sidebar steps aside for the details.
                self.sidebar.hide()
                self._sidebar_auto_hidden = True
            self.details.show()
            sizes = self.split.sizes()
            panel = 320 if self.width() >= 1100 else 300
            side = max(sizes[0], SIDEBAR_WIDTH) if not self.sidebar.isHidden() else 0
            self.split.setSizes([side, max(300, sum(sizes) - side - panel), panel])

    # -- changes ------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.toast.show_message(message, kind="error")

    def move_posts(self, moves: dict[int, datetime | None]) -> bool:
        from app.ui.commands import MoveCommand, run  # imported on first use: keeps the first paint fast

        command = MoveCommand(self.planner, moves, self.show_error)
        if not run(self.undo, command):
            return False
        n = len(moves)
        first = next(iter(moves.values()))
        when = local_wall(first, self.tz).strftime("%a %d %b, %H:%M") if first else "the drafts"
        label = f"Moved {n} posts" if n > 1 else "Moved to"
        self.toast.show_message(f"{label} {when}" if n == 1 else f"{label}.", action="Undo", callback=self.undo.undo,
                                undo_index=self.undo.index())
        self.reload()
        return True

    def offer_duplicate(self, post_id: int, at: datetime) -> None:
        when = local_wall(at, self.tz).strftime("%a %d %b, %H:%M")
        self.toast.show_message(
            "This post is already published, so it stays where it is.",
            action=f"Duplicate as a new post on {when}",
            callback=lambda: self._duplicate_later(post_id, at), msec=10_000,
        )

    def _duplicate_later(self, post_id: int, at: datetime) -> None:
        self.duplicate(post_id, at)

    def duplicate(self, post_id: int, at: datetime | None) -> int | None:
        from app.ui.commands import DuplicateCommand, run

        command = DuplicateCommand(self.planner, post_id, at, self.show_error)
        if not run(self.undo, command):
            return None
        self.toast.show_message("Copied as a new post." if at else "Copied as a draft: find it in the sidebar.",
                                action="Undo", callback=self.undo.undo, undo_index=self.undo.index())
        self.reload()
        return command.new_id

    def delete(self, post_id: int) -> None:
        from app.ui.commands import DeleteCommand, run

        if run(self.undo, DeleteCommand(self.planner, post_id, self.show_error)):
            self.selected_id = None
            self.toast.show_message("Post deleted.", action="Undo", callback=self.undo.undo,
                                    undo_index=self.undo.index())
            self.reload()

    def confirm_delete(self, post_id: int) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete post",
                          "Delete this post? It is removed from Outpost (not from platforms where it "
                          "was already published). You can undo this with Ctrl+Z.",
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _r: self.delete(post_id) if box.clickedButton() is delete else None)
        box.open()
        return box

    def _delete_selected(self) -> None:
        post_id = getattr(self, "selected_id", None)
        if post_id is not None:
            self.confirm_delete(post_id)

    def run_action(self, name: str, post_id: int) -> None:
        try:
            if name == "edit":
                self.edit_post(post_id)
            elif name == "duplicate":
                self.duplicate(post_id, None)
            elif name == "delete":
                self.confirm_delete(post_id)
            elif name == "retry":
                self.planner.retry(post_id)
                self.toast.show_message("Trying again now.")
            elif name == "cancel" and _offer_series_cancel(self, post_id):
                return  # a repeating post: the question that opened decides which occurrences
            elif name == "cancel":
                self.planner.cancel(post_id)
                self.toast.show_message("Cancelled: it will not be published.")
            elif name == "publish_now":
                self.planner.publish_now(post_id)
                self.toast.show_message("Publishing now.")
        except OutpostError as exc:
            self.show_error(str(exc))
        self.reload()

    def mark_published(self, target_id: int) -> None:
        try:
            self.planner.mark_published(target_id)
            self.toast.show_message("Marked as published.")
        except (OutpostError, ValueError) as exc:
            self.show_error(str(exc))
        self.reload()

    def confirm_take_back(self, post_id: int) -> None:
        """A handed-off post comes back only after the person deleted it on the platform (asked here)."""
        try:
            post = self.planner.post(post_id)
        except OutpostError as exc:
            self.show_error(str(exc))
            return
        names = " and ".join(dict.fromkeys(t.platform.label for t in post.targets if t.natively_scheduled))
        box = QMessageBox(QMessageBox.Icon.Question, "Take back from the platform's scheduler",
                          f"This post waits in {names}'s own scheduler, and Outpost cannot delete it there for you. "
                          f"Delete it on {names} first; otherwise it still goes out.\n\nHave you deleted it on "
                          f"{names}? Then it becomes a draft here, at the same date, to move, schedule or cancel.",
                          QMessageBox.StandardButton.Cancel, self)
        take = box.addButton("I deleted it: take it back", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(clicked: object) -> None:
            if clicked is not take:
                return
            try:
                self.planner.take_back(post_id)
                self.toast.show_message("Taken back: it is a draft here now. Move it, schedule it or cancel it.")
            except OutpostError as exc:
                self.show_error(str(exc))
            self._refresh_timer.start()  # once the question has closed

        box.buttonClicked.connect(answered)
        box.open()  # never exec(): the loop keeps running
        self._take_back_box = box  # for tests and to keep it alive

    def _each(self, ids: list[int], action, verb: str) -> None:  # type: ignore[no-untyped-def]
        done = 0
        for post_id in ids:
            try:
                action(post_id)
                done += 1
            except OutpostError as exc:
                self.show_error(str(exc))
        if done:
            self.toast.show_message(f"{verb} {done} post{'s' if done != 1 else ''}.")
        self.reload()

    # -- editor and dialogs -------------------------------------------------------------------
    def open_editor(self, post: PostView | None = None, at: datetime | None = None) -> PostEditor:
        from app.ui.editor import dialog  # imported on first use: keeps the first paint fast

        editor = dialog.PostEditor(self.planner, self.runtime.adapter, self.tz_name, post=post, at=at,
                            clock=self.clock, parent=self)
        editor.setWindowFlag(Qt.WindowType.Window, True)
        editor.saved.connect(self._editor_saved)
        editor.finished.connect(lambda _r, e=editor: self.editors.remove(e) if e in self.editors else None)
        self.editors.append(editor)
        editor.resize(editor.sizeHint())
        editor.show()
        editor.raise_()
        editor.text.setFocus()
        return editor

    def _new_post_at(self, at: object) -> None:
        self.open_editor(at=at if isinstance(at, datetime) else None)

    def edit_post(self, post_id: int) -> None:
        try:
            post = self.planner.post(post_id)
        except OutpostError as exc:
            self.show_error(str(exc))
            return
        if post.status in (PostStatus.PUBLISHED, PostStatus.PUBLISHING, PostStatus.NEEDS_REVIEW, PostStatus.PARTIAL):
            self.selected_id = post_id
            self._refresh_details()
            return
        self.open_editor(post=post)

    def _editor_saved(self, post_id: int) -> None:
        self.selected_id = post_id
        self.toast.show_message("Saved.")
        self.reload()

    def open_accounts(self) -> None:
        if not _module_exists("app.ui.accounts_dialog"):
            return
        from app.ui import accounts_dialog  # type: ignore[attr-defined, unused-ignore]

        dialog = accounts_dialog.AccountsDialog(self.runtime, self)
        dialog.finished.connect(lambda _r: self.reload())
        dialog.open()

    def open_import(self, path: str | None = None) -> None:
        if not _module_exists("app.ui.import_dialog"):
            return
        from app.ui import import_dialog  # type: ignore[attr-defined, unused-ignore]

        dialog = import_dialog.ImportDialog(self.runtime, self)
        for name in ("load_file", "open_file", "load_path", "load"):
            if path and hasattr(dialog, name):
                getattr(dialog, name)(path)
                break
        dialog.finished.connect(lambda _r: self.reload())
        dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and any(u.toLocalFile().lower().endswith((".csv", ".xlsx")) for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if path.lower().endswith((".csv", ".xlsx")):
                self.open_import(path)
                event.acceptProposedAction()
                return

    def _set_autostart(self, on: bool) -> None:
        from app.ui import autostart

        try:
            autostart.set_enabled(on, data_dir=self.data_dir)
            self.toast.show_message("Outpost will start when you log in." if on else "Outpost will not start at login.")
        except OSError as exc:
            self.show_error(f"Could not change the login item: {exc}")

    # -- window lifecycle ---------------------------------------------------------------------
    def bring_to_front(self) -> None:
        self.show()
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def request_quit(self) -> None:
        self._really_quit = True
        self.quitRequested.emit()

    def confirm_quit(self) -> QMessageBox | None:
        """Quit, first saying that scheduled posts wait until Outpost runs again (once asked, or never)."""
        waiting = 0
        if self._runtime is not None:
            try:
                waiting = self.planner.counts().get(PostStatus.SCHEDULED, 0)
            except OutpostError:
                waiting = 0
        if not waiting or flag(self.settings, "quit_hint_off"):
            self.request_quit()
            return None
        state = self.runtime.publisher.state() if self.runtime.started else None
        nxt = state.next_due if state is not None else None
        when = f" The next is due {local_wall(nxt, self.tz):%a %d %b at %H:%M}." if nxt else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Quit Outpost?",
                          f"{waiting} scheduled post{'s' if waiting != 1 else ''} will not go out while Outpost is "
                          f"closed.{when} They are published when you start Outpost again (late ones wait "
                          "for you to decide).\n\nClosing the window instead keeps Outpost publishing in the "
                          "background.", QMessageBox.StandardButton.NoButton, self)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep publishing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        remember = QCheckBox("Don't ask again")
        box.setCheckBox(remember)
        box.setObjectName("quitQuestion")

        def answered(_result: int) -> None:
            if box.clickedButton() is not quit_button:
                return
            if remember.isChecked():
                self.settings.setValue("quit_hint_off", True)
            self.request_quit()

        box.finished.connect(answered)
        box.open()  # never exec(): publishing goes on while it is asked
        return box

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not getattr(self, "_follows_screen", False):
            self._follows_screen = True
            handle.screenChanged.connect(lambda _screen: self.fit_to_screen())
        self.fit_to_screen()
        self.reload()

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """Never bigger than the screen: 1920×1080 at 200 % is 960×540 logical pixels, less the panel.

        The minimum shrinks to the free area (less the title bar), and a remembered size that no
        longer fits is cut to it, so "New post" and the status bar are always on screen.
        """
        if available is None:
            screen = self.screen()
            if screen is None:
                return
            available = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()
        decor = QSize(max(frame.width(), 0), max(frame.height(), TITLE_BAR))  # the frame is known once shown
        room = QSize(available.width() - decor.width(), available.height() - decor.height())
        self.setMinimumSize(MINIMUM_SIZE.boundedTo(room))
        if self.width() > room.width() or self.height() > room.height():
            self.resize(self.size().boundedTo(room))
            self.move(max(available.left(), min(self.x(), available.right() - room.width())),
                      max(available.top(), min(self.y(), available.bottom() - room.height())))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # A narrow window (a small or scaled screen) gives the calendar the width; the toggle brings
        # the sidebar back, and widening the window restores it.
        narrow = self.width() < NARROW
        if narrow and not self.sidebar.isHidden():
            self.sidebar.hide()
            self._sidebar_narrow_hidden = True
        elif not narrow and getattr(self, "_sidebar_narrow_hidden", False):
            self._sidebar_narrow_hidden = False
            if self._details is None or self._details.isHidden() or self.width() >= 1200:
                self.show_sidebar()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        if self._really_quit:
            event.accept()
            return
        if self.tray is not None and self.tray.isVisible() and QSystemTrayIcon.isSystemTrayAvailable():
            event.accept()  # hides the window; the app lives on in the tray
            self.hide()
            if not flag(self.settings, "tray_notice_shown"):
                self.settings.setValue("tray_notice_shown", True)
                self.tray.showMessage("Outpost keeps publishing",
                                      "Your scheduled posts still go out. Open or quit Outpost from this icon.",
                                      QSystemTrayIcon.MessageIcon.Information, 8000)
            return
        choice = str(self.settings.value("no_tray_choice", ""))
        if choice == "background":
            event.accept()
            return
        if choice == "quit":
            event.ignore()
            self.request_quit()
            return
        event.ignore()
        self.ask_background()

    def ask_background(self) -> QMessageBox:
        """No tray here: ask whether to keep publishing with the window closed."""
        box = QMessageBox(QMessageBox.Icon.Question, "Keep publishing?",
                          "There is no system tray on this desktop. Keep Outpost running in the background "
                          "so scheduled posts still go out?\n\nRun `outpost` again to bring the window back.",
                          QMessageBox.StandardButton.NoButton, self)
        keep = box.addButton("Keep publishing", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit Outpost", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        remember = QCheckBox("Don't ask again")
        box.setCheckBox(remember)
        box.setObjectName("backgroundQuestion")

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            if clicked is cancel or clicked is None:
                return
            background = clicked is keep
            if remember.isChecked():
                self.settings.setValue("no_tray_choice", "background" if background else "quit")
            if background:
                self.hide()
            else:
                self.request_quit()

        box.finished.connect(answered)
        box.open()
        return box

    def shutdown(self) -> None:
        self._tick.stop()
        self._refresh_timer.stop()
        self._unsubscribe()
        for editor in list(self.editors):
            editor.close()


def _offer_series_cancel(window: MainWindow, post_id: int) -> bool:
    from app.ui.calendar.repeats import actions_for

    return actions_for(window).offer_cancel(post_id)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
