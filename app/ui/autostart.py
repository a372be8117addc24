"""Launch at login: the Run key on Windows, a LaunchAgent on macOS, XDG autostart on Linux."""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import sys
from pathlib import Path

APP_ID = "app.outpost.Outpost"
RUN_VALUE = "Outpost"


def launch_command(data_dir: Path | None = None) -> list[str]:
    """How to start Outpost hidden in the tray: the frozen executable, or this Python."""
    command = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app.ui"]
    command.append("--background")
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return command


def _xdg_file() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "autostart" / "outpost.desktop"


def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def is_enabled() -> bool:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run") as key:
                winreg.QueryValueEx(key, RUN_VALUE)
                return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return _launch_agent().exists()
    return _xdg_file().exists()


def set_enabled(on: bool, data_dir: Path | None = None) -> None:
    """Create or remove the login item for this user. Raises OSError when that fails."""
    command = launch_command(data_dir)
    if sys.platform == "win32":
        import winreg

        path = r"Software\Microsoft\Windows\CurrentVersion\Run"
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_SET_VALUE) as key:
            if on:
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, " ".join(f'"{c}"' for c in command))
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, RUN_VALUE)
        return
    if sys.platform == "darwin":
        target = _launch_agent()
        if on:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(plistlib.dumps({
                "Label": APP_ID, "ProgramArguments": command, "RunAtLoad": True, "ProcessType": "Interactive",
            }))
        else:
            target.unlink(missing_ok=True)
        return
    target = _xdg_file()
    if on:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(desktop_entry(command), encoding="utf-8")
    else:
        target.unlink(missing_ok=True)


def desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Outpost\n"
        "Comment=Publishes your scheduled social-media posts\n"
        f"Exec={shlex.join(command)}\n"
        "Icon=outpost\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=20\n"
    )
