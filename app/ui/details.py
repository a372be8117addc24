"""The side panel: one post's targets with status and links, its attempt history, and actions."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.models import AttemptOutcome, PostStatus, TargetStatus
from app.core.recurrence import Recurrence
from app.store.views import AttemptView, PostView, numbered_attempts, shown_minute
from app.ui import icons, theme
from app.ui.calendar.timeline import local_wall
from app.ui.widgets import button, clear_layout, muted, pill, section, separator, status_pill

RETRYABLE = {PostStatus.FAILED, PostStatus.NEEDS_REVIEW, PostStatus.MISSED, PostStatus.PARTIAL}
CANCELLABLE = {PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.NEEDS_REVIEW}
PUBLISHABLE = {PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED}
EDITABLE = {PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED}

_OUTCOME_COLORS = {
    AttemptOutcome.SUCCEEDED: theme.status_color(PostStatus.PUBLISHED),
    AttemptOutcome.FAILED: theme.status_color(PostStatus.FAILED),
    AttemptOutcome.UNKNOWN: theme.status_color(PostStatus.NEEDS_REVIEW),
    AttemptOutcome.IN_FLIGHT: theme.status_color(PostStatus.PUBLISHING),
}
_TARGET_TO_POST = {t: PostStatus(t.value) for t in TargetStatus}


class DetailsPanel(QFrame):
    """Shows the selected post; emits the action the user picked with the post (or target) id."""

    actionRequested = Signal(str, int)  # ("edit" | "retry" | "cancel" | "publish_now" | "duplicate" | "delete", post id)
    markPublishedRequested = Signal(int)  # target id
    takeBackRequested = Signal(int)  # post id: deleted on the platform's own scheduler, a draft here again
    closeRequested = Signal()

    def __init__(self, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsPanel")
        self.tz = tz
        self.post: PostView | None = None
        self.setMinimumWidth(280)
        self.setMaximumWidth(460)
        self.stack = QStackedWidget()
        empty = QWidget()
        el = QVBoxLayout(empty)
        el.addStretch(1)
        hint = muted("Select a post to see where it goes, how publishing went, and what you can do with it.\n\n"
                     "Double-click a day to write a new post.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        el.addWidget(hint)
        el.addStretch(2)
        el.setContentsMargins(24, 24, 24, 24)
        self.stack.addWidget(empty)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content = QWidget()
        self.body = QVBoxLayout(self.content)
        self.body.setContentsMargins(16, 14, 16, 14)
        self.body.setSpacing(6)
        self.scroller.setWidget(self.content)
        page = QWidget()
        pl = QVBoxLayout(page)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(0)
        pl.addWidget(self.scroller, 1)
        pl.addWidget(separator())
        self.action_bar = QWidget()
        self.action_grid = grid = QGridLayout(self.action_bar)
        grid.setContentsMargins(12, 10, 12, 12)
        grid.setSpacing(6)
        self.edit_button = button("Edit", "edit", primary=True)
        self.publish_button = button("Publish now", "send")
        self.retry_button = button("Retry", "refresh")
        self.cancel_button = button("Cancel post", "close")
        self.duplicate_button = button("Duplicate", "copy")
        self.delete_button = button("Delete…", "trash", danger=True)
        self.buttons = (
            (self.edit_button, "edit"), (self.publish_button, "publish_now"), (self.retry_button, "retry"),
            (self.duplicate_button, "duplicate"), (self.cancel_button, "cancel"), (self.delete_button, "delete"),
        )
        for b, name in self.buttons:
            b.clicked.connect(lambda _c=False, n=name: self._emit(n))
        pl.addWidget(self.action_bar)
        self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def _emit(self, name: str) -> None:
        if self.post is not None:
            self.actionRequested.emit(name, self.post.id)

    def clear(self) -> None:
        self.post = None
        self.stack.setCurrentIndex(0)

    def show_post(self, post: PostView, attempts: list[AttemptView]) -> None:
        self.post = post
        clear_layout(self.body)
        self._build(post, attempts)
        s = post.status
        # A post waiting in a platform's own scheduler changes there first ("Take back…" below).
        handed = any(t.natively_scheduled and t.status is TargetStatus.SCHEDULED for t in post.targets)
        self.edit_button.setVisible(s in EDITABLE and not handed)
        self.publish_button.setVisible(s in PUBLISHABLE and not handed)
        self.retry_button.setVisible(s in RETRYABLE)
        self.cancel_button.setVisible(s in CANCELLABLE and not handed)
        self.delete_button.setEnabled(s is not PostStatus.PUBLISHING)
        self.duplicate_button.setVisible(True)
        self.delete_button.setVisible(not handed)
        # Pack the buttons that apply two by two, so no gap is left where one is hidden.
        for b, _name in self.buttons:
            self.action_grid.removeWidget(b)
        shown = [b for b, _name in self.buttons if not b.isHidden()]
        for i, b in enumerate(shown):
            self.action_grid.addWidget(b, i // 2, i % 2)
        self.stack.setCurrentIndex(1)

    def _build(self, post: PostView, attempts: list[AttemptView]) -> None:
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(status_pill(post.status))
        if post.recurrence and Recurrence.from_dict(post.recurrence).repeats:
            rep = QLabel()
            rep.setPixmap(icons.icon("repeat").pixmap(14, 14))
            rep.setToolTip(Recurrence.from_dict(post.recurrence).describe())
            top.addWidget(rep)
        top.addStretch(1)
        close = QPushButton()
        close.setIcon(icons.icon("close"))
        close.setFlat(True)
        close.setProperty("flat", True)
        close.setToolTip("Close the details")
        close.clicked.connect(self.closeRequested.emit)
        top.addWidget(close)
        holder = QWidget()
        holder.setLayout(top)
        self.body.addWidget(holder)
        when = QLabel()
        when.setProperty("role", "heading")
        if post.scheduled_at is not None:
            wall = local_wall(post.scheduled_at, self.tz)
            when.setText(f"{wall:%a %d %b %Y} · {wall:%H:%M}")
        else:
            when.setText("Draft without a date")
        when.setWordWrap(True)
        self.body.addWidget(when)
        if post.partly_published:
            # Out on some accounts, not on others: say where it failed, first thing.
            note = QLabel(post.attention_note)  # the pill above already says "Partly published"
            note.setProperty("role", "error")
            note.setWordWrap(True)
            note.setObjectName("attentionNote")
            self.body.addWidget(note)
        if post.recurrence and Recurrence.from_dict(post.recurrence).repeats:
            self.body.addWidget(muted(Recurrence.from_dict(post.recurrence).describe()))
        text = QLabel(escape(post.text or post.title or "(no text)").replace("\n", "<br>"))
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setObjectName("postText")
        card = QFrame()
        card.setProperty("role", "card")
        cl = QVBoxLayout(card)
        cl.setContentsMargins(12, 10, 12, 10)
        cl.addWidget(text)
        for number, part in enumerate(post.thread, start=2):
            # A thread's further parts, each under its number: the draft shows what will go out.
            cl.addWidget(separator())
            cl.addWidget(muted(f"Part {number} of {len(post.thread) + 1}"))
            more = QLabel(escape(part or "(no text)").replace("\n", "<br>"))
            more.setTextFormat(Qt.TextFormat.RichText)
            more.setWordWrap(True)
            more.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            more.setObjectName("threadPart")
            cl.addWidget(more)
        if post.media:
            cl.addWidget(muted(f"{len(post.media)} attachment{'s' if len(post.media) > 1 else ''}: "
                               + ", ".join(m.source.rsplit('/', 1)[-1] for m in post.media)))
        if post.first_comment:
            cl.addWidget(muted(f"First comment: {post.first_comment}"))
        self.body.addWidget(card)
        self.body.addWidget(section("Where it goes"))
        # a lost answer waiting for another look at the platform: when (the newest attempt says)
        rechecks = {a.target_id: a.recheck_at for a in attempts}
        for t in post.targets:
            check_at = rechecks.get(t.id) if t.status is TargetStatus.PUBLISHING else None
            row = QFrame()
            rl = QGridLayout(row)
            rl.setContentsMargins(0, 2, 0, 2)
            rl.setHorizontalSpacing(8)
            glyph = QLabel()
            glyph.setPixmap(icons.platform_icon(t.platform).pixmap(18, 18))
            rl.addWidget(glyph, 0, 0)
            name = QLabel(t.account_label)
            name.setWordWrap(True)
            name.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            rl.addWidget(name, 0, 1)
            if check_at is not None:
                rl.addWidget(status_pill(PostStatus.PUBLISHING, f"Checking at {local_wall(check_at, self.tz):%H:%M}"),
                             0, 2)
            else:
                rl.addWidget(status_pill(_TARGET_TO_POST[t.status]), 0, 2)
            if t.external_url:
                link = QLabel(f"<a href='{escape(t.external_url)}'>Open the published post ↗</a>")
                link.setOpenExternalLinks(True)
                link.setToolTip(t.external_url)
                rl.addWidget(link, 1, 1, 1, 2)
            if t.natively_scheduled:
                rl.addWidget(muted(f"Handed to {t.platform.label}'s scheduler: goes out even when Outpost is closed."), 2, 1, 1, 2)
                if t.status is TargetStatus.SCHEDULED:
                    back = button("Take back…", "undo")
                    back.setToolTip(f"After you delete it on {t.platform.label}: make it a draft here, to move or "
                                    "cancel it")
                    back.clicked.connect(lambda _c=False, pid=post.id: self.takeBackRequested.emit(pid))
                    rl.addWidget(back, 5, 1, 1, 2, Qt.AlignmentFlag.AlignLeft)
            if t.last_error:
                err = QLabel(t.last_error)
                err.setProperty("role", "muted" if check_at is not None else "error")  # news, not a failure yet
                err.setWordWrap(True)
                err.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                rl.addWidget(err, 3, 1, 1, 2)
            if t.status is TargetStatus.NEEDS_REVIEW or check_at is not None:
                if t.status is TargetStatus.NEEDS_REVIEW and "mark it published" not in t.last_error:
                    rl.addWidget(muted("Outpost could not tell whether this went out. Check the platform, then:"),
                                 4, 1, 1, 2)
                mark = button("Mark as published", "check")
                if check_at is not None:
                    mark.setToolTip(f"Seen it on {t.platform.label} already? Outpost then stops checking.")
                mark.clicked.connect(lambda _c=False, tid=t.id: self.markPublishedRequested.emit(tid))
                rl.addWidget(mark, 5, 1, 1, 2, Qt.AlignmentFlag.AlignLeft)
            self.body.addWidget(row)
        self.body.addWidget(section("Publishing history"))
        if not attempts:
            self.body.addWidget(muted("No attempts yet."))
        numbered = numbered_attempts(attempts)
        due = {t.id: t.scheduled_at or post.scheduled_at for t in post.targets}
        for number, a in numbered[:30]:
            self.body.addWidget(self._attempt_row(a, number, len(post.targets) > 1, due.get(a.target_id)))
        self.body.addStretch(1)

    def _attempt_row(self, a: AttemptView, number: int, name_account: bool, due: datetime | None) -> QWidget:
        row = QWidget()
        rl = QGridLayout(row)
        rl.setContentsMargins(0, 2, 0, 4)
        rl.setHorizontalSpacing(8)
        rl.setVerticalSpacing(1)
        when = shown_minute(a, due)
        heading = QLabel(f"Try {number} · {local_wall(when, self.tz):%d %b %H:%M}")
        exact = local_wall(a.started_at, self.tz)
        answered = f", answered {local_wall(a.finished_at, self.tz):%H:%M:%S.%f}"[:-3] if a.finished_at else ""
        heading.setToolTip(f"Started {exact:%H:%M:%S.%f}"[:-3] + answered)
        rl.addWidget(heading, 0, 0)
        label = {AttemptOutcome.SUCCEEDED: "Published", AttemptOutcome.FAILED: "Failed",
                 AttemptOutcome.UNKNOWN: "Unknown outcome", AttemptOutcome.IN_FLIGHT: "In progress"}[a.outcome]
        rl.addWidget(pill(label, _OUTCOME_COLORS[a.outcome]), 0, 2, Qt.AlignmentFlag.AlignRight)
        detail = a.account_label if name_account else ""
        if a.http_status:
            detail += f" · HTTP {a.http_status}"
        if a.duration_ms is not None:
            detail += f" · {a.duration_ms / 1000:.1f} s"
        if detail:
            rl.addWidget(muted(detail.removeprefix(" · ")), 1, 0, 1, 3)
        if a.error:
            err = QLabel(a.error)
            err.setProperty("role", "error")
            err.setWordWrap(True)
            err.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            rl.addWidget(err, 2, 0, 1, 3)
        rl.setColumnStretch(1, 1)
        return row
