"""Help: the bundled user guide (F1, offline), the log folder, Report a problem, About."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, QSize, Qt, QUrl, Signal, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import app
from app.core.errors import OutpostError
from app.engine import diagnostics
from app.store.paths import log_dir
from app.ui import icons
from app.ui.export_dialog import default_folder
from app.ui.settings_pages import open_in_file_manager
from app.ui.widgets import button, muted, section

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

# Beside the `app` package: the repository's resources/ from source, the bundle's when frozen.
GUIDE = Path(app.__file__).resolve().parent.parent / "resources" / "guide" / "index.html"


class GuideWindow(QDialog):
    """The user guide from the app's own files: no network, no browser needed."""

    def __init__(self, parent: QWidget | None = None, guide: Path = GUIDE) -> None:
        super().__init__(parent)
        self.setWindowTitle("Outpost guide")
        self.setObjectName("guideWindow")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # web links go to the system browser, pages stay here
        self.browser.document().setDocumentMargin(20)
        self.browser.anchorClicked.connect(self._follow)
        if guide.is_file():
            self.browser.setSearchPaths([str(guide.parent)])
            self.browser.setSource(QUrl.fromLocalFile(str(guide)))
        else:
            self.browser.setPlainText(f"The guide is missing from this installation ({guide}). "
                                      "Reinstall Outpost, or read docs/guide.md in its source.")
        back = button("Back", "chevron-left", flat=True)
        back.clicked.connect(self.browser.backward)
        self.browser.backwardAvailable.connect(back.setEnabled)
        back.setEnabled(False)
        close = button("Close")
        close.clicked.connect(self.close)
        bar = QHBoxLayout()
        bar.addWidget(back)
        bar.addStretch(1)
        bar.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.addWidget(self.browser, 1)
        bar.setContentsMargins(10, 0, 10, 0)
        layout.addLayout(bar)

    def sizeHint(self) -> QSize:
        return QSize(860, 680)

    def _follow(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        else:  # "#settings" from the contents: the same file, scrolled there (Back returns)
            self.browser.setSource(self.browser.source().resolved(url))


def open_log_folder(data_dir: Path, opener: Callable[[Path], object] = open_in_file_manager) -> Path:
    folder = log_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    opener(folder)
    return folder


class _Done(QObject):
    finished = Signal(object)


class ReportProblemDialog(QDialog):
    """Collects the diagnostics zip on a worker thread and says where it is."""

    def __init__(self, runtime: Runtime, settings: dict[str, object], parent: QWidget | None = None,
                 self_test: Callable[[], str] = diagnostics.run_self_test) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.settings = settings
        self.self_test = self_test
        self.open_folder = open_in_file_manager  # tests put a stand-in here
        self._worker: threading.Thread | None = None
        self._done = _Done()
        self._done.finished.connect(self._finished)
        self.setWindowTitle("Report a problem")
        self.setObjectName("reportDialog")
        self.folder = QLineEdit(str(default_folder()))
        self.create_button = button("Create diagnostics file", "send", primary=True)
        self.create_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = button("Show in folder", "external", flat=True)
        self.show_button.hide()
        self.show_button.clicked.connect(lambda: self.open_folder(Path(self.folder.text())))
        close = button("Close")
        close.clicked.connect(self.reject)
        self.saved: Path | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(8)
        layout.addWidget(section("What goes in the file"))
        layout.addWidget(muted("Outpost's and your system's versions, the self-test's results, the last "
                               f"{diagnostics.LOG_LINES} lines of the log and the publisher's state. Passwords and "
                               "tokens are removed before anything is written; nothing is sent anywhere. Attach "
                               "the file to your report and say what you did and what you expected."))
        layout.addWidget(section("Save it in"))
        choose = button("Choose…")
        choose.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        layout.addLayout(folder_row)
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.show_button)
        layout.addLayout(row)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.create_button)
        layout.addLayout(buttons)

    def sizeHint(self) -> QSize:
        return QSize(560, 330)

    def choose_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, "Save the diagnostics file in", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()  # never exec(): the loop keeps running
        self._folder_dialog = dialog
        return dialog

    def start(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        folder = Path(self.folder.text().strip()).expanduser()
        if not folder.is_dir():
            self._say(f"The folder {folder} does not exist; type an existing folder.", error=True)
            return
        target = folder / diagnostics.default_name()
        self.create_button.setEnabled(False)
        self.progress.show()
        self.show_button.hide()
        self._say("Running the self-test and collecting the log… (a few seconds)")

        def work() -> None:
            try:
                result: object = diagnostics.collect(self.runtime, target, self.settings, self.self_test)
            except OutpostError as exc:
                result = exc
            except Exception as exc:  # shown, not lost on a thread
                result = OutpostError(f"Could not collect the diagnostics ({type(exc).__name__}: {exc}).")
            self._done.finished.emit(result)

        self._worker = threading.Thread(target=work, name="diagnostics", daemon=True)
        self._worker.start()

    def _finished(self, result: object) -> None:
        self.progress.hide()
        self.create_button.setEnabled(True)
        if isinstance(result, OutpostError):
            self._say(str(result), error=True)
            return
        assert isinstance(result, Path)
        self.saved = result
        self._say(f"Saved {result}. Attach it to your report.")
        self.show_button.show()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def wait(self, timeout: float = 60) -> None:
        if self._worker is not None:
            self._worker.join(timeout)


def about_text(data_dir: Path) -> str:
    return (f"<h3>Outpost {app.__version__}</h3>"
            "<p>Plan, schedule and publish social-media posts from your own computer.</p>"
            f"<p>Python {sys.version.split()[0]} · Qt {qVersion()} · PySide6 {pyside_version}</p>"
            f"<p>Data folder:<br>{data_dir}</p>"
            "<p>MIT licence.</p>")


def show_about(parent: QWidget, data_dir: Path) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About Outpost", about_text(data_dir),
                      QMessageBox.StandardButton.Close, parent)
    box.setIconPixmap(icons.app_icon().pixmap(64, 64))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()  # never exec(): the loop keeps running
    return box
