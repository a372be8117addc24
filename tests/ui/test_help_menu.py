"""Help: F1 opens the bundled guide offline; the log folder; Report a problem makes a zip with the
self-test and the log's end but no secret; About names the version."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest

import app
from app.core import redact
from app.core.models import Platform
from app.engine.runtime import Runtime
from app.store.paths import log_dir
from app.ui.help import GUIDE, ReportProblemDialog
from app.ui.menus import menus_of

ROOT = Path(__file__).resolve().parents[2]


def test_f1_opens_the_bundled_guide_from_a_file_without_a_network(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: "guide" in menus_of(window).dialogs)
    guide = menus_of(window).dialogs["guide"]
    assert guide.isVisible()
    source = guide.browser.source()
    assert source.isLocalFile() and Path(source.toLocalFile()) == GUIDE
    text = guide.browser.toPlainText()
    assert "Your first post" in text and "Report a problem" in text
    guide.browser.anchorClicked.emit(QUrl("#settings"))  # a contents link scrolls within the guide
    assert guide.browser.verticalScrollBar().value() > 0
    assert guide.browser.source().isLocalFile() and guide.browser.source().fragment() == "settings"
    guide.close()


def test_the_bundled_guide_is_rendered_from_docs_guide_md() -> None:
    done = subprocess.run([sys.executable, "packaging/render_guide.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert GUIDE.is_relative_to(ROOT / "resources")  # build.spec bundles resources/ whole


def test_open_log_folder_opens_the_data_folders_logs(window) -> None:  # type: ignore[no-untyped-def]
    from app.ui.help import open_log_folder

    opened: list[Path] = []
    assert open_log_folder(window.data_dir, opened.append) == log_dir(window.data_dir)
    assert opened == [log_dir(window.data_dir)] and opened[0].is_dir()
    assert [a.text() for a in menus_of(window).help_menu.actions() if not a.isSeparator()] == [
        "Outpost guide", "Open log folder", "Report a problem…", "About Outpost"]


def test_about_names_the_version_and_the_data_folder(window) -> None:  # type: ignore[no-untyped-def]
    from app.ui.help import show_about

    box = show_about(window, window.data_dir)
    assert app.__version__ in box.text() and str(window.data_dir) in box.text()
    assert menus_of(window).about_action.menuRole() is QAction.MenuRole.AboutRole
    box.close()


def test_report_a_problem_collects_versions_self_test_and_log_but_no_secret(window, runtime: Runtime, tmp_path: Path,
                                                                            qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A token planted where a careless line could have put it: bare in a log line, and in a query string.
    account = runtime.planner.add_account(Platform.MASTODON, "@alice@example.test", server="https://example.test")
    bare_token = "Zq8vK2mN5pR7sT1uW3xY6"
    runtime.secrets.put(account.id, {"access_token": bare_token})
    monkeypatch.setattr(redact, "_known_secrets", set())  # stored by an earlier session: this one never saw it
    folder = log_dir(runtime.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "outpost.log").open("a", encoding="utf-8") as log:
        log.write(f"2031-01-01 09:00:00 INFO    outpost.test: answer was {bare_token}\n")
        log.write("2031-01-01 09:00:01 INFO    outpost.test: GET /callback?code=PLANTEDCODE123&access_token=PLANTED9876\n")
        log.write("2031-01-01 09:00:02 INFO    outpost.test: the last line before the report\n")
    dialog = ReportProblemDialog(runtime, {"theme": "dark"}, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.folder.setText(str(tmp_path))
    dialog.create_button.click()
    dialog.wait(120)
    qtbot.waitUntil(lambda: dialog.saved is not None or dialog.create_button.isEnabled(), timeout=5000)
    assert dialog.saved is not None, dialog.status.text()
    assert dialog.saved.parent == tmp_path and dialog.show_button.isVisible()
    with zipfile.ZipFile(dialog.saved) as zf:
        members = {name: zf.read(name).decode("utf-8") for name in zf.namelist()}
    everything = "\n".join(members.values())
    for secret in (bare_token, "PLANTEDCODE123", "PLANTED9876"):
        assert secret not in everything
    assert "the last line before the report" in members["log-tail.txt"]
    assert json.loads(members["versions.json"])["outpost"] == app.__version__
    assert "self-test" in members["self-test.txt"] and "(exit status" in members["self-test.txt"]
    assert json.loads(members["settings.json"]) == {"theme": "dark"}
    assert not list(tmp_path.glob(".*.partial"))
