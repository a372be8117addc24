"""The import dialog, driven like a person would: file -> columns -> preview -> import -> calendar."""

from __future__ import annotations

import os
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent
from PySide6.QtWidgets import QApplication

from app.core.models import Platform
from app.importer.columns import Field
from app.importer.commit import ImportResult
from app.importer.rows import RowStatus
from app.ui import import_dialog
from app.ui.import_dialog import ImportDialog
from tests.importer.sheets import write_xlsx
from tests.ui.conftest import at_local, local_today

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "import-preview.png"


@pytest.fixture
def accounts(runtime):  # type: ignore[no-untyped-def]
    runtime.planner.add_account(Platform.MASTODON, "alice@mastodon.social", display_name="Alice")
    runtime.planner.add_account(Platform.BLUESKY, "alice.bsky.social", display_name="Alice")


def calendar_file(tmp_path: Path) -> tuple[Path, datetime]:
    day = local_today() + timedelta(days=2)
    at = datetime.combine(day, time(9, 30))
    path = write_xlsx(tmp_path / "july.xlsx", [
        ["Content calendar, summer"],
        [],
        ["Publish at", "Caption", "Channel", "Media URLs"],
        [at, "Our summer sale starts today ☀️", "alice@mastodon.social", None],
        [at + timedelta(hours=3), "Behind the scenes\nof the shoot", "alice.bsky.social, alice@mastodon.social", None],
        [at - timedelta(days=30), "An old one", "alice@mastodon.social", None],
        [at + timedelta(hours=5), "Our summer sale starts today ☀️", "alice@mastodon.social", None],
        [at + timedelta(days=1), "x" * 320, "alice.bsky.social", None],
        [at + timedelta(days=1, hours=2), "Thanks for 1,000 followers!", "nobody", None],
        [at + timedelta(days=1, hours=4), "Last call", "alice.bsky.social", "https://cdn.example/sale.jpg"],
    ])
    return path, at


def open_dialog(qtbot, window, path: Path) -> ImportDialog:  # type: ignore[no-untyped-def]
    window.open_import(str(path))
    dialog = window.findChild(ImportDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    return dialog


def to_preview(qtbot, dialog: ImportDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page == "preview", timeout=5000)


def test_from_choosing_a_file_to_posts_in_the_calendar(qtbot, window, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, at = calendar_file(tmp_path)
    dialog = open_dialog(qtbot, window, path)
    assert [b.currentData() for b in dialog.field_boxes] == [Field.DATE, Field.TEXT, Field.ACCOUNT, Field.MEDIA]
    assert "Header found on row 3" in dialog.columns_note.text()
    assert dialog.zone_box.currentText() == "Europe/Berlin"

    to_preview(qtbot, dialog)
    model = dialog.model
    statuses = [r.status for r in model.rows]
    assert statuses == [RowStatus.VALID, RowStatus.VALID, RowStatus.INVALID, RowStatus.DUPLICATE,
                        RowStatus.INVALID, RowStatus.INVALID, RowStatus.VALID]
    assert [model.data(model.index(i, 0)) for i in range(3)] == ["4", "5", "6"]
    colours = {model.data(model.index(i, 0), Qt.ItemDataRole.BackgroundRole).name() for i in (0, 2, 3)}
    assert len(colours) == 3  # valid, invalid and duplicate rows look different
    past = model.index(2, 2)
    assert "in the past" in model.data(past, Qt.ItemDataRole.ToolTipRole)
    assert model.data(past, Qt.ItemDataRole.BackgroundRole) != model.data(model.index(2, 4), Qt.ItemDataRole.BackgroundRole)
    too_long = model.index(4, 4)
    assert "Bluesky allows 300" in model.data(too_long, Qt.ItemDataRole.ToolTipRole)
    assert "No account called 'nobody'" in model.data(model.index(5, 5))
    assert dialog.import_button.text() == "Import 3 posts" and dialog.import_button.isEnabled()

    qtbot.mouseClick(dialog.filter_buttons[RowStatus.INVALID], Qt.MouseButton.LeftButton)
    assert model.rowCount() == 3 and {r.number for r in model.rows} == {6, 8, 9}
    qtbot.mouseClick(dialog.filter_buttons[None], Qt.MouseButton.LeftButton)
    assert model.rowCount() == 7

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text().splitlines()
    assert copied[0] == "Row\tStatus\tColumn\tValue\tProblem" and len(copied) == 5
    assert copied[1].startswith("6\tinvalid\tPublish at (A)\t") and "in the past" in copied[1]
    assert copied[4].startswith("9\tinvalid\tChannel (C)\tnobody\t")

    dialog.all_or_nothing.setChecked(True)
    assert not dialog.import_button.isEnabled() and "nothing can be imported" in dialog.preview_error.text()
    dialog.valid_only.setChecked(True)

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page == "summary", timeout=10000)
    assert "Imported 3 posts as scheduled posts" in dialog.summary_label.text()
    assert dialog.outcome is not None
    post_ids = set(dialog.outcome.post_ids.values())
    with qtbot.waitSignal(dialog.finished):
        dialog.accept()

    window.set_view("month")
    window.month.set_cursor(at.date())
    window.reload()
    on_calendar = {p.id for p in window.month.posts}
    assert post_ids <= on_calendar
    first = runtime.planner.post(dialog.outcome.post_ids[4])
    assert first.scheduled_at == at_local(at.date(), 9, 30)
    assert window.month.chip_rect(first.id) is not None


def test_undo_in_the_summary_takes_the_import_back(qtbot, window, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, at = calendar_file(tmp_path)
    dialog = open_dialog(qtbot, window, path)
    to_preview(qtbot, dialog)
    dialog.as_drafts.setChecked(True)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page == "summary", timeout=10000)
    assert "as drafts" in dialog.summary_label.text()
    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    assert "3 posts removed" in dialog.summary_label.text() and not dialog.undo_button.isEnabled()
    window.month.set_cursor(at.date())
    window.reload()
    assert window.month.posts == []


def test_a_file_dropped_on_the_dialog_is_read_and_a_bad_one_is_refused_in_place(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.show()
    bad = tmp_path / "holiday.xlsx"
    bad.write_bytes(b"%PDF-1.7 this is a PDF")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(event)
    qtbot.waitUntil(lambda: "not an Excel workbook" in dialog.file_error.text(), timeout=5000)
    assert dialog.page == "file" and dialog.choose_button.isEnabled()
    good, _ = calendar_file(tmp_path)
    mime.setUrls([QUrl.fromLocalFile(str(good))])
    dialog.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)


def test_remapping_a_column_and_choosing_a_default_account(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    day = local_today() + timedelta(days=3)
    path = write_xlsx(tmp_path / "plain.xlsx", [["When", "Words"], [datetime.combine(day, time(10)), "hello"]])
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    assert [b.currentData() for b in dialog.field_boxes] == [Field.DATE, None]
    dialog.field_boxes[1].setCurrentIndex(dialog.field_boxes[1].findData(Field.TEXT))
    dialog.field_boxes[0].setCurrentIndex(dialog.field_boxes[0].findData(Field.TEXT))  # moves Text to column A
    assert [b.currentData() for b in dialog.field_boxes] == [Field.TEXT, None]
    dialog.field_boxes[0].setCurrentIndex(dialog.field_boxes[0].findData(Field.DATE))
    dialog.field_boxes[1].setCurrentIndex(dialog.field_boxes[1].findData(Field.TEXT))
    bluesky = runtime.planner.find_account("alice.bsky.social")
    dialog.account_box.setCurrentIndex(dialog.account_box.findData(bluesky.id))
    to_preview(qtbot, dialog)
    [row] = dialog.model.rows
    assert row.status is RowStatus.VALID and row.account_ids == (bluesky.id,)


def test_download_template_writes_an_importable_workbook(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    target = dialog.save_template(tmp_path / "template.xlsx")
    assert "Template saved" in dialog.file_error.text()
    dialog.load_file(target)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    to_preview(qtbot, dialog)
    assert [r.status for r in dialog.model.rows] == [RowStatus.VALID]


def test_closing_while_importing_cancels(qtbot, runtime, accounts, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def slow_commit(rt, rows, *, progress, cancelled, **_kw):  # type: ignore[no-untyped-def]
        progress(0, 10)
        deadline = clock.monotonic() + 5
        while not cancelled() and clock.monotonic() < deadline:
            clock.sleep(0.01)
        return ImportResult(7, cancelled=cancelled())

    monkeypatch.setattr(import_dialog, "commit", slow_commit)
    path, _ = calendar_file(tmp_path)
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    to_preview(qtbot, dialog)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.busy(), timeout=2000)
    assert dialog.page == "importing"
    dialog.reject()  # Escape / window close
    assert dialog.isVisible() or dialog.page == "importing"
    qtbot.waitUntil(lambda: dialog.page == "summary", timeout=5000)
    assert "cancelled" in dialog.summary_label.text()


@pytest.mark.skipif(not os.environ.get("OUTPOST_SCREENSHOTS"), reason="set OUTPOST_SCREENSHOTS=1 to refresh docs")
def test_preview_screenshot(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = calendar_file(tmp_path)
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.resize(1060, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    dialog.zone_box.setCurrentText("Europe/Berlin")
    qtbot.wait(50)
    assert dialog.grab().save(str(SCREENSHOT.with_name("import-columns.png")))
    to_preview(qtbot, dialog)
    too_long = dialog.model.index(4, 0)
    dialog.table.selectionModel().setCurrentIndex(too_long, QItemSelectionModel.SelectionFlag.NoUpdate)
    assert dialog.row_detail.text().startswith("Row 8: Caption (B): alice.bsky.social: Bluesky allows 300")
    qtbot.wait(50)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(SCREENSHOT))
    assert QColor(dialog.grab().toImage().pixel(10, 10)).isValid()


def test_ambiguous_dates_wait_for_the_order_chosen_in_the_dialog(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    year = local_today().year + 1
    path = write_xlsx(tmp_path / "amb.xlsx", [["Date", "Text", "Account"],
                                              [f"03/04/{year} 10:00", "spring", "alice.bsky.social"]])
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    assert "choose the order" in dialog.columns_error.text()
    to_preview(qtbot, dialog)
    [row] = dialog.model.rows
    assert row.status is RowStatus.INVALID and "could be 3 April or 4 March" in str(row.errors[0])
    dialog.show_page("columns")
    dialog.order_box.setCurrentIndex(dialog.order_box.findData("day-first"))
    to_preview(qtbot, dialog)
    [row] = dialog.model.rows
    assert row.status is RowStatus.VALID and row.spec is not None
    assert (row.spec.scheduled_at.month, row.spec.scheduled_at.day) == (4, 3)
