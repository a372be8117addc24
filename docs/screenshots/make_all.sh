#!/usr/bin/env bash
# The README's screenshots: light at 1280x800, dark, and 200 % on a 1920x1080 screen.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
"$PY" docs/screenshots/make_screenshots.py
"$PY" docs/screenshots/make_screenshots.py --dark
"$PY" docs/screenshots/make_screenshots.py --scale 2
