"""Small pictures of a post's first attachment, for chips and agenda rows.

Pictures are read off the paint path (a zero-delay timer after the paint that asked for them)
through app.store.files, scaled once and kept; until one is ready, or for a video, a link or a
file that cannot be read, the caller paints the attachment glyph instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPixmap

from app.core.models import MediaItem, MediaKind
from app.store.views import PostView
from app.ui.calendar.glyphs import paint_glyph

MAX_BYTES = 40 * 1024 * 1024  # larger pictures are refused by every platform anyway
SIDE = 96  # kept at this size (device pixels): enough for a 40 pt thumbnail at 2x


class Thumbnails(QObject):
    """Scaled pictures by file path; `ready` callbacks run when one has been read."""

    def __init__(self) -> None:
        super().__init__()
        self._done: dict[str, QPixmap | None] = {}
        self._wanted: list[str] = []
        self._listeners: list[Callable[[], None]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._load)

    def on_ready(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def get(self, item: MediaItem) -> QPixmap | None:
        """The picture when it is ready; None for now (asked for) or for good (not a local picture)."""
        if item.kind is not MediaKind.IMAGE or item.is_url:
            return None
        if item.source in self._done:
            return self._done[item.source]
        if item.source not in self._wanted:
            self._wanted.append(item.source)
            self._timer.start()
        return None

    def _load(self) -> None:
        from app.store.files import read_regular_file

        batch, self._wanted = self._wanted[:8], self._wanted[8:]
        for source in batch:
            pixmap: QPixmap | None = None
            try:
                image = QImage.fromData(read_regular_file(source, MAX_BYTES))
                if not image.isNull():
                    pixmap = QPixmap.fromImage(image.scaled(SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                                            Qt.TransformationMode.SmoothTransformation))
            except OSError:
                pixmap = None  # gone or refused: the glyph says there is an attachment
            self._done[source] = pixmap
        if self._wanted:
            self._timer.start()
        for listener in list(self._listeners):
            try:
                listener()
            except RuntimeError:  # its widget was deleted
                self._listeners.remove(listener)


_shared: Thumbnails | None = None


def thumbnails() -> Thumbnails:
    global _shared
    if _shared is None:
        _shared = Thumbnails()
    return _shared


def paint_media(painter: QPainter, rect: QRectF, post: PostView, color: QColor, *, picture: bool) -> bool:
    """The first attachment in `rect`: its picture when `picture` and ready, else the glyph.
    False (nothing painted) when the post has no attachment."""
    if not post.media:
        return False
    pixmap = thumbnails().get(post.media[0]) if picture else None
    if pixmap is None:
        side = min(rect.width(), rect.height(), 14.0)
        glyph = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
        paint_glyph(painter, "image", glyph, color)
        return True
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    clip = QPainterPath()
    clip.addRoundedRect(rect, 3, 3)
    painter.setClipPath(clip)
    # Crop to the rectangle's shape from the middle of the picture.
    scale = max(rect.width() / pixmap.width(), rect.height() / pixmap.height())
    w, h = rect.width() / scale, rect.height() / scale
    source = QRectF((pixmap.width() - w) / 2, (pixmap.height() - h) / 2, w, h)
    painter.drawPixmap(rect, pixmap, source)
    painter.restore()
    return True


def media_count_label(post: PostView) -> str:
    return f"{len(post.media)} attachment{'s' if len(post.media) != 1 else ''}"
