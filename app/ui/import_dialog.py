"""Import posts from a spreadsheet: file -> columns and time zone -> preview -> import -> summary.

Reading, judging and importing run in a worker thread (the window stays responsive; Cancel
undoes a half-done import). The dialog never runs a nested event loop: file pickers are opened
with `open()` and answer through signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, available_timezones

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThread,
    QTime,
    Signal,
)
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.core.timeutil import local_zone_name
from app.importer.columns import Field, Mapping
from app.importer.commit import ImportResult, accounts_of, commit, judge, undo
from app.importer.dates import DateOrder
from app.importer.rows import (
    ImportOptions,
    ImportRow,
    RowStatus,
    Sheet,
    display_value,
    needs_date_order,
    open_sheet,
    unused_columns,
)
from app.importer.template import write_template
from app.ui import theme
from app.ui.widgets import button, muted

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

log = logging.getLogger("outpost.ui.import")

PAGES = ("file", "columns", "preview", "importing", "summary")
STATUS_HUES = {RowStatus.VALID: "#2e9d5b", RowStatus.INVALID: "#d64545", RowStatus.DUPLICATE: "#d9801a"}
STATUS_LABELS = {RowStatus.VALID: "Valid", RowStatus.INVALID: "Invalid", RowStatus.DUPLICATE: "Duplicate"}
PREVIEW_COLUMNS = ("Row", "Status", "When", "Account", "Text", "Problems")
CELL_COLUMNS = ("Column", "Imports as", "In the file (double-click to fix)", "Problems")
# Which preview column shows a problem found in a spreadsheet field.
_PLACE = {Field.DATE: 2, Field.TIME: 2, Field.TIMEZONE: 2, Field.REPEAT: 2, Field.REPEAT_UNTIL: 2,
          Field.ACCOUNT: 3, Field.PLATFORM: 3, Field.TEXT: 4, Field.MEDIA: 4, Field.ALT_TEXT: 4, Field.FIRST_COMMENT: 4,
          Field.TITLE: 4, Field.STATUS: 1, Field.THREAD: 4, Field.LINK: 4}
WITH_WARNINGS = "warnings"  # the preview filter for valid rows that carry a warning
NOT_IMPORTED = "Not imported"


class _Task(QThread):
    """Runs `work(report, cancelled)` off the GUI thread; results come back as queued signals."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], object],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def run(self) -> None:
        try:
            result = self._work(self.progressed.emit, lambda: self._cancel)
        except OutpostError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown to the person; the detail goes to the log
            log.exception("import task failed")
            self.failed.emit(f"Something went wrong ({type(exc).__name__}); the log has the details.")
        else:
            self.succeeded.emit(result)


class PreviewModel(QAbstractTableModel):
    """Judged rows, coloured by status, filterable; each problem is shown in the cell it concerns."""

    def __init__(self, tz: ZoneInfo, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.all_rows: list[ImportRow] = []
        self.rows: list[ImportRow] = []
        self.filter: RowStatus | str | None = None
        self.account_labels: dict[int, str] = {}
        self._fields_by_label: dict[str, Field] = {}
        pal = QPalette()
        base = pal.color(QPalette.ColorRole.Base)
        self._fills = {s: theme.mix(base, QColor(h), 0.13) for s, h in STATUS_HUES.items()}
        self._strong = {s: theme.mix(base, QColor(h), 0.32) for s, h in STATUS_HUES.items()}
        self._fg = {s: QColor(h).darker(115) for s, h in STATUS_HUES.items()}

    def set_rows(self, rows: list[ImportRow], header_labels: dict[str, Field]) -> None:
        self.beginResetModel()
        self.all_rows = rows
        self._fields_by_label = header_labels
        self.rows = [r for r in rows if self._shown(r)]
        self.endResetModel()

    def set_filter(self, status: RowStatus | str | None) -> None:
        self.beginResetModel()
        self.filter = status
        self.rows = [r for r in self.all_rows if self._shown(r)]
        self.endResetModel()

    def _shown(self, row: ImportRow) -> bool:
        if self.filter == WITH_WARNINGS:
            return bool(row.warnings)
        return self.filter is None or row.status is self.filter

    def replace_row(self, row: ImportRow) -> None:
        """Put a row judged again (after a fix in place) where it was."""
        self.all_rows = [row if r.number == row.number else r for r in self.all_rows]
        for i, r in enumerate(self.rows):
            if r.number == row.number:
                self.rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(PREVIEW_COLUMNS) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(PREVIEW_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return PREVIEW_COLUMNS[section]
        return None

    def _problem_columns(self, row: ImportRow) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for issue in (*row.errors, *row.warnings):
            f = self._fields_by_label.get(issue.column)
            out.setdefault(_PLACE.get(f, 5) if f else 5, []).append(issue.message)
        return out

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            messages = self._problem_columns(row).get(col)
            if col == 5 or messages:
                return "\n".join(str(i) for i in (*row.errors, *row.warnings)) if col == 5 else "\n".join(messages or [])
            return self._text(row, col) if col == 4 else None
        if role == Qt.ItemDataRole.BackgroundRole:
            placed = self._problem_columns(row)
            if col in placed and row.status is not RowStatus.VALID:
                return self._strong[row.status]
            return self._fills[row.status]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return self._fg[row.status]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, row: ImportRow, col: int) -> str:
        if col == 0:
            return str(row.number)
        if col == 1:
            label = STATUS_LABELS[row.status]
            return f"{label} ⚠" if row.warnings and row.status is RowStatus.VALID else label
        spec = row.spec
        if col == 2:
            if spec is not None:
                if spec.scheduled_at is None:
                    return "No date (draft)"
                return f"{spec.scheduled_at.astimezone(ZoneInfo(spec.timezone)):%a %d %b %Y %H:%M}"
            parts = [row.cell(Field.DATE), row.cell(Field.TIME)]
            return " ".join(p for p in parts if p)
        if col == 3:
            if row.account_ids:
                return ", ".join(self.account_labels.get(i, f"#{i}") for i in row.account_ids)
            return row.cell(Field.ACCOUNT) or row.cell(Field.PLATFORM)
        if col == 4:
            text = spec.text if spec is not None else row.cell(Field.TEXT)
            first = text.strip().splitlines()[0] if text.strip() else ""
            return first if len(first) <= 90 else first[:89] + "…"
        if col == 5:
            return "; ".join(i.message for i in (*row.errors, *row.warnings))
        return ""


class ImportDialog(QDialog):
    """Choose or drop a file, check the mapping, preview every row, import in the background."""

    imported = Signal(int)  # the ImportBatch id
    model: PreviewModel

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.setWindowTitle("Import posts")
        self.setObjectName("importDialog")
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 600)
        self.resize(1040, 660)
        self.tz_name = str(getattr(parent, "tz_name", "") or local_zone_name())
        self.sheet: Sheet | None = None
        self.mapping: Mapping | None = None
        self.rows: list[ImportRow] = []
        self.outcome: ImportResult | None = None
        self.task: _Task | None = None
        self._file_dialog: QFileDialog | None = None
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for name, build in (("file", self._build_file), ("columns", self._build_columns),
                            ("preview", self._build_preview), ("importing", self._build_importing),
                            ("summary", self._build_summary)):
            page = build()
            self.pages[name] = page
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        self.title = QLabel()
        self.title.setProperty("role", "title")
        self.title.setStyleSheet("font-size: 17px; font-weight: 600;")
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.show_page("file")

    # -- navigation ---------------------------------------------------------------------------
    @property
    def page(self) -> str:
        return PAGES[self.stack.currentIndex()]

    def show_page(self, name: str) -> None:
        titles = {"file": "Import posts from a spreadsheet", "columns": "Check the columns",
                  "preview": "Preview", "importing": "Importing…", "summary": "Import finished"}
        self.stack.setCurrentWidget(self.pages[name])
        self.title.setText(titles[name])
        if self.sheet is not None and name in ("columns", "preview"):
            self.title.setText(f"{titles[name]} · {self.sheet.path.name}")

    # -- page 1: file -------------------------------------------------------------------------
    def _build_file(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        zone = QFrame()
        zone.setObjectName("dropZone")
        zone.setStyleSheet("QFrame#dropZone { border: 2px dashed palette(mid); border-radius: 10px; }")
        inner = QVBoxLayout(zone)
        inner.addStretch(1)
        self.drop_zone = QLabel("Drop an .xlsx, .ods or .csv file here")
        self.drop_zone.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_zone.setStyleSheet("font-size: 16px;")
        inner.addWidget(self.drop_zone)
        or_label = muted("or")
        or_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(or_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.choose_button = button("Choose a file…", primary=True)
        self.choose_button.clicked.connect(self.choose_file)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        inner.addLayout(row)
        self.file_error = QLabel()
        self.file_error.setWordWrap(True)
        self.file_error.setStyleSheet("color: #d64545;")
        self.file_error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addSpacing(8)
        inner.addWidget(self.file_error)
        inner.addStretch(1)
        v.addWidget(zone, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(muted("Columns are recognised by name (Date, Time, Text, Account, Platform, Media, First "
                               "comment, Repeat…, as Publer, PostFast and other schedulers name them). Excel dates, "
                               "ISO 8601 and day/month dates are understood. Nothing is imported before the preview."),
                         1)
        self.template_button = button("Download template…")
        self.template_button.setToolTip("An .xlsx with the columns, an example row and drop-down lists")
        self.template_button.clicked.connect(self.choose_template_path)
        bottom.addWidget(self.template_button, 0, Qt.AlignmentFlag.AlignTop)
        v.addLayout(bottom)
        return page

    def choose_file(self) -> None:
        dialog = QFileDialog(self, "Choose a spreadsheet", str(Path.home()), "Spreadsheets (*.xlsx *.ods *.csv *.tsv *.txt)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.load_file)
        self._file_dialog = dialog
        dialog.open()

    def choose_template_path(self) -> None:
        dialog = QFileDialog(self, "Save the import template", str(Path.home() / "outpost-import-template.xlsx"),
                             "Excel workbook (*.xlsx)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("xlsx")
        dialog.fileSelected.connect(self.save_template)
        self._file_dialog = dialog
        dialog.open()

    def save_template(self, path: str | Path) -> Path:
        target = Path(path)
        write_template(target, accounts_of(self.runtime), self.tz_name, self.runtime.clock())
        self.file_error.setStyleSheet("")
        self.file_error.setText(f"Template saved to {target}.")
        return target

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if self.page == "file" and urls and urls[0].toLocalFile().lower().endswith((".xlsx", ".ods", ".csv", ".tsv", ".txt")):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            event.acceptProposedAction()
            self.load_file(urls[0].toLocalFile())

    def load_file(self, path: str | Path) -> None:
        """Read the file in the background, then show the column mapping (or say why not)."""
        self.file_error.setStyleSheet("color: #d64545;")
        self.file_error.setText("Reading…")
        self.choose_button.setEnabled(False)
        self._run(lambda _report, _cancelled: open_sheet(Path(path)), self._file_read, self._file_refused)

    def _file_refused(self, message: str) -> None:
        self.choose_button.setEnabled(True)
        self.file_error.setText(message)
        self.show_page("file")

    def _file_read(self, sheet: object) -> None:
        assert isinstance(sheet, Sheet)
        self.choose_button.setEnabled(True)
        self.file_error.setText("")
        self.sheet = sheet
        self.mapping = sheet.mapping
        self._fill_columns()
        self.show_page("columns")

    # -- page 2: columns ----------------------------------------------------------------------
    def _build_columns(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.columns_note = muted()
        v.addWidget(self.columns_note)
        self.column_table = QTableWidget(0, 3)
        self.column_table.setHorizontalHeaderLabels(["Column in the file", "First value", "Imports as"])
        self.column_table.verticalHeader().setVisible(False)
        self.column_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.column_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.column_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 190)
        self.column_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        v.addWidget(self.column_table, 1)
        form = QFormLayout()
        self.zone_box = QComboBox()
        self.zone_box.setEditable(True)
        self.zone_box.addItems([*sorted(z for z in available_timezones() if "/" in z), "UTC"])
        self.zone_box.setCurrentText(self.tz_name)
        form.addRow("Dates without a time zone are in", self.zone_box)
        self.order_box = QComboBox()
        self.order_box.addItem("Decide from the file (ask when unclear)", DateOrder.UNKNOWN)
        self.order_box.addItem("Day first: 03/04 is 3 April", DateOrder.DAY_FIRST)
        self.order_box.addItem("Month first: 03/04 is 4 March", DateOrder.MONTH_FIRST)
        form.addRow("Dates like 03/04/2026", self.order_box)
        self.account_box = QComboBox()
        form.addRow("Rows without an account go to", self.account_box)
        time_row = QHBoxLayout()
        self.default_time_check = QCheckBox("Schedule them at")
        self.default_time_edit = QTimeEdit(QTime(9, 0))
        self.default_time_edit.setDisplayFormat("HH:mm")
        self.default_time_edit.setEnabled(False)
        self.default_time_check.toggled.connect(self.default_time_edit.setEnabled)
        time_row.addWidget(self.default_time_check)
        time_row.addWidget(self.default_time_edit)
        time_row.addWidget(muted("otherwise such rows are marked invalid", wrap=False))
        time_row.addStretch(1)
        form.addRow("Dates without a time of day", time_row)
        v.addLayout(form)
        self.columns_error = QLabel()
        self.columns_error.setStyleSheet("color: #d64545;")
        self.columns_error.setWordWrap(True)
        v.addWidget(self.columns_error)
        buttons = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(lambda: self.show_page("file"))
        buttons.addWidget(back)
        buttons.addStretch(1)
        self.preview_button = button("Preview rows", primary=True)
        self.preview_button.clicked.connect(self.build_preview)
        buttons.addWidget(self.preview_button)
        v.addLayout(buttons)
        return page

    def _fill_columns(self) -> None:
        sheet, mapping = self.sheet, self.mapping
        assert sheet is not None and mapping is not None
        names = sheet.header.names
        first = sheet.data[0][1] if sheet.data else ()
        self.column_table.setRowCount(len(names))
        self.field_boxes: list[QComboBox] = []
        for i in range(1, len(names) + 1):
            self.column_table.setCellWidget(i - 1, 0, QLabel(f"  {sheet.header.label(i)}  "))
            sample = first[i - 1] if i - 1 < len(first) else None
            text = display_value(sample).replace("\n", " ⏎ ")
            self.column_table.setCellWidget(i - 1, 1, muted(f"  {text[:80]}", wrap=False))
            box = QComboBox()
            box.addItem(NOT_IMPORTED, None)
            for f in Field:
                box.addItem(f.value, f)
            chosen = mapping.field_of(i)
            box.setCurrentIndex(box.findData(chosen) if chosen else 0)
            box.setToolTip("\n".join(f"{f.value}: {f.help}" for f in Field))
            # Qt hands enum data back as plain str: turn it back into a Field.
            box.currentIndexChanged.connect(
                lambda _i, col=i, b=box: self._remap(col, Field(b.currentData()) if b.currentData() else None))
            self.column_table.setCellWidget(i - 1, 2, box)
            self.field_boxes.append(box)
        self.column_table.resizeRowsToContents()
        self._refresh_column_notes()
        self.account_box.clear()
        self.account_box.addItem("No default: every row names its account", None)
        for a in self.runtime.planner.accounts():
            self.account_box.addItem(f"{a.display_name or a.handle} ({a.platform.label})", a.id)
        has_account = Field.ACCOUNT in mapping.columns or Field.PLATFORM in mapping.columns
        default = None if has_account else self.runtime.planner.default_account_id()
        self.account_box.setCurrentIndex(max(0, self.account_box.findData(default)))
        if needs_date_order(sheet, mapping):
            self.columns_error.setText("Some dates read differently day-first and month-first: choose the order.")
        else:
            self.columns_error.setText("")

    def _refresh_column_notes(self) -> None:
        sheet, mapping = self.sheet, self.mapping
        assert sheet is not None and mapping is not None
        if sheet.layout:
            notes = [f"Read as a {sheet.layout}; {len(sheet.data)} rows."]
        else:
            notes = [f"Header found on row {sheet.header.row} of sheet “{sheet.table.sheet}”; "
                     f"{len(sheet.data)} rows below it."]
        unresolved = ", ".join(f.value for f in mapping.unresolved)
        if unresolved:
            notes.append(f"Several columns could be {unresolved}: choose one.")
        notes.extend(sheet.table.notes)
        notes.extend(unused_columns(sheet, mapping, cli=False))
        self.columns_note.setText(" ".join(notes))

    def _remap(self, column: int, f: Field | None) -> None:
        assert self.mapping is not None
        if f is None:
            self.mapping = self.mapping.without_column(column)
        else:
            self.mapping = self.mapping.with_column(f, column)
        for i, box in enumerate(self.field_boxes, start=1):  # a field feeds from one column only
            wanted = self.mapping.field_of(i)
            index = box.findData(wanted) if wanted else 0
            if box.currentIndex() != index:
                box.blockSignals(True)
                box.setCurrentIndex(index)
                box.blockSignals(False)
        self._refresh_column_notes()

    def options(self) -> ImportOptions:
        chosen = self.default_time_edit.time()
        return ImportOptions(timezone=self.zone_box.currentText().strip() or self.tz_name,
                             date_order=DateOrder(self.order_box.currentData()),
                             default_account_id=self.account_box.currentData(),
                             default_time=time(chosen.hour(), chosen.minute()) if self.default_time_check.isChecked()
                             else None)

    def build_preview(self) -> None:
        assert self.sheet is not None and self.mapping is not None
        if Field.TEXT not in self.mapping.columns and Field.MEDIA not in self.mapping.columns:
            self.columns_error.setText("Choose the column that holds the posts (Text).")
            return
        try:
            options = self.options()
            ZoneInfo(options.timezone)
        except (ValueError, KeyError):
            self.columns_error.setText(f"Unknown time zone {self.zone_box.currentText()!r}.")
            return
        sheet, mapping = self.sheet, self.mapping
        for account in self.runtime.planner.accounts():  # adapters are made here, on the GUI thread
            try:
                self.runtime.adapter(account.platform)
            except ValueError:
                continue
        self.preview_button.setEnabled(False)
        self.columns_error.setText("Checking every row…")
        self._run(lambda _r, _c: judge(self.runtime, sheet, mapping, options), self._judged, self._judge_failed)

    def _judge_failed(self, message: str) -> None:
        self.preview_button.setEnabled(True)
        self.columns_error.setText(message)

    def _judged(self, rows: object) -> None:
        assert isinstance(rows, list) and self.sheet is not None and self.mapping is not None
        self.preview_button.setEnabled(True)
        self.columns_error.setText("")
        self.rows = rows
        labels = {self.sheet.header.label(c): f for f, c in self.mapping.columns.items()}
        for c in self.mapping.more_media:
            labels[self.sheet.header.label(c)] = Field.MEDIA
        self.model.account_labels = {a.id: a.handle for a in self.runtime.planner.accounts()}
        self.model.set_rows(rows, labels)
        self.row_detail.setText("Select a row to read its problems in full.")
        self._update_counts()
        self.show_page("preview")

    # -- page 3: preview ----------------------------------------------------------------------
    def _build_preview(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        bar = QHBoxLayout()
        self.filter_group = QButtonGroup(page)
        self.filter_buttons: dict[RowStatus | str | None, QPushButton] = {}
        for status in (None, RowStatus.VALID, RowStatus.INVALID, RowStatus.DUPLICATE, WITH_WARNINGS):
            b = QPushButton()
            b.setCheckable(True)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            if isinstance(status, RowStatus):
                b.setStyleSheet(f"QPushButton {{ border-left: 4px solid {STATUS_HUES[status]}; padding: 4px 10px; }}")
            elif status == WITH_WARNINGS:
                b.setStyleSheet("QPushButton { border-left: 4px solid #c9a227; padding: 4px 10px; }")
            self.filter_group.addButton(b)
            b.clicked.connect(lambda _c=False, s=status: self.model.set_filter(s))
            self.filter_buttons[status] = b
            bar.addWidget(b)
        self.filter_buttons[None].setChecked(True)
        bar.addStretch(1)
        self.copy_button = button("Copy the problem list", flat=True)
        self.copy_button.setToolTip("Every invalid or duplicate row with its column, value and reason, "
                                    "as tab-separated text to paste into a spreadsheet")
        self.copy_button.clicked.connect(self.copy_problems)
        bar.addWidget(self.copy_button)
        v.addLayout(bar)
        self.model = PreviewModel(ZoneInfo(self.tz_name), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(False)
        h = self.table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Interactive,
                                    QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Stretch)):
            h.setSectionResizeMode(col, mode)
        h.resizeSection(3, 150)
        h.resizeSection(4, 260)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        below = QWidget()
        bv = QVBoxLayout(below)
        bv.setContentsMargins(0, 4, 0, 0)
        bv.setSpacing(4)
        self.row_detail = muted()
        self.row_detail.setWordWrap(True)
        self.row_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bv.addWidget(self.row_detail)
        # The selected row's cells as the file holds them; a wrong value is fixed here, in place.
        self.cells_table = QTableWidget(0, len(CELL_COLUMNS))
        self.cells_table.setHorizontalHeaderLabels(list(CELL_COLUMNS))
        self.cells_table.verticalHeader().setVisible(False)
        self.cells_table.setWordWrap(False)
        self.cells_table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                         | QAbstractItemView.EditTrigger.EditKeyPressed
                                         | QAbstractItemView.EditTrigger.AnyKeyPressed)
        ch = self.cells_table.horizontalHeader()
        ch.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        ch.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        ch.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        ch.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        ch.resizeSection(2, 320)
        self.cells_table.itemChanged.connect(self._cell_edited)
        bv.addWidget(self.cells_table, 1)
        split.addWidget(below)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        v.addWidget(split, 1)
        self.table.selectionModel().currentRowChanged.connect(self._show_row_detail)
        choices = QFrame()
        grid = QHBoxLayout(choices)
        grid.setContentsMargins(0, 6, 0, 0)
        self.valid_only = QRadioButton("Import the valid rows")
        self.all_or_nothing = QRadioButton("All or nothing")
        self.valid_only.setChecked(True)
        mode_group = QButtonGroup(choices)
        mode_group.addButton(self.valid_only)
        mode_group.addButton(self.all_or_nothing)
        self.as_scheduled = QRadioButton("Schedule them")
        self.as_drafts = QRadioButton("Save as drafts")
        self.as_scheduled.setChecked(True)
        kind_group = QButtonGroup(choices)
        kind_group.addButton(self.as_scheduled)
        kind_group.addButton(self.as_drafts)
        for w in (self.valid_only, self.all_or_nothing):
            grid.addWidget(w)
        grid.addSpacing(24)
        for w in (self.as_scheduled, self.as_drafts):
            grid.addWidget(w)
        grid.addStretch(1)
        v.addWidget(choices)
        self.all_or_nothing.toggled.connect(lambda _on: self._update_counts())
        buttons = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(lambda: self.show_page("columns"))
        buttons.addWidget(back)
        self.preview_error = QLabel()
        self.preview_error.setStyleSheet("color: #d64545;")
        buttons.addWidget(self.preview_error, 1)
        self.import_button = button("Import", primary=True)
        self.import_button.clicked.connect(self.start_import)
        buttons.addWidget(self.import_button)
        v.addLayout(buttons)
        return page

    def _show_row_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= len(self.model.rows):
            self.row_detail.setText("Select a row to read its problems in full.")
            self._fill_cells(None)
            return
        row = self.model.rows[current.row()]
        issues = [str(i) for i in (*row.errors, *row.warnings)]
        self.row_detail.setText(f"Row {row.number}: " + (" · ".join(issues) if issues else "ready to import."))
        self._fill_cells(row)

    def _fill_cells(self, row: ImportRow | None) -> None:
        """Every cell of the selected row as the file holds it, each with its own problems."""
        self._filling = True
        try:
            self.cells_table.setRowCount(0)
            if row is None or self.sheet is None or self.mapping is None:
                return
            sheet, mapping = self.sheet, self.mapping
            cells = self.sheet_cells(row.number)
            self.cells_table.setRowCount(len(sheet.header.names))
            for i in range(1, len(sheet.header.names) + 1):
                label = sheet.header.label(i)
                f = mapping.field_of(i)
                problems = [i_.message for i_ in (*row.errors, *row.warnings) if i_.column == label]
                value = display_value(cells[i - 1]) if i - 1 < len(cells) else ""
                items = (QTableWidgetItem(label), QTableWidgetItem(f.value if f else NOT_IMPORTED),
                         QTableWidgetItem(value), QTableWidgetItem(" · ".join(problems)))
                for col, item in enumerate(items):
                    if col != 2:
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    if problems and row.status is not RowStatus.VALID:
                        item.setForeground(QColor(STATUS_HUES[RowStatus.INVALID]))
                    self.cells_table.setItem(i - 1, col, item)
                items[2].setToolTip(value + "\n\nDouble-click to fix the value; the row is checked again.")
                items[2].setData(Qt.ItemDataRole.UserRole, (row.number, i))
            self.cells_table.resizeRowsToContents()
        finally:
            self._filling = False

    def sheet_cells(self, number: int) -> tuple[Any, ...]:
        assert self.sheet is not None
        for n, cells in self.sheet.table.rows:
            if n == number:
                return cells
        return ()

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        if getattr(self, "_filling", False) or item.column() != 2:
            return
        where = item.data(Qt.ItemDataRole.UserRole)
        if where:
            self.fix_cell(where[0], where[1], item.text())

    def fix_cell(self, number: int, column: int, text: str) -> None:
        """Replace one cell of the file's row `number` (in memory; the file is left alone) and
        judge the rows again, so the fix shows at once."""
        assert self.sheet is not None
        rows = self.sheet.table.rows
        for index, (n, cells) in enumerate(rows):
            if n == number:
                values = list(cells) + [None] * max(0, column - len(cells))
                values[column - 1] = text if text.strip() else None
                rows[index] = (n, tuple(values))
                break
        self._fixed_row = number
        self.preview_error.setStyleSheet("")
        self.preview_error.setText(f"Checking row {number} again…")
        sheet, mapping, options = self.sheet, self.mapping, self.options()
        assert mapping is not None
        self._run(lambda _r, _c: judge(self.runtime, sheet, mapping, options), self._rejudged, self._import_refused)

    def _rejudged(self, rows: object) -> None:
        assert isinstance(rows, list) and self.sheet is not None and self.mapping is not None
        self.rows = rows
        labels = {self.sheet.header.label(c): f for f, c in self.mapping.columns.items()}
        for c in self.mapping.more_media:
            labels[self.sheet.header.label(c)] = Field.MEDIA
        self.model.set_rows(rows, labels)
        self._update_counts()
        number = getattr(self, "_fixed_row", None)
        for i, r in enumerate(self.model.rows):
            if r.number == number:
                self.table.selectRow(i)
                self.table.selectionModel().setCurrentIndex(self.model.index(i, 0),
                                                            QItemSelectionModel.SelectionFlag.NoUpdate)
                self._show_row_detail(self.model.index(i, 0), QModelIndex())
                self.preview_error.setStyleSheet("")
                self.preview_error.setText(f"Row {number} checked again: {STATUS_LABELS[r.status].lower()}.")
                break

    def problem_list(self) -> str:
        """Tab-separated: one line per problem of every row that will not be imported."""
        lines = ["Row\tStatus\tColumn\tValue\tProblem"]
        for row in self.rows:
            if row.status is RowStatus.VALID:
                continue
            for issue in row.errors:
                cells = (str(row.number), row.status.value, issue.column, issue.value, issue.message)
                lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells))
        return "\n".join(lines) + "\n"

    def copy_problems(self) -> None:
        QApplication.clipboard().setText(self.problem_list())
        self.preview_error.setStyleSheet("")
        self.preview_error.setText("Problem list copied: paste it into a spreadsheet.")

    def counts(self) -> dict[RowStatus, int]:
        return {s: sum(r.status is s for r in self.rows) for s in RowStatus}

    def _update_counts(self) -> None:
        c = self.counts()
        self.filter_buttons[None].setText(f"All {len(self.rows)}")
        for s in RowStatus:
            self.filter_buttons[s].setText(f"{STATUS_LABELS[s]} {c[s]}")
        warned = sum(1 for r in self.rows if r.warnings)
        self.filter_buttons[WITH_WARNINGS].setText(f"With warnings {warned}")
        self.filter_buttons[WITH_WARNINGS].setToolTip("Rows that will be imported but deserve a look "
                                                     "(a time moved by a clock change, a merged cell, odd bytes…)")
        valid = c[RowStatus.VALID]
        blocked = self.all_or_nothing.isChecked() and valid < len(self.rows)
        self.import_button.setEnabled(valid > 0 and not blocked)
        self.import_button.setText(f"Import {valid} post{'s' if valid != 1 else ''}")
        self.preview_error.setStyleSheet("color: #d64545;")
        if blocked:
            self.preview_error.setText(f"{len(self.rows) - valid} rows have problems: with “All or nothing” "
                                       "nothing can be imported.")
        elif valid == 0:
            self.preview_error.setText("No row can be imported yet; fix the file and choose it again.")
        else:
            self.preview_error.setText("")

    # -- page 4: importing --------------------------------------------------------------------
    def _build_importing(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(1)
        self.progress_label = QLabel("Importing…")
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        v.addWidget(self.progress_label)
        self.progress = QProgressBar()
        v.addWidget(self.progress)
        v.addSpacing(8)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = button("Cancel")
        self.cancel_button.clicked.connect(self.cancel_import)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(1)
        return page

    def start_import(self) -> None:
        rows = list(self.rows)
        name = self.sheet.path.name if self.sheet else "spreadsheet"
        all_or_nothing, as_drafts = self.all_or_nothing.isChecked(), self.as_drafts.isChecked()
        self.progress.setRange(0, max(1, self.counts()[RowStatus.VALID]))
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.show_page("importing")

        def work(report: Callable[[int, int], None], cancelled: Callable[[], bool]) -> ImportResult:
            return commit(self.runtime, rows, source_name=name, all_or_nothing=all_or_nothing,
                          as_drafts=as_drafts, progress=report, cancelled=cancelled)

        self._run(work, self._import_done, self._import_refused, progress=self._progressed)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress_label.setText(f"Imported {done} of {total}…")

    def cancel_import(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling: taking back what was imported…")

    def _import_refused(self, message: str) -> None:
        self.preview_error.setText(message)
        self.show_page("preview")

    def _import_done(self, result: object) -> None:
        assert isinstance(result, ImportResult)
        self.outcome = result
        if result.cancelled:
            self.summary_label.setText("The import was cancelled; nothing was imported.")
            self.undo_button.setVisible(False)
        else:
            skipped = len(self.rows) - result.imported
            lines = [f"Imported {result.imported} post{'s' if result.imported != 1 else ''} "
                     f"as {'drafts' if self.as_drafts.isChecked() else 'scheduled posts'}."]
            if skipped:
                lines.append(f"{skipped} row{'s were' if skipped != 1 else ' was'} skipped (invalid or duplicate).")
            for number, reason in sorted(result.refused.items()):
                lines.append(f"Row {number}: {reason}")
            lines.append("You can take the whole import back in one step.")
            self.summary_label.setText("\n".join(lines))
            self.undo_button.setVisible(True)
            self.undo_button.setEnabled(True)
            if result.batch_id is not None:
                self.imported.emit(result.batch_id)
        self.show_page("summary")

    # -- page 5: summary ----------------------------------------------------------------------
    def _build_summary(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(1)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary_label.setStyleSheet("font-size: 14px;")
        v.addWidget(self.summary_label)
        v.addSpacing(14)
        row = QHBoxLayout()
        row.addStretch(1)
        self.undo_button = button("Undo this import", danger=True)
        self.undo_button.clicked.connect(self.undo_import)
        close = button("Close", primary=True)
        close.clicked.connect(self.accept)
        row.addWidget(self.undo_button)
        row.addWidget(close)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(1)
        return page

    def undo_import(self) -> None:
        if self.outcome is None or self.outcome.batch_id is None:
            return
        outcome = undo(self.runtime, self.outcome.batch_id)
        kept = f" {outcome.kept} already published stayed." if outcome.kept else ""
        self.summary_label.setText(f"Import undone: {outcome.deleted} post{'s' if outcome.deleted != 1 else ''} "
                                   f"removed.{kept}")
        self.undo_button.setEnabled(False)

    # -- background work ----------------------------------------------------------------------
    def _run(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], object],
             done: Callable[[object], None], refused: Callable[[str], None],
             progress: Callable[[int, int], None] | None = None) -> None:
        task = _Task(work, self)
        task.succeeded.connect(done)
        task.failed.connect(refused)
        if progress is not None:
            task.progressed.connect(progress)
        task.finished.connect(lambda: self._task_finished(task))
        self.task = task
        task.start()

    def _task_finished(self, task: _Task) -> None:
        if self.task is task:
            self.task = None
        task.deleteLater()

    def busy(self) -> bool:
        return self.task is not None and self.task.isRunning()

    def reject(self) -> None:
        if self.busy():  # Escape or the close button while importing means Cancel
            self.cancel_import()
            return
        super().reject()
