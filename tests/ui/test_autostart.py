"""Launch at login writes (and removes) the per-user login item for this platform."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.ui import autostart


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG autostart is the Linux mechanism")
def test_launch_at_login_writes_an_xdg_autostart_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled()
    autostart.set_enabled(True, data_dir=tmp_path / "data")
    entry = (tmp_path / "autostart" / "outpost.desktop").read_text(encoding="utf-8")
    assert autostart.is_enabled()
    assert "--background" in entry and str(tmp_path / "data") in entry
    assert entry.startswith("[Desktop Entry]") and "Type=Application" in entry
    autostart.set_enabled(False)
    assert not autostart.is_enabled()


def test_the_macos_launch_agent_runs_outpost_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import plistlib

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(Path, "home", staticmethod(lambda: tmp_path))
    autostart.set_enabled(True)
    agent = plistlib.loads((tmp_path / "Library" / "LaunchAgents" / f"{autostart.APP_ID}.plist").read_bytes())
    assert agent["RunAtLoad"] is True and "--background" in agent["ProgramArguments"]
    autostart.set_enabled(False)
    assert not autostart.is_enabled()
