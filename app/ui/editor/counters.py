"""Live length counters, one per selected account, with each platform's own counting rule."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.core.models import AccountInfo, Platform, PostContent, Problem
from app.core.rules import PlatformRules, rules_for, validate_content
from app.core.text import Measure, measure
from app.platforms.base import Adapter
from app.store.views import AccountView
from app.ui import icons, theme
from app.ui.editor.flow import FlowLayout
from app.ui.widgets import clear_layout

AdapterFor = Callable[[Platform], Adapter]


def account_info(account: AccountView) -> AccountInfo:
    return AccountInfo(id=account.id, platform=account.platform, handle=account.handle,
                       display_name=account.display_name, timezone=account.timezone,
                       server=account.server, settings=dict(account.settings))


def rules_for_account(account: AccountView, adapter_for: AdapterFor | None) -> PlatformRules:
    """The adapter's rules for this account (server-adjusted limits), else the platform's defaults."""
    if adapter_for is not None:
        try:
            return adapter_for(account.platform).rules(account_info(account))
        except (ValueError, ImportError, KeyError):
            pass
    return rules_for(account.platform)


def problems_for_account(content: PostContent, account: AccountView, adapter_for: AdapterFor | None) -> list[Problem]:
    """Compose-time problems for one account: the adapter's checks, else the platform rules."""
    if adapter_for is not None:
        try:
            return adapter_for(account.platform).validate(content, account_info(account))
        except (ValueError, ImportError, KeyError):
            pass
    return validate_content(content, rules_for(account.platform))


def short_names(accounts: list[AccountView]) -> dict[int, str]:
    """A short name per account for buttons, tabs and counters, shown beside the platform's glyph:
    the display name, or the handle when two accounts on one platform share that name."""
    names = {a.id: a.display_name or a.handle for a in accounts}
    taken = [(a.platform, names[a.id]) for a in accounts]
    for a in accounts:
        if taken.count((a.platform, names[a.id])) > 1:
            names[a.id] = a.handle if a.handle.startswith("@") or "." in a.handle else "@" + a.handle
    return names


def measure_for(text: str, rules: PlatformRules) -> Measure:
    return measure(text, rules.counting, rules.text_limit, rules.url_weight)


class Counter(QLabel):
    """`count / limit` for one account; red with the excess when the text is too long."""

    def __init__(self, account: AccountView, rules: PlatformRules) -> None:
        super().__init__()
        self.account = account
        self.rules = rules
        self.result = Measure(0, rules.text_limit, None)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setToolTip(f"{account.label}: {rules.text_limit} {rules.counting.description}")

    def update_for(self, text: str) -> Measure:
        self.result = measure_for(text, self.rules)
        m = self.result
        if m.fits:
            color = theme.muted_text(self.palette()).name() if m.remaining > m.limit * 0.1 else "#c27a12"
            self.setText(f"<span style='color:{color}'>{m.shown} / {m.limit:,}</span>")
        else:
            over = f"{m.count - m.limit:,}" + ("" if m.exact else "+")
            self.setText(f"<span style='color:#d64545;font-weight:600'>{m.shown} / {m.limit:,} "
                         f"(−{over})</span>")
        return m


class CounterBar(QWidget):
    """One counter per selected account, each with its platform glyph and, beside others, its name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = FlowLayout(self, spacing=(14, 4))
        self.counters: dict[int, Counter] = {}
        self.names: dict[int, QLabel] = {}

    def set_accounts(self, accounts: list[AccountView], adapter_for: AdapterFor | None) -> None:
        clear_layout(self.row)
        self.counters = {}
        self.names = {}
        names = short_names(accounts)
        for a in accounts:
            glyph = QLabel()
            glyph.setPixmap(icons.platform_icon(a.platform).pixmap(14, 14))
            glyph.setToolTip(a.label)
            counter = Counter(a, rules_for_account(a, adapter_for))
            self.counters[a.id] = counter
            box = QHBoxLayout()
            box.setSpacing(4)
            box.addWidget(glyph)
            if len(accounts) > 1:  # one counter needs no name; two Bluesky counters do
                name = QLabel(_clip(names[a.id]))
                name.setToolTip(a.label)
                self.names[a.id] = name
                box.addWidget(name)
            box.addWidget(counter)
            holder = QWidget()
            holder.setLayout(box)
            box.setContentsMargins(0, 0, 0, 0)
            self.row.addWidget(holder)

    def update_texts(self, text_for: Callable[[int], str]) -> dict[int, Measure]:
        return {aid: c.update_for(text_for(aid)) for aid, c in self.counters.items()}


def _clip(name: str, limit: int = 30) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class OverLimitHighlighter(QSyntaxHighlighter):
    """Marks the characters past the strictest limit, so the user sees what to cut."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.over_from: int | None = None
        self.fmt = QTextCharFormat()
        self.fmt.setBackground(QColor(214, 69, 69, 70))
        self.fmt.setForeground(QColor("#b02a2a"))
        self.fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.fmt.setUnderlineColor(QColor("#d64545"))

    def set_over_from(self, index: int | None) -> None:
        if index != self.over_from:
            self.over_from = index
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if self.over_from is None:
            return
        start = self.currentBlock().position()
        # Python str indices and Qt positions differ for astral characters; convert.
        doc_text = self.document().toPlainText()
        over_qt = len(doc_text[: self.over_from].encode("utf-16-le")) // 2
        end = start + len(text.encode("utf-16-le")) // 2
        if over_qt >= end:
            return
        begin = max(0, over_qt - start)
        self.setFormat(begin, end - start - begin, self.fmt)
