"""Window preferences kept next to the data (so each data dir, and each test, has its own)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings


def window_settings(data_dir: Path) -> QSettings:
    return QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)


def flag(settings: QSettings, key: str, default: bool = False) -> bool:
    value = settings.value(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
