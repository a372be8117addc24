"""Colours and the application style sheet, derived from the OS palette (light or dark)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
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


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 = none, 21 = black on white)."""

    def luminance(c: QColor) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


READABLE = 4.5  # WCAG AA for normal text


def readable_on(color: QColor, background: QColor, minimum: float = READABLE) -> QColor:
    """`color`, moved towards white (on dark) or black (on light) until it reads on `background`."""
    if contrast(color, background) >= minimum:
        return color
    target = QColor("#ffffff") if background.lightness() < 128 else QColor("#000000")
    for step in range(1, 21):
        moved = mix(color, target, step / 20)
        if contrast(moved, background) >= minimum:
            return moved
    return target


def accent(palette: QPalette | None = None) -> QColor:
    """The highlight colour as text and marks ("+2 more", today): readable on the calendar's base.

    Dark system themes often give a dark blue highlight that disappears on dark grey.
    """
    pal = palette or QGuiApplication.palette()
    return readable_on(pal.color(QPalette.ColorRole.Highlight), pal.color(QPalette.ColorRole.Base), 3.0)


def link_color(palette: QPalette | None = None) -> QColor:
    """Links and link-like buttons: the palette's Link colour, readable on the window and the base."""
    pal = palette or QGuiApplication.palette()
    background = pal.color(QPalette.ColorRole.Window)
    base = pal.color(QPalette.ColorRole.Base)
    worst = background if contrast(pal.color(QPalette.ColorRole.Link), background) < contrast(
        pal.color(QPalette.ColorRole.Link), base) else base
    return readable_on(pal.color(QPalette.ColorRole.Link), worst)


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
        "link": link_color(palette).name(),
        "accent_text": palette.color(QPalette.ColorRole.HighlightedText).name(),
        "accent_soft": mix(base, hi, 0.18).name(),
        "danger": readable_on(QColor("#d64545"), window).name(),
        "warn": readable_on(QColor("#b86a0c"), window).name(),
        "danger_soft": mix(base, QColor("#d64545"), 0.14).name(),
        "warn_soft": mix(base, QColor("#d9801a"), 0.16).name(),
        "ok_soft": mix(base, QColor("#2e9d5b"), 0.14).name(),
    }
    values["icons"] = (STYLES_DIR.parent / "icons").as_posix()
    template = (STYLES_DIR / "outpost.qss").read_text(encoding="utf-8")
    for key, value in values.items():
        template = template.replace("@" + key + "@", value)
    return template


THEMES: dict[str, str] = {"system": "Same as the system", "light": "Light", "dark": "Dark"}
_choice = "system"
_applying = False


def dark_palette() -> QPalette:
    """Outpost's dark palette: the Dark theme, and previews or screenshots where the OS gives none."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1f2125", QPalette.ColorRole.Base: "#17181b",
        QPalette.ColorRole.AlternateBase: "#22252a", QPalette.ColorRole.Text: "#e6e8eb",
        QPalette.ColorRole.WindowText: "#e6e8eb", QPalette.ColorRole.Button: "#2a2d33",
        QPalette.ColorRole.ButtonText: "#e6e8eb", QPalette.ColorRole.Highlight: "#4c8df6",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.PlaceholderText: "#8a8f98",
        QPalette.ColorRole.ToolTipBase: "#2a2d33", QPalette.ColorRole.ToolTipText: "#e6e8eb",
        QPalette.ColorRole.Link: "#6fa8ff", QPalette.ColorRole.LinkVisited: "#b89cff",
        QPalette.ColorRole.Light: "#3a3d44", QPalette.ColorRole.Midlight: "#30333a",
        QPalette.ColorRole.Mid: "#26292e", QPalette.ColorRole.Dark: "#121316", QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.BrightText: "#ffffff",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7078"))
    return pal


def light_palette() -> QPalette:
    """Outpost's light palette, whatever the system uses."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#f3f4f6", QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f7f9", QPalette.ColorRole.Text: "#1d1f23",
        QPalette.ColorRole.WindowText: "#1d1f23", QPalette.ColorRole.Button: "#f6f7f9",
        QPalette.ColorRole.ButtonText: "#1d1f23", QPalette.ColorRole.Highlight: "#2f6fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.PlaceholderText: "#80858e",
        QPalette.ColorRole.ToolTipBase: "#ffffff", QPalette.ColorRole.ToolTipText: "#1d1f23",
        QPalette.ColorRole.Link: "#1f5fc4", QPalette.ColorRole.LinkVisited: "#6a3fb5",
        QPalette.ColorRole.Light: "#ffffff", QPalette.ColorRole.Midlight: "#e9eaed",
        QPalette.ColorRole.Mid: "#c9ccd2", QPalette.ColorRole.Dark: "#a0a4ab", QPalette.ColorRole.Shadow: "#5a5d63",
        QPalette.ColorRole.BrightText: "#ffffff",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9a9ea6"))
    return pal


def with_readable_links(palette: QPalette) -> QPalette:
    """`palette` with Link and LinkVisited readable on its window and base (Qt's default is #0000ff,
    dark blue on a dark theme)."""
    pal = QPalette(palette)
    for role in (QPalette.ColorRole.Link, QPalette.ColorRole.LinkVisited):
        color = pal.color(role)
        for background in (pal.color(QPalette.ColorRole.Window), pal.color(QPalette.ColorRole.Base)):
            color = readable_on(color, background)
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            pal.setColor(group, role, color)
    return pal


def current_choice() -> str:
    return _choice


def apply(app: QApplication, choice: str | None = None) -> None:
    """(Re)apply the palette and style sheet: `choice` is "system", "light" or "dark" (None: the
    last one). Safe to call live: every widget repaints in the new colours."""
    global _choice, _applying
    if choice is not None:
        _choice = choice if choice in THEMES else "system"
    if _applying:  # setColorScheme below can call back through colorSchemeChanged
        return
    _applying = True
    try:
        scheme = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(_choice)
        hints = app.styleHints()
        if scheme is None:
            hints.unsetColorScheme()
            app.setPalette(QPalette())  # back to the system's own palette
            palette = app.palette()
        else:
            hints.setColorScheme(scheme)  # title bars and native dialogs follow where the OS allows
            palette = dark_palette() if _choice == "dark" else light_palette()
        palette = with_readable_links(palette)
        app.setPalette(palette)
        app.setStyleSheet(style_sheet(palette))
    finally:
        _applying = False
