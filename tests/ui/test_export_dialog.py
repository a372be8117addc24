"""File › Export…: the days and accounts chosen, the same file `outpost export` writes, and a clear
line (with the old file untouched) when the file cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
from PySide6.QtCore import QDate, Qt

from app.core.models import Platform
from app.engine.runtime import Runtime
from app.ui.export_dialog import ExportDialog
from app.ui.menus import menus_of
from tests.ui.conftest import ZONE, at_local, make_post

ROOT = Path(__file__).resolve().parents[2]


def _dialog(window) -> ExportDialog:  # type: ignore[no-untyped-def]
    dialog = menus_of(window).open_export()
    assert isinstance(dialog, ExportDialog)
    return dialog


def _run(dialog: ExportDialog, qtbot) -> str:  # type: ignore[no-untyped-def]
    dialog.export_button.click()
    dialog.wait()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())
    return dialog.status.text()


def test_ctrl_e_opens_export(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtTest import QTest

    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "export" in menus_of(window).dialogs)
    menus_of(window).dialogs["export"].reject()


def test_only_the_chosen_days_and_accounts_are_exported(window, runtime: Runtime, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    sandbox = runtime.planner.default_account_id()
    assert sandbox is not None
    bluesky = runtime.planner.add_account(Platform.BLUESKY, "alice.test", display_name="Alice").id
    day = date(2031, 3, 10)
    make_post(runtime, at_local(day, 9), "Both accounts, in range", account_ids=(sandbox, bluesky))
    make_post(runtime, at_local(day, 10), "Sandbox only, in range", account_ids=(sandbox,))
    make_post(runtime, at_local(day + timedelta(days=40), 9), "Bluesky, out of range", account_ids=(bluesky,))
    dialog = _dialog(window)
    dialog.start.setDate(QDate(2031, 3, 1))
    dialog.end.setDate(QDate(2031, 3, 31))
    for i in range(dialog.accounts.count()):
        item = dialog.accounts.item(i)
        if item.data(Qt.ItemDataRole.UserRole) != bluesky:
            item.setCheckState(Qt.CheckState.Unchecked)
    target = tmp_path / "march.xlsx"
    dialog.path.setText(str(target))
    assert _run(dialog, qtbot) == f"Exported 1 post to {target}."
    sheet = openpyxl.load_workbook(target).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert len(rows) == 2
    assert rows[1][header.index("Text")] == "Both accounts, in range"
    assert rows[1][header.index("Account")] == "alice.test"
    assert dialog.show_button.isVisible()


def test_exporting_everything_writes_what_outpost_export_writes(window, runtime: Runtime, data_dir: Path,
                                                                tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    make_post(runtime, at_local(date(2031, 5, 2), 8, 30), "=SUM(A1) is not a formula here")
    make_post(runtime, None, "A draft without a date", draft=True)
    dialog = _dialog(window)
    dialog.all_days.setChecked(True)
    dialog.format.setCurrentIndex(1)  # .csv
    mine = tmp_path / "window.csv"
    dialog.path.setText(str(mine))
    assert _run(dialog, qtbot) == f"Exported 2 posts to {mine}."
    theirs = tmp_path / "cli.csv"
    env = {**os.environ, "OUTPOST_DATA_DIR": str(data_dir), "TZ": ZONE}
    done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "export", str(theirs)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert mine.read_bytes() == theirs.read_bytes()


def test_a_file_that_cannot_be_written_says_so_and_leaves_the_old_one(window, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "posts.csv"
    target.write_text("my earlier export\n", encoding="utf-8")
    (tmp_path / ".posts.partial.csv").mkdir()  # the writer's temporary name is taken: the write fails
    dialog = _dialog(window)
    dialog.format.setCurrentIndex(1)
    dialog.path.setText(str(target))
    text = _run(dialog, qtbot)
    assert text.startswith(f"Could not write {target}:") and "Choose a folder you can write to" in text
    assert dialog.status.property("role") == "error"
    assert target.read_text(encoding="utf-8") == "my earlier export\n"


def test_a_missing_folder_is_refused_before_anything_is_written(window, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(window)
    dialog.path.setText(str(tmp_path / "nowhere" / "posts.xlsx"))
    assert _run(dialog, qtbot) == f"The folder {tmp_path / 'nowhere'} does not exist; choose another folder."
    assert not (tmp_path / "nowhere").exists()
