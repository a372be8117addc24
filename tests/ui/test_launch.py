"""Start-up plumbing: unhandled errors are logged and shown in a non-modal dialog."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui import launch


def test_an_unhandled_error_is_shown_in_a_dialog_and_logged(qapp, qloop, monkeypatch, caplog) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    launch.install_exception_hooks(qloop)
    try:
        raise ValueError("the kiln is too hot")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible() and w.windowTitle() == "Something went wrong"]
    assert len(boxes) == 1 and "the kiln is too hot" in boxes[0].text()
    assert "ValueError" in boxes[0].detailedText()
    assert any("unhandled exception" in r.message for r in caplog.records)
    boxes[0].close()
    qloop.set_exception_handler(None)
