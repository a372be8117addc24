"""File › Export…: choose the days, the accounts and the file; the same columns `outpost export` writes.

Writing runs on a worker thread (a year of posts with media lists takes a moment), with a busy
bar; a file that cannot be written gets one line saying why and what to do.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QObject, QSize, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.core.timeutil import localize
from app.engine.exporting import export_posts
from app.ui import icons
from app.ui.settings_pages import account_label, open_in_file_manager
from app.ui.widgets import button, muted, section

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

FORMATS = {".xlsx": "Excel workbook (.xlsx)", ".csv": "CSV, comma-separated (.csv)"}


class _Done(QObject):
    """Carries the worker's result back to the window's thread (signals queue across threads)."""

    finished = Signal(object)


def default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(documents) if documents else Path.home()
    return folder if folder.is_dir() else Path.home()


class ExportDialog(QDialog):
    exported = Signal(int, str)  # how many posts, the file

    def __init__(self, runtime: Runtime, tz_name: str, parent: QWidget | None = None, *,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.tz = ZoneInfo(tz_name)
        self.open_folder = open_in_file_manager  # tests put a stand-in here
        self._worker: threading.Thread | None = None
        self._done = _Done()
        self._done.finished.connect(self._finished)
        self.setWindowTitle("Export posts")
        self.setObjectName("exportDialog")
        today = today or datetime.now(self.tz).date()

        self.all_days = QRadioButton("All posts, drafts included")
        self.some_days = QRadioButton("Posts scheduled from")
        group = QButtonGroup(self)
        group.addButton(self.all_days)
        group.addButton(self.some_days)
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        self.start = QDateEdit(QDate(first.year, first.month, first.day))
        self.end = QDateEdit(QDate(last.year, last.month, last.day))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd d MMM yyyy")
            edit.dateChanged.connect(lambda _d: self.some_days.setChecked(True))
        self.some_days.setChecked(True)
        days = QHBoxLayout()
        days.addWidget(self.some_days)
        days.addWidget(self.start)
        days.addWidget(QLabel("to"))
        days.addWidget(self.end)
        days.addStretch(1)

        self.accounts = QListWidget()
        self.accounts.setAlternatingRowColors(True)
        for account in runtime.planner.accounts():
            item = QListWidgetItem(icons.platform_icon(account.platform),
                                   account_label(account))
            item.setData(Qt.ItemDataRole.UserRole, account.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.accounts.addItem(item)

        self.format = QComboBox()
        for suffix, label in FORMATS.items():
            self.format.addItem(label, suffix)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path = QLineEdit(str(default_folder() / f"outpost-posts-{today.isoformat()}.xlsx"))
        choose = button("Choose…")
        choose.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(choose)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.addRow("Format", self.format)
        form.addRow("File", file_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the writer does not report a fraction
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        self.show_button = button("Show in folder", "external", flat=True)
        self.show_button.clicked.connect(lambda: self.open_folder(Path(self.path.text()).parent))
        self.show_button.hide()
        self.export_button = button("Export", "send", primary=True)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.close_button = button("Close")
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(8)
        layout.addWidget(section("Days"))
        layout.addWidget(self.all_days)
        layout.addLayout(days)
        layout.addSpacing(6)
        layout.addWidget(section("Accounts"))
        layout.addWidget(self.accounts, 1)
        layout.addSpacing(6)
        layout.addWidget(section("File"))
        layout.addLayout(form)
        layout.addWidget(muted("The columns are the ones Import reads, so the file can be edited and imported "
                               "again."))
        layout.addWidget(self.progress)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.show_button)
        layout.addLayout(status_row)
        layout.addSpacing(4)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)

    def sizeHint(self) -> QSize:
        return QSize(620, 560)

    # -- choices ------------------------------------------------------------------------------
    def _format_changed(self) -> None:
        suffix = str(self.format.currentData())
        path = Path(self.path.text().strip() or "outpost-posts")
        self.path.setText(str(path.with_suffix(suffix)))

    def choose_file(self) -> QFileDialog:
        current = Path(self.path.text().strip() or default_folder())
        dialog = QFileDialog(self, "Export to", str(current if current.parent.is_dir() else default_folder()),
                             ";;".join(f"{label} (*{suffix})" for suffix, label in FORMATS.items()))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(str(self.format.currentData()).lstrip("."))
        dialog.fileSelected.connect(self._file_chosen)
        dialog.open()  # never exec(): the loop keeps running
        self._file_dialog = dialog
        return dialog

    def _file_chosen(self, name: str) -> None:
        self.path.setText(name)
        suffix = Path(name).suffix.lower()
        if suffix in FORMATS:
            self.format.blockSignals(True)
            self.format.setCurrentIndex(list(FORMATS).index(suffix))
            self.format.blockSignals(False)

    def chosen_accounts(self) -> list[int]:
        out = []
        for i in range(self.accounts.count()):
            item = self.accounts.item(i)
            if item is not None and item.checkState() is Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        if self.all_days.isChecked():
            return None, None
        first: date = self.start.date().toPython()  # type: ignore[assignment]
        last: date = self.end.date().toPython()  # type: ignore[assignment]
        return (localize(datetime.combine(first, time()), self.tz),
                localize(datetime.combine(last + timedelta(days=1), time()), self.tz))

    # -- exporting ----------------------------------------------------------------------------
    def start_export(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        text = self.path.text().strip()
        if not text:
            self._say("Choose the file to write.", error=True)
            return
        path = Path(text).expanduser()
        if path.suffix.lower() not in FORMATS:
            path = path.with_suffix(str(self.format.currentData()))
            self.path.setText(str(path))
        accounts = self.chosen_accounts()
        if not accounts:
            self._say("Tick at least one account.", error=True)
            return
        start, end = self.bounds()
        if start and end and end <= start:
            self._say("The last day comes before the first; swap them.", error=True)
            return
        every = len(accounts) == self.accounts.count()
        self._busy(True)
        self._say(f"Exporting to {path.name}…")

        def work() -> None:
            try:
                result: object = export_posts(self.runtime, path, start, end, None if every else accounts)
            except OutpostError as exc:
                result = exc
            except Exception as exc:  # shown, not lost on a thread
                result = OutpostError(f"Could not export ({type(exc).__name__}: {exc}). Details are in the log.")
            self._done.finished.emit((result, path))

        self._worker = threading.Thread(target=work, name="export", daemon=True)
        self._worker.start()

    def _finished(self, outcome: tuple[object, Path]) -> None:
        result, path = outcome
        self._busy(False)
        if isinstance(result, OutpostError):
            self._say(str(result), error=True)
            return
        count = int(result)  # type: ignore[call-overload]
        self._say(f"Exported {count} post{'s' if count != 1 else ''} to {path}.")
        self.show_button.show()
        self.exported.emit(count, str(path))

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.export_button.setEnabled(not busy)
        self.show_button.hide()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def wait(self, timeout: float = 30) -> None:
        """Wait for a running export's thread (tests, and closing the window)."""
        if self._worker is not None:
            self._worker.join(timeout)
