"""The icon set: SVGs in resources/icons, tinted to the palette and rendered crisp at any DPI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.core.models import Platform
from app.ui import theme

ICONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"


@lru_cache(maxsize=256)
def _svg_source(name: str) -> str:
    return (ICONS_DIR / f"{name}.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _renderer(name: str, color: str) -> QSvgRenderer:
    data = _svg_source(name).replace("currentColor", color)
    return QSvgRenderer(QByteArray(data.encode("utf-8")))


class _TintedSvgEngine(QIconEngine):
    """Renders the SVG at the exact device size asked for, so icons stay sharp on high-DPI."""

    def __init__(self, name: str, color: QColor | None) -> None:
        super().__init__()
        self._name = name
        self._color = color

    def _tint(self, mode: QIcon.Mode) -> str:
        pal = QGuiApplication.palette()
        if mode is QIcon.Mode.Disabled:
            return theme.muted_text(pal).name()
        if mode is QIcon.Mode.Selected:
            return pal.color(QPalette.ColorRole.HighlightedText).name()
        return (self._color or pal.color(QPalette.ColorRole.Text)).name()

    def paint(self, painter: QPainter, rect, mode: QIcon.Mode, state: QIcon.State) -> None:  # type: ignore[no-untyped-def]
        _renderer(self._name, self._tint(mode)).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pm = QPixmap(size * scale)
        pm.setDevicePixelRatio(scale)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _renderer(self._name, self._tint(mode)).render(painter, QRectF(0, 0, size.width(), size.height()))
        painter.end()
        return pm

    def clone(self) -> QIconEngine:
        return _TintedSvgEngine(self._name, self._color)


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """A UI icon by file name (without .svg), tinted with the palette's text colour unless `color`."""
    return QIcon(_TintedSvgEngine(name, QColor(color) if isinstance(color, str) else color))


def platform_icon(platform: Platform, color: QColor | str | None = None) -> QIcon:
    tint = color if color is not None else platform_tint(platform)
    return icon(f"platforms/{platform.value}", tint)


def platform_tint(platform: Platform) -> QColor:
    """The platform's brand colour, lightened for dark backgrounds where it would vanish."""
    c = QColor(theme.PLATFORM_COLORS[platform])
    if theme.is_dark() and c.lightness() < 90:
        return QGuiApplication.palette().color(QPalette.ColorRole.Text)
    return c


def paint_platform(painter: QPainter, platform: Platform, rect: QRectF, color: QColor | None = None) -> None:
    """Draw a platform glyph (painted calendar chips): rendered once per size, then blitted."""
    tint = (color or platform_tint(platform)).name()
    ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    pm = _glyph(platform, round(rect.width()), ratio, tint)
    painter.drawPixmap(rect.topLeft(), pm)


@lru_cache(maxsize=256)
def _glyph(platform: Platform, size: int, ratio: float, tint: str) -> QPixmap:
    pm = QPixmap(round(size * ratio), round(size * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    _renderer(f"platforms/{platform.value}", tint).render(p, QRectF(0, 0, size, size))
    p.end()
    return pm


def app_icon() -> QIcon:
    pm = QIcon(str(ICONS_DIR / "logo.svg"))
    return pm


def tray_icon() -> QIcon:
    out = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        out.addPixmap(_logo_pixmap(size))
    return out


def _logo_pixmap(size: int) -> QPixmap:
    renderer = QSvgRenderer(str(ICONS_DIR / "logo.svg"))
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p, QRectF(0, 0, size, size))
    p.end()
    return pm
