"""Colours and the application style sheet, derived from the OS palette (light or dark)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.core.models import AccountStatus, Platform, PostStatus

STYLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "styles"

# One hue per status; each is mixed with the window colour for chip backgrounds.
_STATUS_HUES: dict[PostStatus, str] = {
    PostStatus.DRAFT: "#8a8f98",
    PostStatus.SCHEDULED: "#3b7ddd",
    PostStatus.PUBLISHING: "#7c5cd6",
    PostStatus.PUBLISHED: "#2e9d5b",
    PostStatus.PARTIAL: "#c98a14",
    PostStatus.FAILED: "#d64545",
    PostStatus.NEEDS_REVIEW: "#d9801a",
    PostStatus.MISSED: "#b5468f",
    PostStatus.CANCELLED: "#8a8f98",
}

STATUS_LABELS: dict[PostStatus, str] = {
    PostStatus.DRAFT: "Draft",
    PostStatus.SCHEDULED: "Scheduled",
    PostStatus.PUBLISHING: "Publishing",
    PostStatus.PUBLISHED: "Published",
    PostStatus.PARTIAL: "Partly published",
    PostStatus.FAILED: "Failed",
    PostStatus.NEEDS_REVIEW: "Needs review",
    PostStatus.MISSED: "Missed",
    PostStatus.CANCELLED: "Cancelled",
}

PLATFORM_COLORS: dict[Platform, str] = {
    Platform.SANDBOX: "#6b7280",
    Platform.THREADS: "#111111",
    Platform.BLUESKY: "#1185fe",
    Platform.MASTODON: "#6364ff",
    Platform.X: "#111111",
    Platform.LINKEDIN: "#0a66c2",
    Platform.FACEBOOK: "#1877f2",
    Platform.INSTAGRAM: "#d62976",
    Platform.PINTEREST: "#e60023",
    Platform.TIKTOK: "#111111",
    Platform.YOUTUBE: "#ff0033",
}

ACCOUNT_DOTS: dict[AccountStatus, str] = {
    AccountStatus.ACTIVE: "#2e9d5b",
    AccountStatus.NEEDS_RECONNECT: "#d9801a",
    AccountStatus.DISABLED: "#8a8f98",
}


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved towards `b` by `t` (0..1)."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True)
class ChipColors:
    background: QColor
    bar: QColor
    text: QColor
    border: QColor


def status_color(status: PostStatus) -> QColor:
    return QColor(_STATUS_HUES[status])


def chip_colors(status: PostStatus, palette: QPalette) -> ChipColors:
    key = (status, palette.color(QPalette.ColorRole.Base).rgb(), palette.color(QPalette.ColorRole.Text).rgb())
    cached = _CHIP_CACHE.get(key)
    if cached is None:
        cached = _CHIP_CACHE[key] = _chip_colors(status, palette)
    return cached


_CHIP_CACHE: dict[tuple[PostStatus, int, int], ChipColors] = {}


def _chip_colors(status: PostStatus, palette: QPalette) -> ChipColors:
    hue = status_color(status)
    base = palette.color(QPalette.ColorRole.Base)
    dark = is_dark(palette)
    background = mix(base, hue, 0.30 if dark else 0.14)
    text = palette.color(QPalette.ColorRole.Text)
    if status is PostStatus.CANCELLED:
        text = palette.color(QPalette.ColorRole.PlaceholderText)
    return ChipColors(background, hue, text, mix(base, hue, 0.45))


def status_color_refused() -> QColor:
    return QColor("#d64545")


def accent(palette: QPalette | None = None) -> QColor:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Highlight)


def grid_line(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.12)


def muted_text(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.55)


def weekend_fill(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Window), 0.55)


def style_sheet(palette: QPalette) -> str:
    """The app-wide style sheet with palette colours filled in."""
    base = palette.color(QPalette.ColorRole.Base)
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.Text)
    hi = palette.color(QPalette.ColorRole.Highlight)
    values = {
        "base": base.name(),
        "window": window.name(),
        "text": text.name(),
        "muted": muted_text(palette).name(),
        "line": grid_line(palette).name(),
        "sidebar": mix(window, text, 0.03).name(),
        "hover": mix(base, text, 0.07).name(),
        "pressed": mix(base, text, 0.13).name(),
        "accent": hi.name(),
        "accent_text": palette.color(QPalette.ColorRole.HighlightedText).name(),
        "accent_soft": mix(base, hi, 0.18).name(),
        "danger": "#d64545",
        "danger_soft": mix(base, QColor("#d64545"), 0.14).name(),
        "warn_soft": mix(base, QColor("#d9801a"), 0.16).name(),
        "ok_soft": mix(base, QColor("#2e9d5b"), 0.14).name(),
    }
    values["icons"] = (STYLES_DIR.parent / "icons").as_posix()
    template = (STYLES_DIR / "outpost.qss").read_text(encoding="utf-8")
    for key, value in values.items():
        template = template.replace("@" + key + "@", value)
    return template


def dark_palette() -> QPalette:
    """A dark palette for previews and screenshots where the OS gives none."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1f2125", QPalette.ColorRole.Base: "#17181b",
        QPalette.ColorRole.AlternateBase: "#22252a", QPalette.ColorRole.Text: "#e6e8eb",
        QPalette.ColorRole.WindowText: "#e6e8eb", QPalette.ColorRole.Button: "#2a2d33",
        QPalette.ColorRole.ButtonText: "#e6e8eb", QPalette.ColorRole.Highlight: "#4c8df6",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.PlaceholderText: "#8a8f98",
        QPalette.ColorRole.ToolTipBase: "#2a2d33", QPalette.ColorRole.ToolTipText: "#e6e8eb",
        QPalette.ColorRole.Link: "#6fa8ff",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    return pal


def apply(app: QApplication) -> None:
    """(Re)apply the style sheet for the current palette."""
    app.setStyleSheet(style_sheet(app.palette()))
