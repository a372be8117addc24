"""A rough preview per platform: how the post will read there, its pictures, the over-limit part marked."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter, QPainterPath, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QTabWidget, QToolTip, QVBoxLayout, QWidget

from app.core.models import MediaItem, MediaKind, Platform
from app.core.text import find_urls
from app.store.views import AccountView
from app.ui import icons, theme
from app.ui.editor.counters import short_names
from app.ui.editor.media import load_image

PREVIEW_CUT = 600  # characters of the over-limit part shown struck through
SHOWN_MEDIA = 4  # most platforms show four pictures; more are counted on the last tile
IMAGE_SIDE = 720  # pixels kept per preview picture: sharp on a 2x screen at the pane's width
GAP = 4
NAMED_TABS = 3  # beyond this many accounts the preview tabs show glyphs only


@dataclass(frozen=True)
class PreviewContent:
    """One account's preview: the text part above the pictures, the pictures, then replies."""

    head: str  # name, handle, time and the text (HTML)
    media: tuple[MediaItem, ...]
    tail: str  # thread parts and the first comment (HTML)


def render_preview(account: AccountView, text: str, over_from: int | None, media: tuple[MediaItem, ...],
                   first_comment: str, when: str, *, thread: tuple[str, ...] = ()) -> PreviewContent:
    """The preview card's parts: name, handle, text with links, where it is cut, attachments, replies."""
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
    head = (f"<div><b>{name}</b> <span style='color:{muted}'>{handle} · {escape(when)}</span></div>"
            f"<div style='margin-top:6px'>{body or '<i style=color:gray>Nothing written yet</i>'}</div>")
    tail = []
    for i, part in enumerate(thread, start=2):
        tail.append(f"<div style='margin-top:8px;padding-left:8px;border-left:2px solid {muted}'>"
                    f"<span style='color:{muted}'>{i}/{len(thread) + 1}</span> {linkify(part[:PREVIEW_CUT])}</div>")
    if first_comment:
        tail.append(f"<div style='margin-top:8px;padding-left:8px;border-left:2px solid gray;color:{muted}'>"
                    f"↳ {escape(first_comment)}</div>")
    return PreviewContent(head, media, "".join(tail))


def tile_rects(count: int, width: int, first_aspect: float) -> list[QRect]:
    """Where each of `count` pictures goes in a card `width` wide: one at its own shape (height capped),
    two side by side, three as one tall and two stacked, four in a square grid."""
    if count <= 0 or width <= 0:
        return []
    if count == 1:
        height = max(90, min(round(width / max(first_aspect, 0.25)), 320))
        return [QRect(0, 0, width, height)]
    height = min(round(width * 0.62), 300)
    half_w = (width - GAP) // 2
    half_h = (height - GAP) // 2
    right = width - half_w
    if count == 2:
        return [QRect(0, 0, half_w, height), QRect(half_w + GAP, 0, right - GAP, height)]
    if count == 3:
        return [QRect(0, 0, half_w, height), QRect(half_w + GAP, 0, right - GAP, half_h),
                QRect(half_w + GAP, half_h + GAP, right - GAP, height - half_h - GAP)]
    return [QRect(0, 0, half_w, half_h), QRect(half_w + GAP, 0, right - GAP, half_h),
            QRect(0, half_h + GAP, half_w, height - half_h - GAP),
            QRect(half_w + GAP, half_h + GAP, right - GAP, height - half_h - GAP)]


class MediaPreview(QWidget):
    """The attachments as the post will show them: the real pictures, a tile for a video or a URL."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.media: tuple[MediaItem, ...] = ()
        self.images: list[QImage | None] = []
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setVisible(False)

    def set_media(self, media: tuple[MediaItem, ...]) -> None:
        if media == self.media:
            return  # refreshed on every keystroke: the pictures are read once
        self.media = media
        self.images = [None if m.is_url or m.kind is MediaKind.VIDEO else load_image(m.source, IMAGE_SIDE)
                       for m in media[:SHOWN_MEDIA]]
        self.setVisible(bool(media))
        self.updateGeometry()
        self.update()

    def _first_aspect(self) -> float:
        image = self.images[0] if self.images else None
        return image.width() / image.height() if image is not None and image.height() else 16 / 9

    def rects(self) -> list[QRect]:
        return tile_rects(min(len(self.media), SHOWN_MEDIA), self.width(), self._first_aspect())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rects = tile_rects(min(len(self.media), SHOWN_MEDIA), width, self._first_aspect())
        return max((r.bottom() + 1 for r in rects), default=0)

    def sizeHint(self) -> QSize:
        return QSize(240, self.heightForWidth(240))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        for i, rect in enumerate(self.rects()):
            item, image = self.media[i], self.images[i]
            more = i == SHOWN_MEDIA - 1 and len(self.media) > SHOWN_MEDIA  # this tile says "+N" instead
            path = QPainterPath()
            path.addRoundedRect(QRectF(rect), 8, 8)
            painter.save()
            painter.setClipPath(path)
            if image is not None:
                painter.drawImage(rect, image, _cover(image, rect))
            elif more:
                painter.fillRect(rect, theme.mix(base, text, 0.35))
            else:
                painter.fillRect(rect, theme.mix(base, text, 0.10))
                glyph = "link" if item.is_url else "play" if item.kind is MediaKind.VIDEO else "image"
                side = min(28, rect.height() // 3)
                icons.icon(glyph).paint(painter, QRect(rect.center().x() - side // 2, rect.center().y() - side,
                                                        side, side))
                painter.setPen(theme.muted_text(pal))
                label = painter.fontMetrics().elidedText(_name(item), Qt.TextElideMode.ElideMiddle, rect.width() - 12)
                painter.drawText(rect.adjusted(6, side // 2 + 8, -6, 0), Qt.AlignmentFlag.AlignHCenter
                                 | Qt.AlignmentFlag.AlignVCenter, label)
            if item.alt_text and not more:
                _badge(painter, rect, "ALT")
            if more:
                painter.fillRect(rect, QColor(0, 0, 0, 120))
                painter.setPen(QColor("white"))
                font = painter.font()
                font.setPointSizeF(font.pointSizeF() * 1.6)
                font.setBold(True)
                painter.setFont(font)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"+{len(self.media) - SHOWN_MEDIA + 1}")
            painter.restore()
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            for i, rect in enumerate(self.rects()):
                if rect.contains(event.pos()):
                    m = self.media[i]
                    QToolTip.showText(event.globalPos(), f"{_name(m)}\nAlt text: {m.alt_text or '(none)'}", self)
                    return True
            QToolTip.hideText()
            return True
        return super().event(event)


def _cover(image: QImage, rect: QRect) -> QRect:
    """The middle part of `image` with the tile's shape: the picture fills the tile, cropped, never squashed."""
    iw, ih = image.width(), image.height()
    if rect.height() == 0 or ih == 0:
        return image.rect()
    want = rect.width() / rect.height()
    if iw / ih > want:
        w = round(ih * want)
        return QRect((iw - w) // 2, 0, w, ih)
    h = round(iw / want)
    return QRect(0, (ih - h) // 2, iw, h)


def _badge(painter: QPainter, rect: QRect, text: str) -> None:
    metrics = painter.fontMetrics()
    box = QRect(rect.left() + 6, rect.bottom() - metrics.height() - 8, metrics.horizontalAdvance(text) + 10,
                metrics.height() + 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 160))
    painter.drawRoundedRect(QRectF(box), 4, 4)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _name(item: MediaItem) -> str:
    if item.is_url:
        parts = urlsplit(item.source)
        return parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc
    return item.source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class PreviewCard(QWidget):
    """Text, then the pictures, then the replies: the order the post reads in on the platform."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewCard")
        self.head = self._label()
        self.media = MediaPreview()
        self.tail = self._label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.setSpacing(8)
        layout.addWidget(self.head)
        layout.addWidget(self.media)
        layout.addWidget(self.tail)
        layout.addStretch(1)

    @staticmethod
    def _label() -> QLabel:
        label = QLabel()
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        return label

    def show_content(self, content: PreviewContent) -> None:
        self.head.setText(content.head)
        self.media.set_media(content.media)
        self.tail.setText(content.tail)
        self.tail.setVisible(bool(content.tail))

    def text(self) -> str:
        return self.head.text() + self.tail.text()


class PreviewTabs(QTabWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.cards: dict[int, PreviewCard] = {}

    def set_accounts(self, accounts: list[AccountView]) -> None:
        self.clear()
        self.cards = {}
        names = short_names(accounts)
        for a in accounts:
            card = PreviewCard()
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(card)
            # Up to three tabs carry names (shortened "Clay…" to stay in view); more show glyphs, named on hover.
            title = names[a.id].replace("&", "&&") if len(accounts) <= NAMED_TABS else ""
            index = self.addTab(scroll, icons.platform_icon(a.platform), title)
            self.setTabToolTip(index, a.label)
            self.cards[a.id] = card
        self.setUsesScrollButtons(len(accounts) > NAMED_TABS)  # named tabs always fit; many glyphs may scroll
        if not accounts:
            empty = QLabel("Choose an account to see a preview.")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setStyleSheet(f"color: {theme.muted_text(self.palette()).name()}")
            self.addTab(empty, "Preview")

    def update_preview(self, account: AccountView, content: PreviewContent) -> None:
        card = self.cards.get(account.id)
        if card is not None:
            card.show_content(content)


__all__ = ["Platform", "PreviewContent", "PreviewTabs", "render_preview", "tile_rects"]
