"""Settings (Ctrl+, ; Outpost › Settings… on macOS): the pages on the left, one shown on the right.

Save checks every page first; one refusal shows that page with its reason and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import OutpostError
from app.ui import icons
from app.ui.settings import window_settings
from app.ui.settings_pages import PAGES, SettingsContext, SettingsPage
from app.ui.widgets import button

if TYPE_CHECKING:
    from app.engine.runtime import Runtime


class SettingsDialog(QDialog):
    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        settings = getattr(parent, "settings", None) or window_settings(runtime.data_dir)
        self.context = SettingsContext(runtime=runtime, window_settings=settings, app=app)
        self.pages: list[SettingsPage] = [page(self.context) for page in PAGES]

        self.index = QListWidget()
        self.index.setObjectName("settingsIndex")
        self.index.setIconSize(QSize(18, 18))
        self.index.setFixedWidth(190)
        self.stack = QStackedWidget()
        for page in self.pages:
            self.index.addItem(QListWidgetItem(icons.icon(page.icon_name), page.title))
            self.stack.addWidget(page)
        self.index.currentRowChanged.connect(self.stack.setCurrentIndex)

        self.problem = QLabel()
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)  # empty until a page refuses a value; it holds the buttons right
        self.save_button = button("Save", "check", primary=True)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        cancel = button("Cancel")
        cancel.clicked.connect(self.reject)

        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self.index)
        body.addWidget(self.stack, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.problem, 1)
        bottom.addWidget(cancel)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 14)
        layout.setSpacing(12)
        layout.addLayout(body, 1)
        layout.addLayout(bottom)

        for page in self.pages:
            page.load()
        self.index.setCurrentRow(0)

    def sizeHint(self) -> QSize:
        return QSize(780, 560)

    def page(self, kind: type[SettingsPage]) -> SettingsPage:
        return next(p for p in self.pages if isinstance(p, kind))

    def show_page(self, title: str) -> None:
        for i, page in enumerate(self.pages):
            if page.title == title:
                self.index.setCurrentRow(i)

    def save(self) -> bool:
        """Check every page, then save them all; on a problem show it and change nothing."""
        for i, page in enumerate(self.pages):
            problem = page.check()
            if problem:
                self.index.setCurrentRow(i)
                self._show_problem(f"{page.title}: {problem}")
                return False
        try:
            for page in self.pages:
                page.save()
        except OutpostError as exc:
            self._show_problem(str(exc))
            return False
        self.context.window_settings.sync()
        self.accept()
        return True

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)

    def reject(self) -> None:
        for page in self.pages:
            page.cancel()
        super().reject()
