"""The import dialog's parts of issue 15: a default time for bare days, warnings you can filter
on, and an invalid row's own cells shown apart and fixed in place."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from app.core.models import Platform
from app.importer.rows import RowStatus
from app.ui.import_dialog import WITH_WARNINGS, ImportDialog
from tests.importer.sheets import write_xlsx
from tests.ui.conftest import local_today

SHOTS = Path(os.environ.get("OUTPOST_SHOTS_DIR", "/tmp/shots"))


@pytest.fixture
def accounts(runtime):  # type: ignore[no-untyped-def]
    runtime.planner.add_account(Platform.MASTODON, "alice@mastodon.social", display_name="Alice")
    runtime.planner.add_account(Platform.BLUESKY, "alice.bsky.social", display_name="Alice")


def sheet(tmp_path: Path) -> Path:
    day = local_today() + timedelta(days=3)
    return write_xlsx(tmp_path / "plan.xlsx", [
        ["Date", "Text", "Account", "Notes"],
        [day, "A day without a time", "alice.bsky.social", "ask Bob"],
        [datetime.combine(day, time(11, 0)), "Wrong account", "nobody", None],
        [datetime.combine(day, time(12, 0)), "Fine", "alice@mastodon.social", None],
    ])


def open_preview(qtbot, runtime, path: Path) -> ImportDialog:  # type: ignore[no-untyped-def]
    dialog = ImportDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.page == "columns", timeout=5000)
    return dialog


def to_preview(qtbot, dialog: ImportDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page == "preview" and not dialog.busy(), timeout=5000)


def select(dialog: ImportDialog, number: int) -> None:
    for i, row in enumerate(dialog.model.rows):
        if row.number == number:
            dialog.table.selectRow(i)
            dialog.table.selectionModel().setCurrentIndex(dialog.model.index(i, 0),
                                                          QItemSelectionModel.SelectionFlag.NoUpdate)
            return
    raise AssertionError(f"row {number} is not shown")


def test_a_bare_day_is_invalid_until_a_default_time_is_chosen(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = open_preview(qtbot, runtime, sheet(tmp_path))
    assert "Notes (D) was not used" in dialog.columns_note.text()
    to_preview(qtbot, dialog)
    bare = next(r for r in dialog.model.rows if r.number == 2)
    assert bare.status is RowStatus.INVALID and "has no time of day" in str(bare.errors[0])
    dialog.show_page("columns")
    dialog.default_time_check.setChecked(True)
    dialog.default_time_edit.setTime(dialog.default_time_edit.time().fromString("10:15", "HH:mm"))
    to_preview(qtbot, dialog)
    bare = next(r for r in dialog.model.rows if r.number == 2)
    assert bare.status is RowStatus.VALID and bare.spec is not None
    assert bare.spec.scheduled_at is not None
    assert bare.spec.scheduled_at.astimezone().time() == time(10, 15)
    assert dialog.filter_buttons[WITH_WARNINGS].text() == "With warnings 1"
    qtbot.mouseClick(dialog.filter_buttons[WITH_WARNINGS], Qt.MouseButton.LeftButton)
    assert [r.number for r in dialog.model.rows] == [2]
    assert "default time 10:15" in dialog.model.index(0, 5).data()


def test_an_invalid_row_shows_its_cells_and_is_fixed_in_place(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = open_preview(qtbot, runtime, sheet(tmp_path))
    to_preview(qtbot, dialog)
    select(dialog, 3)
    cells = dialog.cells_table
    shown = {cells.item(i, 0).text(): (cells.item(i, 2).text(), cells.item(i, 3).text()) for i in range(cells.rowCount())}
    assert shown["Account (C)"][0] == "nobody" and "No account called 'nobody'" in shown["Account (C)"][1]
    assert shown["Text (B)"] == ("Wrong account", "")
    before = dialog.import_button.text()
    account = next(i for i in range(cells.rowCount()) if cells.item(i, 0).text() == "Account (C)")
    cells.item(account, 2).setText("alice.bsky.social")  # what a double-click and typing end in
    qtbot.waitUntil(lambda: next(r for r in dialog.rows if r.number == 3).status is RowStatus.VALID, timeout=5000)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=5000)
    assert "Row 3 checked again: valid" in dialog.preview_error.text()
    assert dialog.import_button.text() != before
    assert dialog.row_detail.text() == "Row 3: ready to import."


def test_screenshots_at_the_default_size_and_a_small_screen(qtbot, runtime, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = open_preview(qtbot, runtime, sheet(tmp_path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, name in ((None, "default"), ((1024, 700), "1024x700")):
        if size:
            dialog.resize(*size)
        dialog.show_page("columns")
        qtbot.wait(30)
        assert dialog.grab().save(str(SHOTS / f"import-columns-{name}.png"))
        to_preview(qtbot, dialog)
        select(dialog, 3)
        qtbot.wait(30)
        assert dialog.grab().save(str(SHOTS / f"import-preview-{name}.png"))
