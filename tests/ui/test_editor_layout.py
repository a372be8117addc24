"""The editor shows what it holds: whole weekday names, typed times, the real pictures, whose counter is whose."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QStandardPaths, Qt, QTime
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from app.core.models import Platform
from app.core.recurrence import Recurrence, RepeatKind
from app.ui.calendar.timeline import local_wall
from app.ui.editor.dialog import PostEditor
from app.ui.settings import window_settings
from tests.ui.conftest import ZONE
from tests.ui.test_editor_unsaved import _editor


def _picture(path: Path, color: str, size: tuple[int, int] = (800, 500)) -> Path:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    assert image.save(str(path))
    return path


def _two_bluesky_accounts(runtime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    p = runtime.planner
    shop = p.add_account(Platform.BLUESKY, "clayandco.bsky.social", display_name="Clay & Co", timezone=ZONE).id
    notes = p.add_account(Platform.BLUESKY, "studio.bsky.social", display_name="Studio Notes", timezone=ZONE).id
    return shop, notes


def test_every_weekday_button_shows_its_whole_name(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    editor.resize(editor.minimumSize())
    editor.schedule.set_recurrence(Recurrence(RepeatKind.WEEKLY, (2,)))
    qtbot.waitUntil(lambda: editor.schedule.days_box.isVisible())
    for b in editor.schedule.weekdays:  # narrower than its size hint, a tool button elides "We" to "…"
        assert b.width() >= b.sizeHint().width(), b.text()
    assert [b.text() for b in editor.schedule.weekdays] == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    assert editor.schedule.weekdays[2].toolTip() == "Wednesday"


def test_a_time_typed_over_the_whole_field_is_taken(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    field = editor.schedule.time
    field.setTime(QTime(9, 45))
    field.setFocus()
    QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    QTest.keyClicks(field, "20:00")
    assert field.time() == QTime(20, 0)
    when = editor.spec().scheduled_at
    assert when is not None and (local_wall(when, editor.tz).hour, local_wall(when, editor.tz).minute) == (20, 0)
    field.lineEdit().selectAll()
    QTest.keyClicks(field, "730")
    assert field.time() == QTime(7, 30)


def test_the_preview_shows_the_attached_picture(qtbot, runtime, tmp_path) -> None:
    editor = _editor(qtbot, runtime)
    editor.resize(1000, 700)
    QTest.keyClicks(editor.text, "The new glaze")
    editor.media.add(str(_picture(tmp_path / "glaze.png", "#d02020")))
    editor.refresh()
    account = editor.selected_accounts()[0]
    card = editor.preview.cards[account.id]
    qtbot.waitUntil(lambda: card.media.isVisible() and card.media.height() > 50)
    assert "attachment(s)" not in card.text()
    shot = card.media.grab().toImage()
    middle = shot.pixelColor(shot.width() // 2, shot.height() // 2)
    assert (middle.red(), middle.green(), middle.blue()) == (0xd0, 0x20, 0x20)  # the picture itself, painted
    editor.media.add(str(_picture(tmp_path / "sage.png", "#20a040", (500, 800))))
    editor.refresh()
    qtbot.waitUntil(lambda: len(card.media.rects()) == 2)
    left, right = card.media.rects()
    assert left.right() < right.left() and left.top() == right.top()  # two pictures side by side


def test_two_accounts_on_one_platform_have_named_counters_and_tabs_in_view(qtbot, runtime) -> None:
    shop, notes = _two_bluesky_accounts(runtime)
    editor = _editor(qtbot, runtime)
    editor.resize(editor.minimumSize())
    for aid in (shop, notes):
        editor.account_buttons[aid].setChecked(True)
    editor.account_buttons[runtime.planner.default_account_id()].setChecked(False)
    QTest.keyClicks(editor.text, "Same text, two accounts")
    assert editor.counters.names[shop].text() == "Clay & Co"
    assert editor.counters.names[notes].text() == "Studio Notes"
    tabs = editor.preview.tabBar()
    qtbot.waitUntil(lambda: tabs.count() == 2 and tabs.isVisible())
    assert {tabs.tabText(i) for i in range(2)} == {"Clay && Co", "Studio Notes"}
    for i in range(tabs.count()):  # no tab pushed out of view behind scroll arrows
        assert tabs.rect().contains(tabs.tabRect(i)), (tabs.tabText(i), tabs.tabRect(i), tabs.rect())


def test_accounts_with_the_same_name_are_told_apart_by_handle(qtbot, runtime) -> None:
    p = runtime.planner
    one = p.add_account(Platform.BLUESKY, "clay.bsky.social", display_name="Clay", timezone=ZONE).id
    two = p.add_account(Platform.BLUESKY, "clay-studio.bsky.social", display_name="Clay", timezone=ZONE).id
    editor = _editor(qtbot, runtime)
    for aid in (one, two):
        editor.account_buttons[aid].setChecked(True)
    assert editor.counters.names[one].text() == "clay.bsky.social"
    assert editor.counters.names[two].text() == "clay-studio.bsky.social"


def test_add_file_opens_in_pictures_or_home_then_in_the_last_folder(qtbot, runtime, data_dir, tmp_path,
                                                                    monkeypatch) -> None:
    elsewhere = tmp_path / "where-outpost-was-started"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    editor = _editor(qtbot, runtime)
    QTest.mouseClick(editor.media.add_file, Qt.MouseButton.LeftButton)
    dialog = editor.media.findChild(QFileDialog)
    assert dialog is not None
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    expected = pictures if pictures and Path(pictures).is_dir() else str(Path.home())
    opened = dialog.directory().absolutePath()
    assert opened == QDir(expected).absolutePath() and opened != QDir(str(elsewhere)).absolutePath()
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    photo = _picture(shoot / "kiln.png", "#c0562b")
    dialog.filesSelected.emit([str(photo)])  # what choosing a file and pressing Open sends
    dialog.reject()
    assert [m.source for m in editor.media.items()] == [str(photo)]
    assert window_settings(data_dir).value("editor/media_folder") == str(shoot)  # kept with the data folder
    later = PostEditor(runtime.planner, runtime.adapter, ZONE)
    qtbot.addWidget(later)
    later.media._pick_files()
    again = later.media.findChild(QFileDialog)
    assert again is not None and again.directory().absolutePath() == QDir(str(shoot)).absolutePath()
    again.reject()


def test_at_the_smallest_size_the_footer_fields_and_buttons_never_overlap(qtbot, runtime) -> None:
    editor = _editor(qtbot, runtime)
    editor.schedule.set_recurrence(Recurrence(RepeatKind.WEEKLY, (0, 2)))
    editor.resize(editor.minimumSize())
    qtbot.waitUntil(lambda: editor.width() == editor.minimumWidth() and editor.schedule.days_box.isVisible())
    s = editor.schedule
    parts = [s.date, s.time, s.zone, s.undated, s.repeat, *s.weekdays, editor.cancel_button, editor.draft_button,
             editor.publish_button, editor.schedule_button]
    qtbot.waitUntil(lambda: all(w.width() >= w.minimumSizeHint().width() for w in parts))
    rects = [(w, w.rect().translated(w.mapTo(editor, w.rect().topLeft()))) for w in parts]
    for i, (a, ra) in enumerate(rects):
        assert editor.rect().contains(ra), a
        for b, rb in rects[i + 1:]:
            assert not ra.intersects(rb), (a, b)


def test_seven_accounts_wrap_instead_of_pushing_the_form_past_the_window(qtbot, runtime) -> None:
    p = runtime.planner
    for platform, handle in ((Platform.BLUESKY, "clayandco.bsky.social"), (Platform.BLUESKY, "studio.bsky.social"),
                             (Platform.MASTODON, "@clayandco@mastodon.art"), (Platform.THREADS, "clayandco"),
                             (Platform.X, "clayandco"), (Platform.LINKEDIN, "clay-and-co")):
        p.add_account(platform, handle, display_name="Clay & Co Ceramics Studio", timezone=ZONE)
    editor = _editor(qtbot, runtime)
    editor.resize(1024, 700)
    for b in editor.account_buttons.values():
        b.setChecked(True)
    QTest.keyClicks(editor.text, "Everywhere at once")
    viewport = editor.form_scroll.viewport()
    qtbot.waitUntil(lambda: editor.form_scroll.widget().width() <= viewport.width())
    shown = [*editor.account_buttons.values(), editor.text, *editor.counters.counters.values(), editor.media.remove]
    for w in shown:
        rect = w.rect().translated(w.mapTo(viewport, w.rect().topLeft()))
        assert rect.left() >= 0 and rect.right() < viewport.width(), w
    for b in editor.account_buttons.values():  # the checked (bold) label fits its button
        assert b.width() >= b.sizeHint().width()
    names = {editor.counters.names[a].text() for a in editor.counters.names}
    assert "clayandco.bsky.social" in names and "studio.bsky.social" in names  # same name, same platform
    assert "Clay & Co Ceramics Studio" in names  # same name on different platforms: the glyph tells them apart


def test_the_editor_fits_a_1920_by_1080_screen_at_200_percent(qtbot, runtime, tmp_path) -> None:
    from tests.ui.test_small_screen import _clipped

    shop, notes = _two_bluesky_accounts(runtime)
    editor = _editor(qtbot, runtime)
    for aid in (shop, notes):
        editor.account_buttons[aid].setChecked(True)
    QTest.keyClicks(editor.text, "Fits at any scale")
    editor.media.add(str(_picture(tmp_path / "kiln.png", "#c0562b")))
    editor.schedule.set_recurrence(Recurrence(RepeatKind.WEEKLY, (0, 2)))
    editor.refresh()
    assert editor.minimumWidth() <= 960 and editor.minimumHeight() <= 540 - 40  # 1920x1080 at 200 %, title bar
    for size in ((960, 500), (editor.minimumWidth(), editor.minimumHeight())):
        editor.resize(*size)
        qtbot.waitUntil(lambda s=size: (editor.width(), editor.height()) == s)
        qtbot.waitUntil(lambda: editor.form_scroll.widget().width() <= editor.form_scroll.viewport().width())
        assert _clipped(editor) == [], size
