"""Settings: Ctrl+, opens it; each page stores its values where Outpost reads them; a refused value
writes nothing; Launch at login shows its state off as well as on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.core.models import Platform, PostStatus
from app.core.timeutil import utcnow
from app.engine.preferences import Preferences
from app.engine.runtime import Runtime
from app.store.paths import backup_dir
from app.ui import theme
from app.ui.menus import _menu, menus_of
from app.ui.settings_pages import DataPage, GeneralPage, PublishingPage
from tests.ui.conftest import make_post


@pytest.fixture(autouse=True)
def _system_theme_after(qapp: QApplication) -> Iterator[None]:
    yield
    theme.apply(qapp, "system")


def _open(window):  # type: ignore[no-untyped-def]
    dialog = menus_of(window).open_settings()
    assert dialog is not None
    return dialog


def test_ctrl_comma_opens_settings_and_it_has_a_page_per_concern(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "settings" in menus_of(window).dialogs)
    dialog = menus_of(window).dialogs["settings"]
    assert dialog.isVisible()
    assert [p.title for p in dialog.pages] == ["General", "Appearance", "Publishing", "Data and backups"]
    assert menus_of(window).settings_action.menuRole() is QAction.MenuRole.PreferencesRole
    dialog.reject()


def test_publishing_preferences_reach_the_store_and_the_running_publisher(window, runtime: Runtime,
                                                                         data_dir: Path) -> None:
    bluesky = runtime.planner.add_account(Platform.BLUESKY, "alice.test", display_name="Alice")
    dialog = _open(window)
    page = dialog.page(PublishingPage)
    page.catchup.setValue(6)
    page.also_successes.setChecked(True)
    page.language.setEditText("pt-br")
    for i in range(page.accounts.count()):
        item = page.accounts.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) == bluesky.id
                           else Qt.CheckState.Unchecked)
    assert dialog.save()
    assert runtime.publisher.settings.catchup_window == timedelta(hours=6)
    prefs = Preferences(runtime.db).load()
    assert (prefs.catchup_window_hours, prefs.post_language, prefs.default_account_ids, prefs.notify_successes) == (
        6.0, "pt-BR", [bluesky.id], True)
    assert runtime.planner.default_account_id() == bluesky.id  # the editor pre-selects it
    # A second process on the same folder (`outpost run` after a restart) starts with the same window.
    other = Runtime.open(data_dir, exclusive=False)
    try:
        assert other.publisher.settings.catchup_window == timedelta(hours=6)
        assert other.post_language() == "pt-BR"  # what the Bluesky adapter sends as `langs`
    finally:
        other.close()


def test_a_bad_language_tag_is_refused_with_its_reason_and_nothing_is_saved(window, runtime: Runtime) -> None:
    dialog = _open(window)
    dialog.page(GeneralPage).close_to_tray.setChecked(False)
    page = dialog.page(PublishingPage)
    page.catchup.setValue(3)
    page.language.setEditText("not a language!")
    assert not dialog.save()
    assert dialog.isVisible() and dialog.stack.currentWidget() is page
    assert "not a language tag" in dialog.problem.text() and "pt-BR" in dialog.problem.text()
    assert Preferences(runtime.db).load().catchup_window_hours == 24.0
    assert window.settings.value("close_to_tray", True) in (True, "true")
    dialog.reject()


def test_an_unknown_time_zone_is_refused_and_a_known_one_is_kept_for_the_next_start(window) -> None:
    dialog = _open(window)
    page = dialog.page(GeneralPage)
    page.zone.setEditText("Mars/Olympus")
    assert not dialog.save()
    assert "not a time zone" in dialog.problem.text()
    page.zone.setEditText("America/New York")
    assert dialog.save()
    assert window.settings.value("timezone") == "America/New_York"
    assert "next start" in window.toast.label.text()


def test_launch_at_login_writes_and_removes_the_login_item(window, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = tmp_path / "config" / "autostart" / "outpost.desktop"
    dialog = _open(window)
    dialog.page(GeneralPage).launch_at_login.setChecked(True)
    assert dialog.save()
    assert "--background" in entry.read_text(encoding="utf-8")
    dialog = _open(window)
    assert dialog.page(GeneralPage).launch_at_login.isChecked()
    dialog.page(GeneralPage).launch_at_login.setChecked(False)
    assert dialog.save()
    assert not entry.exists()


def test_closing_the_window_quits_when_close_to_tray_is_off(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.tray = QSystemTrayIcon(window)
    window.tray.show()
    dialog = _open(window)
    dialog.page(GeneralPage).close_to_tray.setChecked(False)
    assert dialog.save()
    with qtbot.waitSignal(window.quitRequested, timeout=2000):
        window.close()


def test_back_up_now_adds_a_verified_copy_to_the_list(window, data_dir: Path) -> None:
    dialog = _open(window)
    page = dialog.page(DataPage)
    opened: list[Path] = []
    dialog.context.open_folder = opened.append
    page.open_folder.click()
    assert opened == [data_dir]
    before = len(list(backup_dir(data_dir).glob("outpost-manual-*.sqlite3"))) if backup_dir(data_dir).exists() else 0
    page.back_up.click()
    copies = list(backup_dir(data_dir).glob("outpost-manual-*.sqlite3"))
    assert len(copies) == before + 1
    assert "manual" in page.list.item(0).text() and copies[0].name in page.status.text()
    dialog.reject()


def test_a_published_post_is_told_only_when_asked_for(qloop, window, runtime: Runtime, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QSystemTrayIcon

    told: list[str] = []
    window.toast.show_message = lambda text, **_kw: told.append(text)  # type: ignore[method-assign]

    async def publish(text: str) -> None:
        post_id = make_post(runtime, utcnow() + timedelta(seconds=1), text)
        deadline = asyncio.get_running_loop().time() + 10
        while runtime.planner.post(post_id).status is not PostStatus.PUBLISHED:
            assert asyncio.get_running_loop().time() < deadline, "not published"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the window's reload after the change

    async def scenario() -> None:
        await runtime.start()
        window.reload()
        await publish("Failures only: nobody is told about this one")
        assert not [t for t in told if t.startswith("Published")]
        dialog = _open(window)
        dialog.page(PublishingPage).also_successes.setChecked(True)
        assert dialog.save()
        told.clear()
        await publish("Our spring sale starts today")
        await runtime.stop()

    assert window.tray is None or not isinstance(window.tray, QSystemTrayIcon)
    qloop.run_until_complete(scenario())
    published = [t for t in told if t.startswith("Published")]
    assert published == ["Published on Sandbox: Our spring sale starts today"]


def test_launch_at_login_shows_an_empty_box_when_off(window, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    file_menu = _menu(window, "&File")
    assert file_menu is not None
    file_menu.popup(window.mapToGlobal(QPoint(0, 0)))
    QTest.qWait(50)
    action = window.autostart_action
    assert not action.isChecked()
    rect = file_menu.actionGeometry(action)
    image = file_menu.grab().toImage()
    background = image.pixelColor(rect.right() - 4, rect.center().y())
    # The indicator sits in the first 30 px of the row: something other than the row's background is drawn.
    drawn = {image.pixelColor(x, rect.center().y()).rgb() for x in range(rect.left() + 2, rect.left() + 30)}
    file_menu.hide()
    assert drawn - {background.rgb()}, "no box is drawn for an unchecked Launch at login"
    assert QColor(background).isValid()


def test_the_success_check_sends_no_sql_while_nothing_changes(window, runtime: Runtime) -> None:
    window.healthChanged.emit()  # the first look
    before = runtime.db.statements
    for _ in range(3):
        window.healthChanged.emit()  # the window's 30-second tick
    assert runtime.db.statements == before


def test_settings_fits_a_small_screen(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QRect

    screen = window.screen()
    monkeypatch.setattr(type(screen), "availableGeometry", lambda _self: QRect(0, 0, 960, 510))  # 1920x1080 at 200 %
    dialog = _open(window)
    assert dialog.width() <= 960 and dialog.height() <= 510
    dialog.reject()


def test_clicking_the_zone_in_the_header_opens_settings_where_the_zone_is_set(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseClick(window.header.zone, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "settings" in menus_of(window).dialogs)
    dialog = menus_of(window).dialogs["settings"]
    assert dialog.stack.currentWidget() is dialog.page(GeneralPage)
    assert "Settings" in window.header.zone.toolTip()
    dialog.reject()


def test_every_default_account_chosen_in_settings_is_ticked_in_a_new_post(window, runtime: Runtime) -> None:
    second = runtime.planner.add_account(Platform.SANDBOX, "second", display_name="Second")
    third = runtime.planner.add_account(Platform.SANDBOX, "third", display_name="Third")
    prefs = Preferences(runtime.db)
    chosen = prefs.load()
    chosen.default_account_ids = [second.id, third.id]
    prefs.save(chosen)
    editor = window.open_editor()
    ticked = {account_id for account_id, b in editor.account_buttons.items() if b.isChecked()}
    assert ticked == {second.id, third.id}
    editor.close()
