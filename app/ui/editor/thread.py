"""The further parts of a self-thread: each a reply to the one before, counted like the post."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from app.core.text import Measure
from app.store.views import AccountView
from app.ui import icons
from app.ui.editor.counters import AdapterFor, CounterBar, OverLimitHighlighter
from app.ui.widgets import button

MAX_PARTS = 25  # far beyond any sensible thread; keeps a pasted essay from becoming 400 replies


class ThreadPart(QWidget):
    """One reply of the thread: its number, its text, its counters and a remove button."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadPart")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(3)
        head = QHBoxLayout()
        head.setSpacing(6)
        self.number = QLabel()
        self.number.setProperty("role", "muted")
        head.addWidget(self.number)
        head.addStretch(1)
        self.remove = QToolButton()
        self.remove.setIcon(icons.icon("trash"))
        self.remove.setAutoRaise(True)
        self.remove.setToolTip("Remove this part of the thread")
        self.remove.setAccessibleName("Remove this part of the thread")
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))
        head.addWidget(self.remove)
        layout.addLayout(head)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("The next part: posted as a reply to the one above")
        self.text.setFixedHeight(64)
        self.text.setTabChangesFocus(True)
        self.text.setPlainText(text)
        self.highlighter = OverLimitHighlighter(self.text.document())
        self.text.textChanged.connect(self.changed)
        layout.addWidget(self.text)
        self.counters = CounterBar()
        layout.addWidget(self.counters)

    def value(self) -> str:
        return self.text.toPlainText()


class ThreadParts(QWidget):
    """Zero or more replies after the post; "Add to thread" appends one and focuses it."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parts: list[ThreadPart] = []
        self._accounts: list[AccountView] = []
        self._left_out: list[AccountView] = []
        self._adapter_for: AdapterFor | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self.list = QVBoxLayout()
        self.list.setSpacing(6)
        outer.addLayout(self.list)
        row = QHBoxLayout()
        self.add_button = button("Add to thread", "plus", flat=True)
        self.add_button.setToolTip("Add a reply that follows this post, to make a thread")
        self.add_button.clicked.connect(lambda: self.add("", focus=True))
        row.addWidget(self.add_button)
        self.hint = QLabel()
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)  # a narrow editor wraps the hint instead of widening the form
        row.addWidget(self.hint, 1)
        outer.addLayout(row)

    # -- contents ---------------------------------------------------------------------------------
    def set_parts(self, texts: tuple[str, ...]) -> None:
        for part in list(self.parts):
            self._drop(part)
        for text in texts:
            self.add(text)
        self._renumber()

    def values(self) -> tuple[str, ...]:
        """The parts with text, in order (an empty part is left out, never posted blank)."""
        return tuple(p.value() for p in self.parts if p.value().strip())

    def add(self, text: str = "", *, focus: bool = False) -> ThreadPart | None:
        if len(self.parts) >= MAX_PARTS:
            return None
        part = ThreadPart(text)
        part.changed.connect(self._part_changed)
        part.removeRequested.connect(self._remove)
        part.counters.set_accounts(self._accounts, self._adapter_for)
        self.parts.append(part)
        self.list.addWidget(part)
        self._renumber()
        if focus:
            part.text.setFocus(Qt.FocusReason.OtherFocusReason)
        self.changed.emit()
        return part

    def _remove(self, part: ThreadPart) -> None:
        self._drop(part)
        self._renumber()
        self.changed.emit()

    def _drop(self, part: ThreadPart) -> None:
        self.parts.remove(part)
        self.list.removeWidget(part)
        part.hide()
        part.deleteLater()  # Qt keeps ownership: the click that asked for this is still being handled

    def _part_changed(self) -> None:
        self.changed.emit()

    def _renumber(self) -> None:
        total = len(self.parts) + 1
        for i, part in enumerate(self.parts, start=2):
            part.number.setText(f"Part {i} of {total}")
        self.add_button.setEnabled(len(self.parts) < MAX_PARTS)
        self._update_hint()

    def _update_hint(self) -> None:
        if not self.parts:
            self.hint.setText("Each part is posted as a reply to the one before.")
        elif self._left_out:
            names = ", ".join(a.label for a in self._left_out)
            self.hint.setText(f"No threads on {names}: remove the extra parts or that account.")
        else:
            self.hint.setText("")

    # -- counting -----------------------------------------------------------------------------------
    def set_accounts(self, accounts: list[AccountView], adapter_for: AdapterFor | None,
                     supports: Callable[[AccountView], bool]) -> None:
        """Counters for the accounts that take threads; the others are named in the hint."""
        self._accounts = [a for a in accounts if supports(a)]
        self._adapter_for = adapter_for
        for part in self.parts:
            part.counters.set_accounts(self._accounts, adapter_for)
        self._left_out = [a for a in accounts if not supports(a)]
        self._update_hint()

    def update_counters(self) -> list[dict[int, Measure]]:
        results = []
        for part in self.parts:
            measured = part.counters.update_texts(_constant(part.value()))
            overs = [m.over_from for m in measured.values() if m.over_from is not None]
            part.highlighter.set_over_from(min(overs) if overs else None)
            results.append(measured)
        return results


def _constant(text: str) -> Callable[[int], str]:
    """The same text for every account (a thread part has no per-account override)."""
    return lambda _account_id: text
