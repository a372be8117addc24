"""A rough preview per platform: how the post will read there, with the over-limit part marked."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from app.core.models import MediaItem, Platform
from app.core.text import find_urls
from app.store.views import AccountView
from app.ui import icons, theme

PREVIEW_CUT = 600  # characters of the over-limit part shown struck through


def render_html(account: AccountView, text: str, over_from: int | None, media: tuple[MediaItem, ...],
                first_comment: str, when: str, *, thread: tuple[str, ...] = ()) -> str:
    """The preview card's HTML: name, handle, text with links, where it is cut, attachments."""
    kept, cut = (text, "") if over_from is None else (text[:over_from], text[over_from:])
    rest = ""
    if len(cut) > PREVIEW_CUT:  # a pasted book: show where it is cut, not megabytes of struck text
        rest = f" … and {len(cut) - PREVIEW_CUT:,} more characters that will not fit"
        cut = cut[:PREVIEW_CUT]

    def linkify(part: str) -> str:
        out, last = [], 0
        for start, end, url in find_urls(part):
            out.append(escape(part[last:start]))
            out.append(f"<span style='color:#2f6fd6'>{escape(url)}</span>")
            last = end
        out.append(escape(part[last:]))
        return "".join(out).replace("\n", "<br>")

    body = linkify(kept)
    if cut:
        body += f"<span style='background:#f6d5d5;color:#a02020;text-decoration:line-through'>{linkify(cut)}</span>"
    if rest:
        body += f"<span style='color:#a02020'>{escape(rest)}</span>"
    name = escape(account.display_name or account.handle)
    handle = escape(account.handle if account.handle.startswith("@") else "@" + account.handle)
    muted = "gray"
    parts = [
        f"<div><b>{name}</b> <span style='color:{muted}'>{handle} · {escape(when)}</span></div>",
        f"<div style='margin-top:6px'>{body or '<i style=color:gray>Nothing written yet</i>'}</div>",
    ]
    if media:
        kinds = ", ".join(f"{m.kind.value}" for m in media)
        parts.append(f"<div style='margin-top:8px;color:{muted}'>▣ {len(media)} attachment(s): {escape(kinds)}</div>")
    for i, part in enumerate(thread, start=2):
        parts.append(f"<div style='margin-top:8px;padding-left:8px;border-left:2px solid {muted}'>"
                     f"<span style='color:{muted}'>{i}/{len(thread) + 1}</span> {linkify(part[:PREVIEW_CUT])}</div>")
    if first_comment:
        parts.append(f"<div style='margin-top:8px;padding-left:8px;border-left:2px solid gray;color:{muted}'>"
                     f"↳ {escape(first_comment)}</div>")
    return "".join(parts)


class PreviewTabs(QTabWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.labels: dict[int, QLabel] = {}

    def set_accounts(self, accounts: list[AccountView]) -> None:
        self.clear()
        self.labels = {}
        for a in accounts:
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setMargin(14)
            label.setObjectName("previewCard")
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            holder = QWidget()
            lay = QVBoxLayout(holder)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(label)
            lay.addStretch(1)
            scroll.setWidget(holder)
            title = a.platform.label if _unique(a, accounts) else a.label
            # Three or more accounts: glyphs only, so every tab stays in view.
            index = self.addTab(scroll, icons.platform_icon(a.platform),
                                "" if len(accounts) > 2 else title.replace("&", "&&"))
            self.setTabToolTip(index, a.label)
            self.labels[a.id] = label
        if not accounts:
            empty = QLabel("Choose an account to see a preview.")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setStyleSheet(f"color: {theme.muted_text(self.palette()).name()}")
            self.addTab(empty, "Preview")

    def update_preview(self, account: AccountView, html: str) -> None:
        label = self.labels.get(account.id)
        if label is not None:
            label.setText(html)


def _unique(a: AccountView, accounts: list[AccountView]) -> bool:
    return sum(1 for b in accounts if b.platform is a.platform) == 1


__all__ = ["Platform", "PreviewTabs", "render_html"]
