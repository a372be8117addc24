"""Attachments: files or URLs as thumbnails, reordered by dragging or buttons, each with alt text."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSettings, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import MediaItem, MediaKind
from app.store.files import read_head, read_regular_file
from app.ui import icons
from app.ui.editor.flow import FlowLayout
from app.ui.widgets import button

THUMB = 72
ROLE = Qt.ItemDataRole.UserRole
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # above every platform's image limit; a thumbnail never reads more
HEAD_BYTES = 512 * 1024  # enough for an image's dimensions past a large EXIF block
FOLDER_KEY = "editor/media_folder"
_IMAGES: dict[tuple[str, int, int, int], QImage] = {}  # (path, mtime, size, side): refreshes re-use it


def _reader(data: bytes) -> tuple[QImageReader, QBuffer]:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    return QImageReader(buffer), buffer  # the buffer must outlive the reader's reads


def load_image(source: str, side: int) -> QImage | None:
    """The local picture at `source` scaled to fit side x side, read only if it is a regular file; else None."""
    try:
        info = os.stat(source)
    except (OSError, ValueError):
        return None
    key = (source, info.st_mtime_ns, info.st_size, side)
    cached = _IMAGES.get(key)
    if cached is not None:
        return cached
    try:
        data = read_regular_file(source, MAX_IMAGE_BYTES)
    except OSError:  # FileRefused included: a pipe or a device is never opened for reading
        return None
    reader, _buffer = _reader(data)
    reader.setAutoTransform(True)
    dims = reader.size()
    if dims.isValid() and (dims.width() > side or dims.height() > side):
        reader.setScaledSize(dims.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if len(_IMAGES) >= 64:
        _IMAGES.clear()
    _IMAGES[key] = image
    return image


def media_from_source(source: str, alt_text: str = "") -> MediaItem:
    """A MediaItem for a path or URL, with the type, kind and size we can tell locally."""
    mime = mimetypes.guess_type(source)[0] or ""
    kind = MediaKind.VIDEO if mime.startswith("video/") else MediaKind.GIF if mime == "image/gif" else MediaKind.IMAGE
    size: int | None = None
    width = height = None
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError:
            size = None
        if kind is not MediaKind.VIDEO:
            try:
                head, _size = read_head(path, HEAD_BYTES)
            except OSError:
                head = b""
            reader, _buffer = _reader(head)
            dims = reader.size()
            if dims.isValid():
                width, height = dims.width(), dims.height()
    return MediaItem(source=source, kind=kind, alt_text=alt_text, mime_type=mime, size_bytes=size,
                     width=width, height=height)


def _thumbnail(item: MediaItem) -> QIcon:
    if not item.is_url and item.kind is not MediaKind.VIDEO:
        image = load_image(item.source, THUMB * 2)
        if image is not None:
            return QIcon(QPixmap.fromImage(image))
    return icons.icon("link" if item.is_url else ("play" if item.kind is MediaKind.VIDEO else "image"))


def start_folder(settings: QSettings | None) -> str:
    """Where "Add file…" opens: the folder files were last added from, else Pictures, else home."""
    last = settings.value(FOLDER_KEY, "") if settings is not None else ""
    if isinstance(last, str) and last and Path(last).is_dir():
        return last
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    if pictures and Path(pictures).is_dir():
        return pictures
    return str(Path.home())


class MediaStrip(QWidget):
    changed = Signal()

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings  # remembers the last folder files came from
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 16, THUMB + 26))
        self.list.setMovement(QListView.Movement.Snap)
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setFixedHeight(THUMB + 30)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.model().rowsMoved.connect(lambda *_a: self.changed.emit())
        self.list.itemSelectionChanged.connect(self._sync_buttons)
        self.add_file = button("Add file…", "image")
        self.add_url = button("Add URL…", "link")
        self.alt = button("Alt text…", "edit")
        self.left = button("", "chevron-left")
        self.left.setToolTip("Move earlier")
        self.right = button("", "chevron-right")
        self.right.setToolTip("Move later")
        self.remove = button("", "trash", danger=True)
        self.remove.setToolTip("Remove the attachment")
        adding, arranging = QWidget(), QWidget()
        for group, members in ((adding, (self.add_file, self.add_url)),
                               (arranging, (self.alt, self.left, self.right, self.remove))):
            group_row = QHBoxLayout(group)
            group_row.setContentsMargins(0, 0, 0, 0)
            group_row.setSpacing(6)
            for b in members:
                group_row.addWidget(b)
        row = FlowLayout(spacing=(6, 6), last_on_the_right=True)  # a narrow editor puts the second group below
        row.addWidget(adding)
        row.addWidget(arranging)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.add_file.clicked.connect(self._pick_files)
        self.add_url.clicked.connect(self._ask_url)
        self.alt.clicked.connect(self._ask_alt)
        self.left.clicked.connect(lambda: self.move_selected(-1))
        self.right.clicked.connect(lambda: self.move_selected(1))
        self.remove.clicked.connect(self._remove)
        self._sync_buttons()
        self._update_empty()

    # -- model --------------------------------------------------------------------------------
    def items(self) -> tuple[MediaItem, ...]:
        return tuple(self.list.item(i).data(ROLE) for i in range(self.list.count()))

    def set_items(self, media: tuple[MediaItem, ...]) -> None:
        self.list.clear()
        for m in media:
            self._append(m)
        self.changed.emit()

    def add(self, source: str, alt_text: str = "") -> None:
        self._append(media_from_source(source, alt_text))
        self.changed.emit()

    def _append(self, m: MediaItem) -> None:
        name = m.source.rstrip("/").rsplit("/", 1)[-1] or m.source
        item = QListWidgetItem(_thumbnail(m), name[:14] + ("…" if len(name) > 14 else ""))
        item.setData(ROLE, m)
        item.setToolTip(f"{m.source}\nAlt text: {m.alt_text or '(none: add a description for screen readers)'}")
        self.list.addItem(item)
        self._update_empty()

    def set_alt_text(self, row: int, text: str) -> None:
        item = self.list.item(row)
        m: MediaItem = item.data(ROLE)
        from dataclasses import replace

        updated = replace(m, alt_text=text)
        item.setData(ROLE, updated)
        item.setToolTip(f"{updated.source}\nAlt text: {text or '(none)'}")
        self.changed.emit()

    def move_selected(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)
        self.changed.emit()

    # -- dialogs ------------------------------------------------------------------------------
    def _pick_files(self) -> None:
        dialog = QFileDialog(self, "Add images or videos")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter("Images and videos (*.jpg *.jpeg *.png *.gif *.webp *.mp4 *.mov)")
        dialog.setDirectory(start_folder(self.settings))  # never the folder Outpost happened to start in
        dialog.filesSelected.connect(self._add_files)
        dialog.open()

    def _add_files(self, files: list[str]) -> None:
        for f in files:
            self.add(f)
        if files and self.settings is not None:
            self.settings.setValue(FOLDER_KEY, str(Path(files[0]).parent))

    def _ask_url(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Add media from a URL")
        dialog.setLabelText("Public https:// address of the image or video:")
        dialog.textValueSelected.connect(lambda url: self.add(url.strip()) if url.strip() else None)
        dialog.open()

    def _ask_alt(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        m: MediaItem = self.list.item(row).data(ROLE)
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Alt text")
        dialog.setLabelText("Describe the image for people who cannot see it:")
        dialog.setTextValue(m.alt_text)
        dialog.textValueSelected.connect(lambda text: self.set_alt_text(row, text))
        dialog.open()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self._update_empty()
            self.changed.emit()

    def _sync_buttons(self) -> None:
        has = self.list.currentRow() >= 0 and bool(self.list.selectedItems())
        for b in (self.alt, self.left, self.right, self.remove):
            b.setEnabled(has)

    def _update_empty(self) -> None:
        self.list.setVisible(self.list.count() > 0)
