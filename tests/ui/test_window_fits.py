"""The window fits any screen of at least 1280×720 physical pixels, at any scale (issue 13 #7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("width", "height", "scale"), [(1920, 1080, "2"), (1366, 768, "1.25"), (1280, 720, "2"),
                                                          (1280, 720, "1.5")])
def test_the_window_fits_the_screen_at_any_scale(tmp_path: Path, width: int, height: int, scale: str) -> None:
    """Real scaling in a child process (offscreen with a configured screen): every part on screen."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
    shot = tmp_path / f"fit-{width}x{height}@{scale}.png"
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR=scale,
               OUTPOST_DATA_DIR=str(tmp_path / "unused"))
    env.pop("QT_SCREEN_SCALE_FACTORS", None)
    done = subprocess.run([sys.executable, "-m", "tests.ui.fit_probe", str(shot)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    screen_w, screen_h = got["screen"]
    win_w, win_h = got["window"]
    assert win_w <= screen_w and win_h <= screen_h - 24, got  # room for a title bar too
    assert got["minimum"][0] <= screen_w and got["minimum"][1] <= screen_h, got
    assert got["new_post_visible"] and got["new_post"][2] < win_w, got  # "New post" is not cut off
    assert got["status_bar"][3] < win_h and got["status_bar"][1] >= 0, got  # nor the bottom
    calendar = got["calendar"]
    assert calendar[3] - calendar[1] >= 150 and calendar[2] - calendar[0] >= 300, got
    assert got["title_fits"], got
