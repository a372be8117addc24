"""The Settings window's pages: one concern each, on a small base with load / check / save.

A page reads its values in `load`, says what is wrong in `check` (None when nothing), and writes
in `save` only after every page passed its check, so a refused value changes nothing anywhere.
Publishing preferences live in the database (app.engine.preferences); window preferences in
window.ini (app.ui.settings).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QSettings, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.core.timeutil import local_zone_name
from app.engine import preferences
from app.engine.preferences import PublishingPreferences
from app.store.paths import backup_dir
from app.store.views import AccountView
from app.ui import icons, theme
from app.ui.settings import flag
from app.ui.widgets import button, muted, section

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

# Languages offered by name; any other BCP-47 tag can be typed.
COMMON_LANGUAGES = ("en", "en-GB", "de", "fr", "es", "it", "pt", "pt-BR", "nl", "sv", "da", "nb", "fi", "pl", "cs",
                    "tr", "el", "ru", "uk", "ar", "he", "hi", "ja", "ko", "zh-Hans", "zh-Hant")


def account_label(account: AccountView) -> str:
    """"Alice · Bluesky"; just "Sandbox" when the name is the platform's own."""
    name = account.display_name or account.handle
    return name if name == account.platform.label else f"{name} · {account.platform.label}"


def open_in_file_manager(path: Path) -> object:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


@dataclass
class SettingsContext:
    """What the pages read and write: the running data folder and the window's preferences."""

    runtime: Runtime
    window_settings: QSettings
    app: QApplication
    open_folder: Callable[[Path], object] = open_in_file_manager  # tests put a stand-in here
    prefs: PublishingPreferences = field(default_factory=PublishingPreferences)

    @property
    def data_dir(self) -> Path:
        return self.runtime.data_dir


class SettingsPage(QWidget):
    """One page of Settings (the model is Picard's OptionsPage)."""

    title = ""
    icon_name = ""

    def __init__(self, context: SettingsContext) -> None:
        super().__init__()
        self.context = context
        self.page_layout = QVBoxLayout(self)
        self.page_layout.setContentsMargins(4, 0, 4, 0)
        self.page_layout.setSpacing(8)

    def load(self) -> None:
        """Show the stored values."""

    def check(self) -> str | None:
        """What is wrong with the values shown, in one line, or None."""
        return None

    def save(self) -> None:
        """Store the values shown (called only when every page passed `check`). May raise OutpostError."""

    def cancel(self) -> None:
        """Undo what the page applied live (the theme), when Settings is closed without saving."""

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        self.page_layout.addLayout(form)
        return form


class GeneralPage(SettingsPage):
    title = "General"
    icon_name = "settings"

    def __init__(self, context: SettingsContext) -> None:
        super().__init__(context)
        self.page_layout.addWidget(section("Time"))
        form = self._form()
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zone.addItem(f"This computer's zone ({local_zone_name()})", "")
        for name in sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc/")):
            self.zone.addItem(name.replace("_", " "), name)
        self.zone.addItem("UTC", "UTC")
        completer = QCompleter(self.zone.model(), self.zone)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.zone.setCompleter(completer)
        form.addRow("Default time zone", self.zone)
        form.addRow("", muted("New posts are planned in this zone. Outpost uses it from its next start."))
        self.page_layout.addSpacing(6)
        self.page_layout.addWidget(section("Starting and closing"))
        self.launch_at_login = QCheckBox("Start Outpost when I log in (in the tray, without the window)")
        self.close_to_tray = QCheckBox("Closing the window keeps Outpost publishing in the tray")
        self.page_layout.addWidget(self.launch_at_login)
        self.page_layout.addWidget(self.close_to_tray)
        self.page_layout.addWidget(muted("When it is off, closing the window quits Outpost, and scheduled posts "
                                         "wait until you open it again."))
        self.page_layout.addStretch(1)

    def load(self) -> None:
        stored = str(self.context.window_settings.value("timezone", "") or "")
        index = self.zone.findData(stored)
        self.zone.setCurrentIndex(max(0, index))
        if index < 0 and stored:
            self.zone.setEditText(stored)
        from app.ui import autostart

        try:
            self._autostart_was = autostart.is_enabled()
        except OSError:
            self._autostart_was = False
        self.launch_at_login.setChecked(self._autostart_was)
        self.close_to_tray.setChecked(flag(self.context.window_settings, "close_to_tray", True))

    def zone_name(self) -> str:
        """The chosen zone's IANA name; "" for this computer's zone."""
        text = self.zone.currentText().strip()
        index = self.zone.findText(text, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            return str(self.zone.itemData(index) or "")
        return text.replace(" ", "_")

    def check(self) -> str | None:
        name = self.zone_name()
        if name and name != "UTC":
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                return f"{self.zone.currentText()!r} is not a time zone; pick one from the list, like Europe/Berlin."
        return None

    def save(self) -> None:
        settings = self.context.window_settings
        settings.setValue("timezone", self.zone_name())
        settings.setValue("close_to_tray", self.close_to_tray.isChecked())
        on = self.launch_at_login.isChecked()
        if on != self._autostart_was:
            from app.ui import autostart

            try:
                autostart.set_enabled(on, data_dir=self.context.data_dir)
            except OSError as exc:
                raise OutpostError(f"Could not change the login item: {exc.strerror or exc}.") from exc
            self._autostart_was = on


class AppearancePage(SettingsPage):
    title = "Appearance"
    icon_name = "calendar-month"

    def __init__(self, context: SettingsContext) -> None:
        super().__init__(context)
        self.page_layout.addWidget(section("Theme"))
        self.choices = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key, label in theme.THEMES.items():
            radio = QRadioButton(label)
            self.buttons[key] = radio
            self.choices.addButton(radio)
            self.page_layout.addWidget(radio)
            radio.toggled.connect(lambda on, k=key: self._preview(k) if on else None)
        self.page_layout.addWidget(muted("The window changes as soon as you choose."))
        self.page_layout.addStretch(1)
        self._loaded = "system"

    def load(self) -> None:
        self._loaded = str(self.context.window_settings.value("theme", "system") or "system")
        button_for = self.buttons.get(self._loaded, self.buttons["system"])
        button_for.blockSignals(True)
        button_for.setChecked(True)
        button_for.blockSignals(False)

    def chosen(self) -> str:
        return next((k for k, b in self.buttons.items() if b.isChecked()), "system")

    def _preview(self, key: str) -> None:
        theme.apply(self.context.app, key)

    def save(self) -> None:
        self.context.window_settings.setValue("theme", self.chosen())
        self._loaded = self.chosen()

    def cancel(self) -> None:
        if theme.current_choice() != self._loaded:
            theme.apply(self.context.app, self._loaded)


class PublishingPage(SettingsPage):
    title = "Publishing"
    icon_name = "send"

    def __init__(self, context: SettingsContext) -> None:
        super().__init__(context)
        self.page_layout.addWidget(section("When Outpost was not running"))
        form = self._form()
        self.catchup = QDoubleSpinBox()
        self.catchup.setRange(0, preferences.CATCHUP_MAX_HOURS)
        self.catchup.setDecimals(1)
        self.catchup.setSingleStep(1)
        self.catchup.setSuffix(" hours")
        form.addRow("Catch-up window", self.catchup)
        form.addRow("", muted("A post that became due while Outpost was closed still goes out if it is at most "
                              "this late; an older one waits for you under Needs attention. 0: never late."))
        self.page_layout.addWidget(section("Notifications"))
        self.failures_only = QRadioButton("Only when something needs me (failures, missed posts, reconnects)")
        self.also_successes = QRadioButton("Also when a post is published")
        group = QButtonGroup(self)
        for radio in (self.failures_only, self.also_successes):
            group.addButton(radio)
            self.page_layout.addWidget(radio)
        self.page_layout.addWidget(section("New posts"))
        form = self._form()
        self.accounts = QListWidget()
        self.accounts.setMaximumHeight(120)
        form.addRow("Default accounts", self.accounts)
        self.language = QComboBox()
        self.language.setEditable(True)
        self.language.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        system = QLocale.system().bcp47Name().replace("-POSIX", "") or "en"  # the C locale says en-POSIX
        self.language.addItem(f"Your system's language ({system})", "")
        for tag in COMMON_LANGUAGES:
            name = QLocale(tag.replace("-", "_")).nativeLanguageName() or tag
            self.language.addItem(f"{tag} · {name}", tag)
        form.addRow("Language of posts", self.language)
        form.addRow("", muted("Sent to Bluesky with each post so feeds can filter by language. Type a tag "
                              "that is not listed (like es-419), or up to three: en, ja."))
        self.page_layout.addStretch(1)

    def load(self) -> None:
        prefs = preferences.Preferences(self.context.runtime.db).load()
        self.context.prefs = prefs
        self.catchup.setValue(prefs.catchup_window_hours)
        (self.also_successes if prefs.notify_successes else self.failures_only).setChecked(True)
        chosen = set(prefs.default_account_ids)
        if not chosen:
            default = self.context.runtime.planner.default_account_id()
            chosen = {default} if default is not None else set()
        self.accounts.clear()
        for account in self.context.runtime.planner.accounts():
            item = QListWidgetItem(icons.platform_icon(account.platform),
                                   account_label(account))
            item.setData(Qt.ItemDataRole.UserRole, account.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if account.id in chosen else Qt.CheckState.Unchecked)
            self.accounts.addItem(item)
        index = self.language.findData(prefs.post_language)
        self.language.setCurrentIndex(max(0, index))
        if index < 0 and prefs.post_language:
            self.language.setEditText(prefs.post_language)

    def language_tag(self) -> str:
        text = self.language.currentText().strip()
        index = self.language.findText(text, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            return str(self.language.itemData(index) or "")
        return text  # typed: checked as a whole, so "not a tag" is refused rather than cut to "not"

    def chosen_accounts(self) -> list[int]:
        out = []
        for i in range(self.accounts.count()):
            item = self.accounts.item(i)
            if item is not None and item.checkState() is Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def values(self) -> PublishingPreferences:
        return PublishingPreferences(self.catchup.value(), self.language_tag(), self.chosen_accounts(),
                                     self.also_successes.isChecked())

    def check(self) -> str | None:
        prefs = self.values()
        return preferences.check_catchup_hours(prefs.catchup_window_hours) or preferences.check_language(
            prefs.post_language)

    def save(self) -> None:
        prefs = self.values()
        preferences.save_and_apply(self.context.runtime, prefs)
        self.context.prefs = prefs


class DataPage(SettingsPage):
    title = "Data and backups"
    icon_name = "inbox"

    def __init__(self, context: SettingsContext) -> None:
        super().__init__(context)
        self.page_layout.addWidget(section("Data folder"))
        self.folder = QLabel(str(context.data_dir))
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder.setWordWrap(True)
        self.open_folder = button("Open folder", "external")
        self.open_folder.clicked.connect(lambda: context.open_folder(context.data_dir))
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.open_folder)
        self.page_layout.addLayout(row)
        self.page_layout.addWidget(muted("Posts, accounts and history live here; passwords and tokens stay in "
                                         "your system keyring. To use another folder, start Outpost with "
                                         "--data-dir FOLDER."))
        self.page_layout.addSpacing(6)
        self.page_layout.addWidget(section("Backups"))
        self.where = muted(f"Outpost copies the database to {backup_dir(context.data_dir)} once a day and keeps "
                           "the last week; copies made with Back up now stay until you delete them. To put one "
                           "back, quit Outpost and run: outpost restore-backup --latest")
        self.page_layout.addWidget(self.where)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.page_layout.addWidget(self.list, 1)
        self.back_up = button("Back up now", "copy")
        self.back_up.clicked.connect(self.back_up_now)
        self.open_backups = button("Open backups folder", "external", flat=True)
        self.open_backups.clicked.connect(self._open_backups)
        row = QHBoxLayout()
        row.addWidget(self.back_up)
        row.addWidget(self.open_backups)
        row.addStretch(1)
        self.page_layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.page_layout.addWidget(self.status)

    def load(self) -> None:
        self.list.clear()
        found = preferences.backups(self.context.data_dir)
        for backup in found:
            local = backup.taken.astimezone()
            self.list.addItem(f"{local:%a %d %b %Y, %H:%M}   {backup.kind}   {_size(backup.size)}")
        if not found:
            self.list.addItem("No backups yet: the first daily one is made when Outpost starts publishing.")

    def _open_backups(self) -> None:
        folder = backup_dir(self.context.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self.context.open_folder(folder)

    def back_up_now(self) -> None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            path = preferences.back_up_now(self.context.data_dir)
        except OutpostError as exc:
            self._say(str(exc), error=True)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.load()
        self._say(f"Backed up to {path.name}.")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} kB"


PAGES: tuple[type[SettingsPage], ...] = (GeneralPage, AppearancePage, PublishingPage, DataPage)
