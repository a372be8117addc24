"""Attachments: files or URLs as thumbnails, reordered by dragging or buttons, each with alt text."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap
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
from app.ui import icons
from app.ui.widgets import button

THUMB = 72
ROLE = Qt.ItemDataRole.UserRole


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
            reader = QImageReader(str(path))
            dims = reader.size()
            if dims.isValid():
                width, height = dims.width(), dims.height()
    return MediaItem(source=source, kind=kind, alt_text=alt_text, mime_type=mime, size_bytes=size,
                     width=width, height=height)


def _thumbnail(item: MediaItem) -> QIcon:
    if not item.is_url and item.kind is not MediaKind.VIDEO:
        reader = QImageReader(item.source)
        reader.setAutoTransform(True)
        dims = reader.size()
        if dims.isValid():
            reader.setScaledSize(dims.scaled(QSize(THUMB * 2, THUMB * 2), Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if not image.isNull():
            return QIcon(QPixmap.fromImage(image))
    return icons.icon("link" if item.is_url else ("play" if item.kind is MediaKind.VIDEO else "image"))


class MediaStrip(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        row = QHBoxLayout()
        row.setSpacing(6)
        for b in (self.add_file, self.add_url):
            row.addWidget(b)
        row.addStretch(1)
        for b in (self.alt, self.left, self.right, self.remove):
            row.addWidget(b)
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
        dialog.filesSelected.connect(self._add_files)
        dialog.open()

    def _add_files(self, files: list[str]) -> None:
        for f in files:
            self.add(f)

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
