"""Check that the installer material names the app the way build.spec and the app do.

    python packaging/check_consistency.py

build.spec reads packaging/metadata.py; the Inno Setup script, the .desktop file and the
app's own autostart code cannot, so they repeat a few names. This script fails (exit 1,
one line per mismatch) when one of them drifts.
"""

from __future__ import annotations

import configparser
import plistlib
import re
import sys
from pathlib import Path

import metadata

ROOT = metadata.ROOT


def _iss_defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define (\w+) "([^"]*)"', text, flags=re.MULTILINE))


def _iss_setup(text: str) -> dict[str, str]:
    section = text.split("[Setup]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r"^(\w+)=(.*)$", section, flags=re.MULTILINE))


def _python_constants(path: Path) -> dict[str, str]:
    return dict(re.findall(r'^([A-Z_]+) = "([^"]*)"$', path.read_text(encoding="utf-8"), flags=re.MULTILINE))


def problems() -> list[str]:
    meta = metadata.read()
    found: list[str] = []

    def expect(what: str, actual: object, wanted: object) -> None:
        if actual != wanted:
            found.append(f"{what} is {actual!r}, expected {wanted!r}")

    iss_text = (ROOT / "packaging" / "windows" / "outpost.iss").read_text(encoding="utf-8")
    defines, setup = _iss_defines(iss_text), _iss_setup(iss_text)
    expect("outpost.iss AppName", defines.get("AppName"), meta.display_name)
    expect("outpost.iss AppExeName", defines.get("AppExeName"), f"{meta.name}.exe")
    expect("outpost.iss AppMutexName", defines.get("AppMutexName"), meta.bundle_id)
    expect("outpost.iss DistDir", defines.get("DistDir", "").split("\\")[-1], meta.name)
    setup_icon = (ROOT / "packaging" / "windows" / setup.get("SetupIconFile", "").replace("\\", "/")).resolve()
    if not setup_icon.is_file():
        found.append(f"outpost.iss SetupIconFile points at a missing file: {setup_icon}")

    desktop_path = ROOT / "packaging" / "linux" / f"{meta.bundle_id}.desktop"
    if not desktop_path.is_file():
        found.append(f"missing {desktop_path.relative_to(ROOT)} (named after the bundle id)")
    else:
        desktop = configparser.ConfigParser(interpolation=None)
        desktop.optionxform = str  # type: ignore[assignment,method-assign]
        desktop.read(desktop_path, encoding="utf-8")
        entry = desktop["Desktop Entry"]
        expect(".desktop Name", entry.get("Name"), meta.display_name)
        expect(".desktop Exec", entry.get("Exec"), meta.name)
        expect(".desktop Icon", entry.get("Icon"), meta.bundle_id)
        expect(".desktop StartupWMClass (the X11 WM_CLASS class Qt sets)", entry.get("StartupWMClass"), meta.display_name)

    autostart = ROOT / "app" / "ui" / "autostart.py"
    if autostart.is_file():
        constants = _python_constants(autostart)
        expect("app/ui/autostart.py APP_ID", constants.get("APP_ID"), meta.bundle_id)
        expect("app/ui/autostart.py RUN_VALUE (the Windows Run value the installer writes)",
               constants.get("RUN_VALUE"), meta.display_name)

    with (ROOT / "packaging" / "macos" / "entitlements.plist").open("rb") as f:
        if not isinstance(plistlib.load(f), dict):
            found.append("packaging/macos/entitlements.plist is not a dictionary")
    for needed in ("resources/outpost.ico", "resources/outpost.icns", "resources/icons/app/outpost-256.png"):
        if not (ROOT / needed).is_file():
            found.append(f"{needed} is missing: run python packaging/make_icons.py")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"mismatch: {problem}")
    if not found:
        print("packaging material agrees with pyproject.toml and app/__init__.py")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
