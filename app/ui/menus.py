"""The window's File › Export… and Settings…, the Help menu, and the preferences the window obeys
(theme, close-to-tray, success notifications). Installed by MainWindow with one call.

Dialogs are imported when first opened: this module is on the start-up path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMenu, QSystemTrayIcon, QWidget

from app.ui import icons, theme
from app.ui.settings import flag

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow
    from app.ui.settings_dialog import SettingsDialog


class WindowMenus(QObject):
    """The actions and dialogs this module adds to one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialogs: dict[str, QWidget] = {}  # open dialogs by name, kept alive and raised when asked again
        self._last_event: int | None = None
        self._notify_successes: bool | None = None
        self._last_counts: dict[object, int] | None = None
        self.export_action = _action(window, "Export posts…", ["Ctrl+E"], self.open_export)
        self.settings_action = _action(window, "Settings…", ["Ctrl+,"], self.open_settings, "settings",
                                       QKeySequence.StandardKey.Preferences)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)  # macOS: Outpost › Settings…
        self.guide_action = _action(window, "Outpost guide", ["F1"], self.open_guide, "",
                                    QKeySequence.StandardKey.HelpContents)
        self.log_action = _action(window, "Open log folder", [], self.open_log_folder)
        self.report_action = _action(window, "Report a problem…", [], self.open_report)
        self.about_action = _action(window, "About Outpost", [], self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        file_menu = _menu(window, "&File")
        if file_menu is not None:
            _insert_after(file_menu, window.import_action, self.export_action)
            _insert_after(file_menu, window.accounts_action, self.settings_action)
        help_menu = window.menuBar().addMenu("&Help")
        for action in (self.guide_action, None, self.log_action, self.report_action, None, self.about_action):
            if action is None:
                help_menu.addSeparator()
            else:
                help_menu.addAction(action)
        self.help_menu = help_menu
        window.installEventFilter(self)
        window.healthChanged.connect(self.tell_successes)
        self.zone_label = getattr(window.header, "zone", None)  # the zone in the header opens where it is set
        if isinstance(self.zone_label, QLabel):
            self.zone_label.installEventFilter(self)
            self.zone_label.setCursor(Qt.CursorShape.PointingHandCursor)
            self.zone_label.setToolTip("Times are shown in this time zone. Click to change the default in Settings.")

    # -- the window obeys the preferences ----------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        window = self.window
        if watched is self.zone_label and event.type() == QEvent.Type.MouseButtonRelease:
            dialog = self.open_settings()
            if dialog is not None:
                dialog.show_page("General")
            return True
        if (watched is window and event.type() == QEvent.Type.Close and not window._really_quit
                and window.tray is not None and not flag(window.settings, "close_to_tray", True)):
            # "Closing the window keeps Outpost publishing in the tray" is off: closing quits.
            window.settings.setValue("geometry", window.saveGeometry())
            event.ignore()
            window.request_quit()
            return True
        return False

    def tell_successes(self) -> None:
        """When the person asked for it, a notification for each post published since the last look."""
        window = self.window
        if window._runtime is None:
            return
        from app.engine import success_notices

        counts = getattr(window, "counts", None)
        if counts == self._last_counts and self._last_event is not None:
            return  # nothing was published since the last look: no query (an idle Outpost sends no SQL)
        self._last_counts = dict(counts) if isinstance(counts, dict) else None
        db = window.runtime.db
        if self._last_event is None:  # what happened before the window opened is not news
            self._last_event = success_notices.latest_event_id(db)
            return
        if self._notify_successes is None:
            from app.engine.preferences import Preferences

            self._notify_successes = Preferences(db).load().notify_successes
        if not self._notify_successes:
            self._last_event = success_notices.latest_event_id(db)
            return
        self._last_event, published = success_notices.published_since(db, self._last_event)
        from app.ui.calendar.timeline import first_words

        for post in published:
            where = f" on {post.platform.label}" if post.platform else ""
            message = first_words(post.text, 80) or f"Post #{post.post_id}"
            if window.tray is not None and window.tray.isVisible():
                window.tray.showMessage(f"Published{where}", message, QSystemTrayIcon.MessageIcon.Information, 5000)
            else:
                window.toast.show_message(f"Published{where}: {message}")

    # -- dialogs ---------------------------------------------------------------------------------
    def _ready(self) -> bool:
        if self.window._runtime is None:
            self.window.health.showMessage("Still opening your calendar… try again in a moment.", 4000)
            return False
        return True

    def _raise(self, name: str) -> bool:
        dialog = self.dialogs.get(name)
        if dialog is not None and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return True
        return False

    def _keep(self, name: str, dialog: QDialog) -> None:
        self.dialogs[name] = dialog
        dialog.finished.connect(lambda _r: self.dialogs.pop(name, None))
        fit_to_screen(dialog, dialog.sizeHint())
        dialog.open()  # never exec(): the loop keeps running

    def open_settings(self) -> SettingsDialog | None:
        if not self._ready() or self._raise("settings"):
            return None
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.window.runtime, self.window)
        zone_before = str(self.window.settings.value("timezone", "") or "")
        dialog.accepted.connect(lambda: self._settings_saved(zone_before))
        self._keep("settings", dialog)
        return dialog

    def _settings_saved(self, zone_before: str) -> None:
        self._notify_successes = None  # read again at the next look
        zone_now = str(self.window.settings.value("timezone", "") or "")
        if zone_now != zone_before:
            self.window.toast.show_message("Settings saved. The new time zone applies from Outpost's next start.")
        else:
            self.window.toast.show_message("Settings saved.")

    def open_export(self) -> QDialog | None:
        if not self._ready() or self._raise("export"):
            return None
        from app.ui.export_dialog import ExportDialog

        dialog = ExportDialog(self.window.runtime, self.window.tz_name, self.window)
        self._keep("export", dialog)
        return dialog

    def open_guide(self) -> QWidget:
        if self._raise("guide"):
            return self.dialogs["guide"]
        from app.ui.help import GuideWindow

        guide = GuideWindow(self.window)
        self.dialogs["guide"] = guide
        guide.finished.connect(lambda _r: self.dialogs.pop("guide", None))
        fit_to_screen(guide, guide.sizeHint())
        guide.show()  # beside the window, not in front of it: the guide is read while working
        return guide

    def open_log_folder(self) -> None:
        from app.ui.help import open_log_folder

        open_log_folder(self.window.data_dir)

    def open_report(self) -> QDialog | None:
        if not self._ready() or self._raise("report"):
            return None
        from app.ui.help import ReportProblemDialog

        settings = self.window.settings
        kept = {key: settings.value(key) for key in settings.allKeys() if key != "geometry"}
        dialog = ReportProblemDialog(self.window.runtime, kept, self.window)
        self._keep("report", dialog)
        return dialog

    def show_about(self) -> None:
        from app.ui.help import show_about

        show_about(self.window, self.window.data_dir)


def install_menus(window: MainWindow) -> WindowMenus:
    """Add Export…, Settings… and Help to `window`, and apply the saved theme."""
    choice = str(window.settings.value("theme", "system") or "system")
    app = QApplication.instance()
    if isinstance(app, QApplication) and choice != theme.current_choice():
        theme.apply(app, choice)
    menus = WindowMenus(window)
    setattr(window, "menus", menus)  # noqa: B010 - the window's class does not declare it
    return menus


def fit_to_screen(widget: QWidget, wanted: QSize) -> None:
    """Open at `wanted`, or smaller on a small screen (1366x768 at 125 %, 1920x1080 at 200 %)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        room = screen.availableGeometry().size()
        wanted = wanted.boundedTo(QSize(int(room.width() * 0.92), int(room.height() * 0.92)))
    widget.resize(wanted.expandedTo(widget.minimumSizeHint()))


def menus_of(window: QWidget) -> WindowMenus:
    menus = getattr(window, "menus", None)
    if not isinstance(menus, WindowMenus):
        raise LookupError("install_menus was not called on this window")
    return menus


def _action(window: QWidget, text: str, shortcuts: list[str], slot, icon_name: str = "",  # type: ignore[no-untyped-def]
            standard: QKeySequence.StandardKey | None = None) -> QAction:
    action = QAction(text, window)
    keys = [QKeySequence(s) for s in shortcuts]
    if standard is not None:
        keys += [k for k in QKeySequence.keyBindings(standard) if k not in keys and not k.isEmpty()]
    if keys:
        action.setShortcuts(keys)
    if icon_name:
        action.setIcon(icons.icon(icon_name))
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work with the menu bar hidden too
    return action


def _menu(window: MainWindow, title: str) -> QMenu | None:
    for action in window.menuBar().actions():
        if action.text() == title and action.menu() is not None:
            menu = action.menu()
            return menu if isinstance(menu, QMenu) else None
    return None


def _insert_after(menu: QMenu, anchor: QAction, action: QAction) -> None:
    """Put `action` right after `anchor` in `menu` (at the end when `anchor` is not there)."""
    actions = menu.actions()
    index = actions.index(anchor) + 1 if anchor in actions else len(actions)
    if index < len(actions):
        menu.insertAction(actions[index], action)
    else:
        menu.addAction(action)
