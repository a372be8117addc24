"""Run in a child process by test_window_fits_the_screen: open the window on a screen of the given
size and scale, and print where its parts ended up (logical pixels, window coordinates)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def main() -> None:
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication([])
    from app.engine.runtime import Runtime
    from app.ui import theme
    from app.ui.main_window import MainWindow

    theme.apply(app)
    shot = sys.argv[1] if len(sys.argv) > 1 else ""
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime.open(Path(folder) / "data")
        window = MainWindow(runtime, tz_name="Europe/Berlin")
        window.show()
        for _ in range(5):
            app.processEvents()

        def rect(widget: QWidget) -> list[int]:
            r = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
            return [r.left(), r.top(), r.right(), r.bottom()]

        screen = window.screen().availableGeometry()
        out = {
            "screen": [screen.width(), screen.height()],
            "window": [window.width(), window.height()],
            "minimum": [window.minimumWidth(), window.minimumHeight()],
            "new_post": rect(window.header.new_button),
            "new_post_visible": window.header.new_button.isVisible(),
            "status_bar": rect(window.health),
            "calendar": rect(window.stack),
            "title": window.header.title.text(),
            "title_fits": window.header.title.width() >= window.header.title.fontMetrics().horizontalAdvance(
                window.header.title.text()),
        }
        if shot:
            window.grab().save(shot)
        print(json.dumps(out))
        window._really_quit = True
        window.shutdown()
        window.close()
        runtime.close()


if __name__ == "__main__":
    main()
