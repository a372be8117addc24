"""Small Qt constructors. Keyword properties in PySide6 6.12 constructors (QTimer(singleShot=True))
drop a reference to None each time, which crashes the interpreter at exit; these set them by call.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer


def timer(parent: QObject, interval_ms: int, *, single_shot: bool = False) -> QTimer:
    t = QTimer(parent)
    t.setInterval(interval_ms)
    t.setSingleShot(single_shot)
    return t
