"""Start-up and shutdown of the window on qasync, in the order desktop-recipes.md §2 gives.

QApplication → (QT_API pinned before qasync is imported) → single-instance hand-over → data-dir
lock → the qasync loop → exception hooks → async main: the runtime (and with it APScheduler)
starts on the running loop; on quit the publisher drains before the loop closes.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # asyncio and traceback are imported after the first paint
    import asyncio
    from types import TracebackType

log = logging.getLogger("outpost.ui")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 3


# Linux libraries Qt's X11 platform plugin loads but a minimal desktop may lack (Qt 6.5+ aborts
# without them), with the package that provides each.
X11_LIBRARIES = {"libxcb-cursor.so.0": "libxcb-cursor0 (Debian, Ubuntu) or xcb-util-cursor (Fedora, Arch)"}
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64",
                "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/local/lib")


def missing_x11_libraries(environ: dict[str, str] | None = None, dirs: tuple[str, ...] = LIBRARY_DIRS) -> list[str]:
    """The packages to install before the window can open on X11; [] when nothing is missing.

    Only X11 matters (Wayland, offscreen and the frozen bundle do not load these); the file check
    costs microseconds, and `ldconfig` (ctypes.util) is asked only when the files are not found.
    """
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0]  # "xcb:option=…" is still X11
    if (sys.platform != "linux" or getattr(sys, "frozen", False) or platform not in ("", "xcb")
            or (not platform and env.get("WAYLAND_DISPLAY")) or not env.get("DISPLAY")):
        return []
    search = [*dirs, *(d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d)]
    missing = []
    for name, package in X11_LIBRARIES.items():
        if any(os.path.exists(os.path.join(d, name)) for d in search):
            continue
        import ctypes.util

        if ctypes.util.find_library(name.removeprefix("lib").split(".so")[0]) is None:
            missing.append(package)
    return missing


def run(data_dir: Path, argv: list[str]) -> int:
    """The `outpost` command without a subcommand: show the window (or hand over and exit)."""
    missing = missing_x11_libraries()
    if missing:
        print("outpost: the window needs a system library that is not installed: " + "; ".join(missing)
              + ". Install it (for example `sudo apt install libxcb-cursor0`), then start Outpost again. "
              "`outpost run` publishes without a window meanwhile.", file=sys.stderr)
        return EXIT_FAILED
    os.environ.setdefault("QT_API", "PySide6")  # qasync reads it at import time
    from PySide6.QtWidgets import QApplication

    from app.ui import single_instance, theme

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("Outpost")
    app.setOrganizationName("Outpost")
    app.setApplicationDisplayName("Outpost")
    app.setQuitOnLastWindowClosed(False)  # the tray keeps publishing with the window closed
    from app.ui import icons

    app.setWindowIcon(icons.app_icon())
    theme.apply(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: theme.apply(app))

    if single_instance.send_to_running(data_dir, "show"):
        print("Outpost is already running; its window was brought to the front.", file=sys.stderr)
        return EXIT_OK

    background = "--background" in argv
    # The window paints first (the calendar grid of this month); the database and the engine,
    # which take most of the start-up, open right after and fill it.
    from app.ui.main_window import MainWindow

    window = MainWindow(data_dir=data_dir)
    if not background:
        window.show()
        app.processEvents()
        window.show_preview()  # this month's posts from a read-only quick read, before the engine loads

    from app.core.errors import OutpostError
    from app.engine.runtime import DataDirLocked, Runtime

    try:
        runtime = Runtime.open(data_dir)
    except DataDirLocked as exc:
        window.hide()
        message = (f"{exc}\n\nIf `outpost run` is publishing in a terminal or as a service, stop it first "
                   "(Ctrl+C, or stop the service); the window then publishes instead.")
        _fatal("Outpost is already publishing", message)
        return EXIT_LOCKED
    except OutpostError as exc:
        window.hide()
        _fatal("Outpost cannot start", str(exc))
        return EXIT_FAILED
    window.attach(runtime)

    mutex = _hold_installer_mutex()  # noqa: F841 - kept alive for the life of the process
    server = single_instance.InstanceServer(data_dir)
    if not server.listen():
        log.warning("single-instance server could not listen: %s", server.server.errorString())

    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        try:
            return loop.run_until_complete(main(app, runtime, server, window, background=background))
        except RuntimeError as exc:  # the Qt loop was ended from outside (session logout)
            log.warning("event loop ended early: %s", exc)
            if runtime.started or runtime.lock.held:
                loop.run_until_complete(runtime.stop())
            return EXIT_OK
        finally:
            server.close()


async def main(app: Any, runtime: Any, server: Any, window: Any, *, background: bool = False) -> int:
    """The app's life on the running loop; returns the exit code after a clean shutdown."""
    import asyncio

    from PySide6.QtWidgets import QSystemTrayIcon

    from app.ui.tray import Tray

    loop = asyncio.get_running_loop()
    quit_event = asyncio.Event()
    install_exception_hooks(loop)
    app.aboutToQuit.connect(quit_event.set)

    await runtime.start()  # recovery, catch-up, and APScheduler on this loop
    window.reload()
    tray: Tray | None = None
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray = Tray(window, runtime)
        tray.quitRequested.connect(quit_event.set)
        tray.show()
        window.tray = tray
        runtime.on_notice(tray.notify)
    else:
        runtime.on_notice(lambda level, title, message: window.toast.show_message(
            f"{title}: {message}", kind="error" if level == "error" else "info"))
    window.quitRequested.connect(quit_event.set)
    server.messageReceived.connect(lambda message: quit_event.set() if message == "quit" else window.bring_to_front())
    if not background or tray is None:
        window.show()
    await quit_event.wait()

    window.shutdown()
    if tray is not None:
        tray.hide()  # before the loop ends, or Windows leaves a ghost icon
    window._really_quit = True
    window.close()
    await runtime.stop()  # drains in-flight publishes, closes the database, releases the lock
    return EXIT_OK


def install_exception_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Log every unhandled exception and show it in a dialog (never a silent failure)."""
    import traceback

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled exception", exc_info=(kind, value, tb))
        show_error_dialog(value, "".join(traceback.format_exception(kind, value, tb)))

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        log.error("unhandled error in the event loop: %s", context.get("message"), exc_info=exc)
        if isinstance(exc, BaseException):
            show_error_dialog(exc, "".join(traceback.format_exception(exc)))

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)


_open_dialogs: list[Any] = []


def show_error_dialog(exc: BaseException, detail: str) -> None:
    """A non-modal dialog (never exec() inside a coroutine) with the details folded away."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        return
    from app.core.redact import redact

    box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong",
                      f"Outpost hit an unexpected problem: {redact(str(exc)) or type(exc).__name__}\n\n"
                      "Your scheduled posts are safe. The details are in the log.")
    box.setDetailedText(redact(detail))
    box.finished.connect(lambda _r: _open_dialogs.remove(box) if box in _open_dialogs else None)
    _open_dialogs.append(box)
    box.open()


def _fatal(title: str, message: str) -> None:
    """Before the loop runs: print, and show a dialog when a display is available."""
    print(f"outpost: {message}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] == "offscreen":  # also "offscreen:configfile=…"
        return
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(None, title, message)  # no loop is running yet, so a modal box is safe


def _hold_installer_mutex() -> object:
    """On Windows, a named mutex the Inno Setup installer's AppMutex waits on while Outpost runs."""
    if sys.platform != "win32":
        return None
    import ctypes

    from app import APP_ID

    return ctypes.windll.kernel32.CreateMutexW(None, False, APP_ID)
