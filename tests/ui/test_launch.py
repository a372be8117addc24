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


def test_a_missing_x11_library_is_named_with_its_package_before_qt_aborts(tmp_path, monkeypatch) -> None:
    import ctypes.util
    import sys

    from app.ui import launch

    monkeypatch.setattr(sys, "platform", "linux")
    x11 = {"DISPLAY": ":0"}
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)  # ldconfig knows nothing either
    assert launch.missing_x11_libraries(x11, dirs=(str(tmp_path),)) == [launch.X11_LIBRARIES["libxcb-cursor.so.0"]]
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    assert launch.missing_x11_libraries(x11, dirs=(str(tmp_path),)) == []
    (tmp_path / "libxcb-cursor.so.0").unlink()
    # Not X11: Wayland, offscreen, or no display at all load no xcb plugin.
    for env in ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
                {}):
        assert launch.missing_x11_libraries(env, dirs=(str(tmp_path),)) == []
    assert launch.missing_x11_libraries({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "QT_QPA_PLATFORM": "xcb"},
                                        dirs=(str(tmp_path),))  # xcb asked for explicitly
    monkeypatch.setattr(launch, "missing_x11_libraries", lambda: ["libxcb-cursor0"])
    assert launch.run(tmp_path / "data", []) == launch.EXIT_FAILED
    assert not (tmp_path / "data").exists()  # refused before anything was opened or created



def test_offscreen_with_options_never_opens_a_modal_dialog(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from app.ui import launch

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda _p, title, _m: shown.append(title)))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen:configfile=/tmp/screen.json")
    launch._fatal("Outpost cannot start", "the reason")
    assert shown == []  # a modal box with nobody to close it would hang
    assert "the reason" in capsys.readouterr().err
