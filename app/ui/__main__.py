"""`python -m app.ui [--data-dir DIR] [--background]`: the window without the CLI around it."""

from __future__ import annotations

import argparse
import sys

from app.store.paths import resolve_data_dir
from app.ui.launch import run


def main() -> int:
    parser = argparse.ArgumentParser(prog="outpost-window")
    parser.add_argument("--data-dir", metavar="DIR")
    parser.add_argument("--background", action="store_true", help="start in the tray without showing the window")
    args = parser.parse_args()
    argv = ["--background"] if args.background else []
    return run(resolve_data_dir(args.data_dir), argv)


if __name__ == "__main__":
    sys.exit(main())
