"""Nothing is clipped at 1024×700: the window and the editor fit, and every button shows its text."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from app.core.models import Platform
from tests.ui.conftest import ZONE, at_local, local_today, make_post, timedelta

SMALL = (1024, 700)


def _clipped(root: QWidget) -> list[str]:
    """Visible buttons narrower than their text needs, or widgets reaching outside the root."""
    problems = []
    bounds = QRect(0, 0, root.width(), root.height())
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0:
            continue
        if widget.window() is not root:
            continue
        top_left = widget.mapTo(root, widget.rect().topLeft())
        where = QRect(top_left, widget.size())
        scrolled = any(p.inherits("QAbstractScrollArea") for p in _ancestors(widget, root))
        if not scrolled and not bounds.contains(where):
            problems.append(f"{type(widget).__name__} {widget.objectName()!r} reaches outside: {where}")
        needs = widget.minimumSizeHint().width()
        if isinstance(widget, QAbstractButton) and widget.text() and not scrolled and widget.width() < needs:
            problems.append(f"button {widget.text()!r} is {widget.width()} wide, needs {needs}")
        if isinstance(widget, QLabel) and widget.text() and not widget.wordWrap() and not scrolled:
            needed = widget.fontMetrics().horizontalAdvance(widget.text())
            if widget.textFormat().name == "PlainText" and widget.width() + 1 < needed:
                problems.append(f"label {widget.text()!r} is {widget.width()} wide, needs {needed}")
    return problems


def _ancestors(widget: QWidget, root: QWidget) -> list[QWidget]:
    out = []
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        out.append(parent)
        parent = parent.parentWidget()
    return out


def _settle(qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.wait(30)


def test_the_main_window_fits_1024_by_700_in_every_view(qtbot, window, runtime) -> None:
    tomorrow = local_today() + timedelta(days=1)
    post_id = make_post(runtime, at_local(tomorrow, 11), "A post with a long enough text to need eliding " * 3)
    window.resize(*SMALL)
    _settle(qtbot)
    assert (window.width(), window.height()) == SMALL  # no minimum size forces it bigger
    for view in ("month", "week", "agenda", "activity"):
        window.set_view(view)
        _settle(qtbot)
        assert _clipped(window) == [], view
    window.set_view("month")
    window._selection_changed([post_id])  # the details panel takes room from the calendar
    _settle(qtbot)
    assert window.details.isVisible()
    assert _clipped(window) == []


def test_the_editor_fits_1024_by_700_with_every_section_shown(qtbot, window, runtime) -> None:
    planner = runtime.planner
    for platform, handle in ((Platform.BLUESKY, "me.bsky.social"), (Platform.MASTODON, "@me@example.social"),
                             (Platform.THREADS, "me.threads")):
        planner.add_account(platform, handle, display_name="A fairly long display name", timezone=ZONE)
    window.reload()
    editor = window.open_editor()
    for button in editor.account_buttons.values():
        button.setChecked(True)
    editor.text.setPlainText("Hello " * 120)  # over Bluesky's limit: counters and problems are shown
    editor.first_comment.setPlainText("A first comment")
    editor.refresh()
    editor.resize(*SMALL)
    _settle(qtbot)
    assert editor.width() <= SMALL[0] and editor.height() <= SMALL[1]
    assert _clipped(editor) == []
    editor.close()
