"""Dark mode: links readable on dark grey; the theme switch in Settings applies live and is kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.ui import theme
from app.ui.menus import menus_of
from app.ui.settings_pages import AppearancePage


@pytest.fixture(autouse=True)
def _system_theme_after(qapp: QApplication) -> Iterator[None]:
    yield
    theme.apply(qapp, "system")


def _system_dark_palette() -> QPalette:
    """A dark desktop theme as the tester had it: a dark blue highlight, Qt's default #0000ff links."""
    pal = QPalette()
    for role, color in {QPalette.ColorRole.Window: "#353535", QPalette.ColorRole.Base: "#2a2a2a",
                        QPalette.ColorRole.Text: "#eeeeee", QPalette.ColorRole.WindowText: "#eeeeee",
                        QPalette.ColorRole.Highlight: "#1c3f7a", QPalette.ColorRole.Link: "#0000ff",
                        QPalette.ColorRole.HighlightedText: "#ffffff"}.items():
        pal.setColor(role, QColor(color))
    return pal


def _flat_button_color(sheet: str) -> QColor:
    rule = next(line for line in sheet.splitlines() if line.startswith('QPushButton[flat="true"] {'))
    return QColor(rule.split("color:")[1].split(";")[0].strip())


def test_links_and_link_buttons_are_readable_on_a_dark_system_theme() -> None:
    pal = _system_dark_palette()
    window, base = pal.color(QPalette.ColorRole.Window), pal.color(QPalette.ColorRole.Base)
    # "Manage accounts…" and the other link-like buttons take their colour from the style sheet.
    assert theme.contrast(_flat_button_color(theme.style_sheet(pal)), window) >= 4.5
    # "+2 more" and today's marks are painted in the accent colour on the calendar's base.
    assert theme.contrast(theme.accent(pal), base) >= 3.0
    fixed = theme.with_readable_links(pal)
    for role in (QPalette.ColorRole.Link, QPalette.ColorRole.LinkVisited):
        assert theme.contrast(fixed.color(role), window) >= 4.5
        assert theme.contrast(fixed.color(role), base) >= 4.5


@pytest.mark.parametrize("palette", [theme.dark_palette(), _system_dark_palette(), theme.light_palette()])
def test_error_and_warning_labels_are_readable_in_every_theme(palette: QPalette) -> None:
    sheet = theme.style_sheet(palette)
    window = palette.color(QPalette.ColorRole.Window)
    for role in ("error", "warning"):
        rule = next(line for line in sheet.splitlines() if line.startswith(f'QLabel[role="{role}"]'))
        assert theme.contrast(QColor(rule.split("color:")[1].split(";")[0].strip()), window) >= 4.5, role


def test_a_light_theme_keeps_its_own_link_colour() -> None:
    pal = theme.light_palette()
    assert theme.with_readable_links(pal).color(QPalette.ColorRole.Link) == pal.color(QPalette.ColorRole.Link)


def test_choosing_dark_in_settings_repaints_the_open_window_and_cancel_puts_it_back(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert not theme.is_dark(window.palette())
    dialog = menus_of(window).open_settings()
    assert dialog is not None
    page = dialog.page(AppearancePage)
    page.buttons["dark"].click()
    assert theme.is_dark(window.palette()) and theme.is_dark(window.sidebar.palette())
    link = theme.link_color(window.palette())
    assert theme.contrast(link, window.palette().color(QPalette.ColorRole.Window)) >= 4.5
    dialog.reject()
    assert not theme.is_dark(window.palette())
    assert window.settings.value("theme", "system") == "system"


def test_a_saved_theme_is_kept_and_used_by_the_next_window(window, runtime, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = menus_of(window).open_settings()
    assert dialog is not None
    dialog.page(AppearancePage).buttons["dark"].click()
    assert dialog.save()
    assert window.settings.value("theme") == "dark"
    theme.apply(QApplication.instance(), "system")  # type: ignore[arg-type]  # as a fresh start does
    assert not theme.is_dark(window.palette())
    from app.ui.main_window import MainWindow

    second = MainWindow(runtime, tz_name="Europe/Berlin")
    qtbot.addWidget(second)
    assert theme.is_dark(second.palette())
    second.shutdown()
    second._really_quit = True
