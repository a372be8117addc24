"""The post editor window: compose once, check it against every selected account, then schedule."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontMetrics, QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.core.models import MediaItem, Platform, PostContent, PostSpec, PostStatus, Problem
from app.core.recurrence import Recurrence
from app.core.timeutil import utcnow
from app.engine.preferences import Preferences
from app.store.views import AccountView, PostView
from app.ui import icons, theme
from app.ui.calendar.timeline import local_wall
from app.ui.editor.autosave import DraftKeeper, RecoveredDraft, recovered_drafts, set_aside
from app.ui.editor.counters import (
    AdapterFor,
    CounterBar,
    OverLimitHighlighter,
    problems_for_account,
    rules_for_account,
    short_names,
)
from app.ui.editor.flow import FlowLayout
from app.ui.editor.media import MediaStrip
from app.ui.editor.preview import PreviewTabs, render_preview
from app.ui.editor.schedule import ScheduleFields
from app.ui.editor.thread import ThreadParts
from app.ui.qt import timer
from app.ui.settings import window_settings
from app.ui.widgets import button, section

if TYPE_CHECKING:
    from app.engine.planner import Planner

log = logging.getLogger(__name__)

FIELDS = ("account", "title", "text", "media", "first_comment", "scheduled_at")
# Platforms that use a title: YouTube's video title, Pinterest's pin title, a Facebook video's title.
TITLED = frozenset({Platform.YOUTUBE, Platform.PINTEREST, Platform.FACEBOOK})
TITLE_LIMIT = 100  # YouTube's, the shortest
PREFERRED = QSize(1000, 700)
MINIMUM = QSize(640, 440)  # the narrow footer (buttons under the date) needs about 550x380
AUTOSAVE_MS = 1000  # after the last keystroke: at most a second of writing is ever lost
AUTOSAVE_MAX_WAIT_S = 10.0  # typing without a pause still reaches the disk this often


class PostEditor(QDialog):
    """Non-modal: the calendar stays usable while a post is being written."""

    saved = Signal(int)

    def __init__(
        self,
        planner: Planner,
        adapter_for: AdapterFor | None,
        tz_name: str,
        *,
        post: PostView | None = None,
        at: datetime | None = None,
        clock: Callable[[], datetime] = utcnow,
        data_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # The data folder holds the autosave and the last media folder; the planner's database is in it.
        self.data_dir = data_dir if data_dir is not None else Path(planner.db.path).parent
        self.setObjectName("postEditor")
        self.planner = planner
        self.adapter_for = adapter_for
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self.clock = clock
        self.post = post
        self.accounts = planner.accounts()
        self.overrides: dict[int, str] = dict(post.overrides) if post else {}
        self.shared_text = post.text if post else ""
        self.problems: list[Problem] = []
        self.touched = post is not None  # a fresh editor does not nag before the user types
        self.setWindowTitle("Edit post" if post else "New post")
        self.setWindowIcon(icons.app_icon())
        self.setSizeGripEnabled(True)
        # Small enough for 1920x1080 at 200 % (960x540) or 1366x768 at 125 %: the form and preview scroll.
        self.setMinimumSize(MINIMUM)
        self._validate_timer = timer(self, 120, single_shot=True)
        self._validate_timer.timeout.connect(self.refresh)
        self._autosave_timer = timer(self, AUTOSAVE_MS, single_shot=True)
        self._autosave_timer.timeout.connect(self.autosave)
        self._unsaved_since = 0.0  # monotonic time of the first change not yet on disk
        self._loading = True
        self._closing_quietly = False
        self.question: QMessageBox | None = None
        self.recovered: RecoveredDraft | None = None
        self.keeper = DraftKeeper(self.data_dir, post.id if post else None)
        self._build()
        self._load(post, at)
        self.touched = post is not None
        self.refresh()
        self.saved_state = self.state()  # what "unsaved changes" are measured against
        self._loading = False
        self._autosave_timer.stop()
        self._restore_recovered()

    def sizeHint(self) -> QSize:
        """1000x700, or less on a screen that has less room (a title bar and a task bar take some)."""
        screen = self.screen()
        room = screen.availableGeometry().size() - QSize(40, 80) if screen is not None else PREFERRED
        return PREFERRED.boundedTo(room).expandedTo(MINIMUM)

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        left = QWidget()
        form = QVBoxLayout(left)
        form.setContentsMargins(18, 14, 12, 14)
        form.setSpacing(6)
        form.addWidget(section("Post to"))
        toggle_box = QWidget()
        toggles = FlowLayout(toggle_box, spacing=(6, 6))  # eight accounts wrap instead of widening the form
        self.account_buttons: dict[int, QToolButton] = {}
        toggle_names = short_names(self.accounts)
        for a in self.accounts:
            b = QToolButton()
            b.setCheckable(True)
            b.setText(toggle_names[a.id].replace("&", "&&"))
            b.setIcon(icons.platform_icon(a.platform))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setToolTip(a.label)
            b.setObjectName("accountToggle")
            b.ensurePolished()
            bold = QFont(b.font())
            bold.setWeight(QFont.Weight.DemiBold)  # the style sheet's checked weight: room for it up front
            extra = QFontMetrics(bold).horizontalAdvance(b.text()) - b.fontMetrics().horizontalAdvance(b.text())
            b.setMinimumWidth(b.sizeHint().width() + max(0, extra))
            b.toggled.connect(self._accounts_changed)
            self.account_buttons[a.id] = b
            toggles.addWidget(b)
        if not self.accounts:
            toggles.addWidget(QLabel("Connect an account first (Accounts…)."))
        form.addWidget(toggle_box)
        self.account_problems = self._problem_label()
        form.addWidget(self.account_problems)
        self.title_section = section("Title")
        form.addWidget(self.title_section)
        self.title = QLineEdit()
        self.title.setMaxLength(TITLE_LIMIT)
        self.title.setPlaceholderText("The video or pin title (empty: the first line of the text)")
        self.title.textChanged.connect(self._title_edited)
        form.addWidget(self.title)
        self.title_problems = self._problem_label()
        form.addWidget(self.title_problems)
        head = QHBoxLayout()
        head.addWidget(section("Text"))
        head.addStretch(1)
        self.reset_override: QPushButton = button("Use the shared text", flat=True)
        self.reset_override.clicked.connect(self._reset_override)
        head.addWidget(self.reset_override)
        form.addLayout(head)
        self.text_tabs = QTabBar()
        self.text_tabs.setDocumentMode(True)
        self.text_tabs.setExpanding(False)
        self.text_tabs.setElideMode(Qt.TextElideMode.ElideNone)
        self.text_tabs.setUsesScrollButtons(True)  # many accounts scroll here, never widen the form past the window
        self.text_tabs.currentChanged.connect(self._tab_changed)
        form.addWidget(self.text_tabs)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("What do you want to say?")
        self.text.setMinimumHeight(120)
        self.text.setTabChangesFocus(True)
        self.highlighter = OverLimitHighlighter(self.text.document())
        self.text.textChanged.connect(self._text_edited)
        form.addWidget(self.text, 2)
        self.override_hint = QLabel()
        self.override_hint.setProperty("role", "muted")
        form.addWidget(self.override_hint)
        self.counters = CounterBar()
        form.addWidget(self.counters)
        self.text_problems = self._problem_label()
        form.addWidget(self.text_problems)
        self.thread_parts = ThreadParts()
        self.thread_parts.changed.connect(self._thread_edited)
        form.addWidget(self.thread_parts)
        form.addWidget(section("Media"))
        self.media = MediaStrip(window_settings(self.data_dir))
        self.media.changed.connect(self._schedule_refresh)
        form.addWidget(self.media)
        self.media_problems = self._problem_label()
        form.addWidget(self.media_problems)
        form.addWidget(section("First comment"))
        self.first_comment = QPlainTextEdit()
        self.first_comment.setPlaceholderText("Optional: posted as a reply right after the post (links, hashtags)")
        self.first_comment.setFixedHeight(54)
        self.first_comment.setTabChangesFocus(True)
        self.first_comment.textChanged.connect(self._schedule_refresh)
        form.addWidget(self.first_comment)
        self.comment_problems = self._problem_label()
        form.addWidget(self.comment_problems)
        form.addStretch(1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(left)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(12, 14, 18, 14)
        rl.addWidget(section("Preview"))
        self.preview = PreviewTabs()
        rl.addWidget(self.preview, 1)
        split = QSplitter()
        split.addWidget(self.form_scroll)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        right.setMinimumWidth(260)
        # The footer holds when it goes out and the buttons that send it: always in view.
        footer = QFrame()
        footer.setObjectName("editorFooter")
        footer_rows = QVBoxLayout(footer)
        footer_rows.setContentsMargins(18, 10, 18, 12)
        footer_rows.setSpacing(6)
        self.schedule = ScheduleFields(self.tz, self.tz_name)
        self.schedule.changed.connect(self._schedule_refresh)
        self.when_problems = self._problem_label()
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        footer_rows.addWidget(self.error)
        self.footer_grid = QGridLayout()
        self.footer_grid.setHorizontalSpacing(8)
        self.footer_grid.setVerticalSpacing(8)
        self.when_box = QWidget()
        when = QVBoxLayout(self.when_box)
        when.setContentsMargins(0, 0, 0, 0)
        when.setSpacing(4)
        when_label = QLabel("&WHEN")
        when_label.setProperty("role", "section")
        when_label.setBuddy(self.schedule.date)  # Alt+W jumps to the date, Tab to the time
        when.addWidget(when_label)
        when.addWidget(self.schedule)
        when.addWidget(self.when_problems)
        self.footer_grid.addWidget(self.when_box, 0, 0)
        self.footer_grid.setColumnStretch(0, 1)
        footer_rows.addLayout(self.footer_grid)
        self.cancel_button = button("Cancel")
        self.draft_button = button("Save draft", "draft")
        self.publish_button = button("Publish now", "send")
        self.schedule_button = button("Schedule", "clock", primary=True)
        self.action_row = QWidget()
        row_layout = QHBoxLayout(self.action_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.setSpacing(8)
        for footer_button in (self.cancel_button, self.draft_button, self.publish_button, self.schedule_button):
            row_layout.addWidget(footer_button)
        self.footer_wide: bool | None = None
        self._arrange_footer()
        self.cancel_button.clicked.connect(self.reject)
        self.draft_button.clicked.connect(lambda: self.submit("draft"))
        self.publish_button.clicked.connect(lambda: self.submit("publish"))
        self.schedule_button.clicked.connect(lambda: self.submit("schedule"))
        self.schedule_button.setDefault(True)
        QShortcut(QKeySequence("Ctrl+Return"), self, lambda: self.submit("schedule"))
        QShortcut(QKeySequence("Ctrl+S"), self, lambda: self.submit("draft"))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._recovered_banner())
        outer.addWidget(split, 1)
        line = QFrame()
        line.setProperty("role", "separator")
        outer.addWidget(line)
        outer.addWidget(footer)

    def _recovered_banner(self) -> QFrame:
        """Shown when the editor opened with writing recovered from an autosave."""
        self.banner = QFrame()
        self.banner.setObjectName("recoveredBanner")
        self._style_banner()
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(18, 8, 18, 8)
        row.setSpacing(10)
        glyph = QLabel()
        glyph.setPixmap(icons.icon("draft").pixmap(18, 18))
        row.addWidget(glyph)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        row.addWidget(self.banner_text, 1)
        self.discard_recovered_button = button("Discard it", flat=True)
        self.discard_recovered_button.setToolTip("Go back to what was saved and delete the recovered writing")
        self.discard_recovered_button.clicked.connect(self.discard_recovered)
        row.addWidget(self.discard_recovered_button)
        self.banner.setVisible(False)
        return self.banner

    def _style_banner(self) -> None:
        pal = self.palette()
        soft = theme.mix(pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Highlight), 0.16).name()
        self.banner.setStyleSheet(f"QFrame#recoveredBanner {{ background: {soft}; "
                                  f"border-bottom: 1px solid {theme.grid_line(pal).name()}; }}")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "banner"):
            self._style_banner()  # the theme switched while the editor was open

    def _arrange_footer(self) -> None:
        """The buttons beside the date when both fit, else on their own row: nothing squeezed or overlapped."""
        margins = 36 + self.footer_grid.horizontalSpacing()
        wide = self.width() >= self.when_box.minimumSizeHint().width() + self.action_row.sizeHint().width() + margins
        if wide == self.footer_wide:
            return
        self.footer_wide = wide
        self.footer_grid.removeWidget(self.action_row)
        if wide:
            self.footer_grid.addWidget(self.action_row, 0, 1, Qt.AlignmentFlag.AlignBottom)
        else:
            self.footer_grid.addWidget(self.action_row, 1, 0, 1, 2, Qt.AlignmentFlag.AlignRight)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_footer()
        super().resizeEvent(event)

    @staticmethod
    def _problem_label() -> QLabel:
        label = QLabel()
        label.setProperty("role", "error")
        label.setWordWrap(True)
        label.setVisible(False)
        return label

    def _load(self, post: PostView | None, at: datetime | None) -> None:
        if post is not None:
            self.apply_state({
                "accounts": [t.account_id for t in post.targets], "text": post.text,
                "overrides": {str(k): v for k, v in post.overrides.items()}, "title": post.title,
                "thread": list(post.thread), "media": [m.to_dict() for m in post.media],
                "first_comment": post.first_comment,
                "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
                "recurrence": post.recurrence,
            })
            return
        default = self.planner.default_account_id()
        chosen = [a for a in Preferences(self.planner.db).load().default_account_ids  # Settings › Publishing
                  if a in self.account_buttons]
        when = at if at is not None else ScheduleFields.next_slot(self.clock(), self.tz)
        self.apply_state({"accounts": chosen or ([default] if default is not None else []), "text": "",
                          "scheduled_at": when.isoformat()})

    def state(self) -> dict[str, Any]:
        """Everything written so far, as plain JSON values: what the autosave keeps."""
        rec = self.schedule.recurrence()
        when = self.schedule.instant()
        return {
            "accounts": [a.id for a in self.selected_accounts()],
            "text": self.shared_text,
            "overrides": {str(k): v for k, v in sorted(self.overrides.items())},
            "title": self.title.text(),
            "thread": list(self.thread_parts.values()),
            "media": [m.to_dict() for m in self.media.items()],
            "first_comment": self.first_comment.toPlainText(),
            "scheduled_at": when.isoformat() if when else None,
            "recurrence": rec.to_dict() if rec.repeats else None,
        }

    def apply_state(self, state: dict[str, Any]) -> None:
        """Fill every field from `state` (the form `state()` returns); unknown accounts are left out."""
        chosen = {int(a) for a in state.get("accounts") or [] if isinstance(a, int)}
        self.shared_text = str(state.get("text") or "")
        overrides = state.get("overrides") or {}
        self.overrides = {int(k): str(v) for k, v in overrides.items() if str(k).isdigit()}
        self.title.setText(str(state.get("title") or ""))
        self.thread_parts.set_parts(tuple(str(t) for t in state.get("thread") or []))
        self.media.set_items(tuple(MediaItem.from_dict(m) for m in state.get("media") or [] if isinstance(m, dict)))
        self.first_comment.setPlainText(str(state.get("first_comment") or ""))
        when = state.get("scheduled_at")
        at = datetime.fromisoformat(when) if isinstance(when, str) else None
        self.schedule.set_instant(at if at is None or at.tzinfo else at.replace(tzinfo=UTC))
        recurrence = state.get("recurrence")
        self.schedule.set_recurrence(Recurrence.from_dict(recurrence if isinstance(recurrence, dict) else None))
        for aid, b in self.account_buttons.items():
            b.blockSignals(True)
            b.setChecked(aid in chosen)
            b.blockSignals(False)
        self.text_tabs.blockSignals(True)
        self.text_tabs.setCurrentIndex(0)
        self.text_tabs.blockSignals(False)
        self._accounts_changed()

    def has_unsaved_changes(self) -> bool:
        return self.state() != self.saved_state

    # -- state ----------------------------------------------------------------------------------
    def selected_accounts(self) -> list[AccountView]:
        return [a for a in self.accounts if self.account_buttons[a.id].isChecked()]

    def current_account(self) -> AccountView | None:
        index = self.text_tabs.currentIndex()
        if index <= 0:
            return None
        aid = self.text_tabs.tabData(index)
        return next((a for a in self.accounts if a.id == aid), None)

    def text_for(self, account_id: int) -> str:
        return self.overrides.get(account_id, self.shared_text)

    def spec(self, *, draft: bool = False) -> PostSpec:
        accounts = self.selected_accounts()
        ids = tuple(a.id for a in accounts)
        rec = self.schedule.recurrence()
        return PostSpec(
            text=self.shared_text,
            account_ids=ids,
            scheduled_at=self.schedule.instant(),
            timezone=self.tz_name,
            media=self.media.items(),
            first_comment=self.first_comment.toPlainText().strip(),
            thread=self.thread_parts.values(),
            overrides={k: v for k, v in self.overrides.items() if k in ids},
            recurrence=rec.to_dict() if rec.repeats else None,
            draft=draft,
            title=self.title.text().strip(),
            extra=dict(self.post.extra) if self.post else {},
        )

    # -- reactions ----------------------------------------------------------------------------
    def _accounts_changed(self, _checked: bool = False) -> None:
        accounts = self.selected_accounts()
        current = self.text_tabs.tabData(self.text_tabs.currentIndex()) if self.text_tabs.count() else None
        self.text_tabs.blockSignals(True)
        while self.text_tabs.count():
            self.text_tabs.removeTab(0)
        self.text_tabs.addTab("All accounts")
        self.text_tabs.setTabData(0, None)
        names = short_names(accounts)
        for a in accounts:
            i = self.text_tabs.addTab(icons.platform_icon(a.platform), names[a.id].replace("&", "&&"))
            self.text_tabs.setTabData(i, a.id)
            self.text_tabs.setTabToolTip(i, f"Text for {a.label} only")
        index = next((i for i in range(self.text_tabs.count()) if self.text_tabs.tabData(i) == current), 0)
        self.text_tabs.setCurrentIndex(index)
        self.text_tabs.blockSignals(False)
        self.text_tabs.setVisible(len(accounts) > 1 or bool(self.overrides))
        self.counters.set_accounts(accounts, self.adapter_for)
        self.thread_parts.set_accounts(accounts, self.adapter_for,
                                 lambda a: rules_for_account(a, self.adapter_for).threads)
        self.preview.set_accounts(accounts)
        titled = any(a.platform in TITLED for a in accounts) or bool(self.title.text())
        self.title_section.setVisible(titled)
        self.title.setVisible(titled)
        self._tab_changed(self.text_tabs.currentIndex())
        self._content_changed()

    def _tab_changed(self, _index: int) -> None:
        account = self.current_account()
        self.text.blockSignals(True)
        self.text.setPlainText(self.text_for(account.id) if account else self.shared_text)
        self.text.blockSignals(False)
        self._update_override_hint()
        self.refresh()

    def _text_edited(self) -> None:
        self.touched = True
        account = self.current_account()
        value = self.text.toPlainText()
        if account is None:
            self.shared_text = value
        elif value != self.shared_text:
            self.overrides[account.id] = value
        else:
            self.overrides.pop(account.id, None)
        self._update_override_hint()
        self._refresh_counters()
        self._schedule_refresh()

    def _reset_override(self) -> None:
        account = self.current_account()
        if account is not None:
            self.overrides.pop(account.id, None)
            self._tab_changed(self.text_tabs.currentIndex())

    def _update_override_hint(self) -> None:
        account = self.current_account()
        custom = account is not None and account.id in self.overrides
        self.reset_override.setVisible(custom)
        if account is None:
            n = sum(1 for a in self.selected_accounts() if a.id in self.overrides)
            self.override_hint.setText(f"{n} account(s) use their own text." if n else "")
        else:
            self.override_hint.setText(f"Only {account.display_name or account.handle} gets this text."
                                       if custom else f"Type here to give {account.display_name or account.handle} its own text.")
        self.override_hint.setVisible(bool(self.override_hint.text()))

    def _schedule_refresh(self) -> None:
        self._validate_timer.start()
        self._content_changed()
        self._arrange_footer()  # a weekly or monthly row needs more width than "Does not repeat"

    def _content_changed(self) -> None:
        if self._loading:
            return
        now = time.monotonic()
        if not self._autosave_timer.isActive():
            self._unsaved_since = now
        elif now - self._unsaved_since >= AUTOSAVE_MAX_WAIT_S:
            self.autosave()
            self._unsaved_since = now
        self._autosave_timer.start()  # restarted by each keystroke: written a second after typing stops

    def _title_edited(self) -> None:
        self.touched = True
        self._schedule_refresh()

    def _thread_edited(self) -> None:
        self.touched = True
        self.thread_parts.update_counters()
        self._schedule_refresh()

    def _refresh_counters(self) -> None:
        self.thread_parts.update_counters()
        results = self.counters.update_texts(self.text_for)
        account = self.current_account()
        if account is not None:
            m = results.get(account.id)
            self.highlighter.set_over_from(m.over_from if m else None)
        else:
            overs = [m.over_from for aid, m in results.items() if m.over_from is not None and aid not in self.overrides]
            self.highlighter.set_over_from(min(overs) if overs else None)

    def refresh(self) -> None:
        """Counters, highlight, previews and problems for the current content."""
        self._refresh_counters()
        spec = self.spec()
        self.problems = self._find_problems(spec)
        by_field: dict[str, list[str]] = {f: [] for f in FIELDS}
        for p in self.problems:
            who = next((f"{a.platform.label} ({a.display_name or a.handle})" for a in self.accounts
                        if a.id == p.account_id), "")
            prefix = f"{who}: " if who and p.field != "account" else ""
            mark = "⚠ " if p.is_error else "ⓘ "
            shown_at = p.field if p.field in FIELDS or p.field == "recurrence" else "text"  # never hidden
            by_field.setdefault(shown_at, []).append(mark + prefix + p.message)
        for field_name, label in (("account", self.account_problems), ("title", self.title_problems),
                                  ("text", self.text_problems),
                                  ("media", self.media_problems), ("first_comment", self.comment_problems),
                                  ("scheduled_at", self.when_problems)):
            lines = list(dict.fromkeys(by_field.get(field_name, [])))
            if field_name == "scheduled_at":
                lines += by_field.get("recurrence", [])
            label.setText("\n".join(lines))
            label.setVisible(bool(lines))
        self.text.setProperty("invalid", bool(by_field["text"]))
        self.text.style().unpolish(self.text)
        self.text.style().polish(self.text)
        when = spec.scheduled_at
        stamp = local_wall(when, self.tz).strftime("%d %b %H:%M") if when else "draft"
        for a in self.selected_accounts():
            m = self.counters.counters[a.id].result
            self.preview.update_preview(a, render_preview(a, self.text_for(a.id), m.over_from, spec.media,
                                                          spec.first_comment, stamp, thread=spec.thread))
        blocking = any(p.is_error for p in self.problems)
        self.schedule_button.setEnabled(not blocking and spec.scheduled_at is not None)
        self.publish_button.setEnabled(not any(p.is_error and p.field != "scheduled_at" for p in self.problems))
        self.schedule_button.setToolTip("Fix the problems marked in red first." if blocking else "Ctrl+Enter")

    def _find_problems(self, spec: PostSpec) -> list[Problem]:
        out: list[Problem] = []
        if not spec.account_ids:
            out.append(Problem("account", "Choose at least one account."))
        if spec.scheduled_at is not None and spec.scheduled_at <= self.clock() - timedelta(seconds=30):
            out.append(Problem("scheduled_at", "This time is in the past; pick a later time or use Publish now."))
        rec = self.schedule.recurrence()
        if rec.kind.value == "weekly" and not rec.weekdays:
            out.append(Problem("scheduled_at", "Pick at least one weekday for a weekly post."))
        for a in self.selected_accounts():
            content = PostContent(text=self.text_for(a.id), media=spec.media, first_comment=spec.first_comment,
                                  thread=spec.thread, title=spec.title)
            for p in problems_for_account(content, a, self.adapter_for):
                if not self.touched and p.field == "text" and not content.text.strip():
                    continue
                out.append(Problem(p.field, p.message, p.severity, account_id=a.id, platform=a.platform))
        return out

    # -- saving -------------------------------------------------------------------------------
    def submit(self, how: str) -> int | None:
        """Save as "draft", "schedule" or "publish" (now). Returns the post id, or None with the reason shown."""
        self.touched = True
        self.refresh()
        spec = self.spec(draft=how != "schedule")
        if how == "publish":
            spec = self.spec(draft=True)
        if how == "schedule" and spec.scheduled_at is None:
            self._show_error("Pick a date and time, or save it as a draft.")
            return None
        try:
            if self.post is None:
                post_id = self.planner.create_post(spec)
            else:
                post_id = self.post.id
                self.planner.update_post(post_id, spec)
            if how == "publish":
                self.planner.publish_now(post_id)
        except OutpostError as exc:
            self._show_error(str(exc))
            return None
        self._show_error("")
        self._autosave_timer.stop()
        self.keeper.remove()  # saved: nothing left to recover
        self.saved_state = self.state()
        self.saved.emit(post_id)
        self.accept()
        return post_id

    # -- unsaved writing ------------------------------------------------------------------------
    def autosave(self) -> None:
        """Write the unsaved writing to the data folder now (or remove the file when nothing is unsaved)."""
        self._autosave_timer.stop()
        if self.has_unsaved_changes():
            self.keeper.save(self.state(), self.clock())
        else:
            self.keeper.remove()

    def reject(self) -> None:
        """Cancel, Esc and the close button: ask first when something would be lost."""
        if self._closing_quietly:  # the app is closing the editor (quit): keep the writing for next time
            self.autosave()
            super().reject()
            return
        if not self.has_unsaved_changes():
            self._autosave_timer.stop()
            self.keeper.remove()
            super().reject()
            return
        self.autosave()  # whatever happens to the question, the writing is on disk
        self.ask_about_unsaved_changes()

    def closeEvent(self, event: QCloseEvent) -> None:
        # close() from code (the window quitting) cannot wait for an answer; a click on the title bar can.
        self._closing_quietly = not event.spontaneous()
        try:
            super().closeEvent(event)
        finally:
            self._closing_quietly = False

    def done(self, result: int) -> None:
        self._autosave_timer.stop()
        self.keeper.release()  # a file still there from now on is recovered by the next editor
        if self.question is not None:
            self.question.done(0)
        super().done(result)

    def ask_about_unsaved_changes(self) -> QMessageBox:
        """Save / Discard / Keep editing, as a sheet over this editor (never a blocking exec())."""
        if self.question is not None and self.question.isVisible():
            self.question.raise_()
            return self.question
        keeps_schedule = self.post is not None and self.post.status is PostStatus.SCHEDULED
        box = QMessageBox(self)
        box.setObjectName("unsavedQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Unsaved changes")
        box.setText("Save the changes to this post?" if self.post else "Save this post as a draft?")
        box.setInformativeText("Scheduled posts keep their time when you save changes." if keeps_schedule
                               else "A draft waits in the sidebar until you give it a time.")
        save = box.addButton("Save changes" if keeps_schedule else "Save draft", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(save)
        save.setProperty("primary", True)
        box.setEscapeButton(keep)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            self.question = None
            if clicked is save:
                self.submit("schedule" if keeps_schedule else "draft")  # a refusal stays in view, editor open
            elif clicked is discard:
                self._autosave_timer.stop()
                self.keeper.remove()
                self.saved_state = self.state()
                super(PostEditor, self).reject()

        box.finished.connect(answered)
        self.question = box
        box.open()
        return box

    def _restore_recovered(self) -> None:
        """Offer, once, writing an earlier editor autosaved for this post (or a new one) and never saved."""
        found = next((d for d in recovered_drafts(self.data_dir) if self._recovers(d)), None)
        if found is None:
            return
        self._loading = True
        try:
            self.apply_state(found.state)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # written by hand, or by a future version
            log.warning("cannot restore %s: %s", found.path.name, exc)
            set_aside(found.path)
            self.apply_state(self.saved_state)
            return
        finally:
            self._loading = False
        self.keeper.adopt(found)
        self.recovered = found
        self.touched = True
        self.refresh()
        stamp = local_wall(found.saved_at, self.tz).strftime("%a %d %b %H:%M")
        gone = found.post_id is not None and self.post is None
        self.banner_text.setText(
            f"<b>Restored what you were writing</b> (autosaved {stamp}, not saved yet). "
            + ("Its post has since gone out or been deleted: saving makes a new post." if gone
               else "Save it, or discard it to go back to what was saved."))
        self.banner.setVisible(True)

    def _recovers(self, draft: RecoveredDraft) -> bool:
        if self.post is not None:
            return draft.post_id == self.post.id
        if draft.post_id is None:
            return True
        try:  # an edit whose post was published or deleted since: offered as a new post
            return not is_editable(self.planner.post(draft.post_id))
        except OutpostError:
            return True

    def discard_recovered(self) -> None:
        """Back to the saved post (or an empty one), and the recovered writing deleted."""
        self._loading = True
        self.apply_state(self.saved_state)
        self._loading = False
        self.refresh()
        self._autosave_timer.stop()
        self.keeper.remove()
        self.recovered = None
        self.banner.setVisible(False)


    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


def is_editable(post: PostView) -> bool:
    return post.status in {PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.FAILED, PostStatus.MISSED,
                           PostStatus.CANCELLED}
