"""Small tinted icons painted on chips and rows, rendered once per size and colour, then blitted
(rendering the SVG for each of a month's 200 chips would cost a frame)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

from app.ui import icons


def paint_glyph(painter: QPainter, name: str, rect: QRectF, color: QColor) -> None:
    device = painter.device()
    ratio = device.devicePixelRatioF() if device is not None else 1.0
    painter.drawPixmap(rect.topLeft(), _glyph(name, round(rect.width()), round(rect.height()), ratio,
                                              color.name(QColor.NameFormat.HexArgb)))


@lru_cache(maxsize=128)
def _glyph(name: str, width: int, height: int, ratio: float, tint: str) -> QPixmap:
    pm = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
    pm.fill(Qt.GlobalColor.transparent)
    pm.setDevicePixelRatio(ratio)
    painter = QPainter(pm)
    icons.icon(name, QColor(tint)).paint(painter, QRectF(0, 0, width, height).toRect())
    painter.end()
    return pm
