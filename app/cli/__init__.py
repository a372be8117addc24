"""`outpost`: the window with no command; the same store and engine from a terminal otherwise.

Exit codes: 0 done, 2 the input was refused (one line says what to fix; nothing was written),
1 something unexpected (details in the log file).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import app
from app.core.errors import OutpostError

# Each module adds its commands with `register(subparsers)`.
COMMAND_MODULES = [
    "app.cli.accounts",
    "app.cli.posts",
    "app.cli.service",
    "app.cli.selftest",
    "app.cli.transfer",
    "app.cli.maintenance",
]

log = logging.getLogger("outpost.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outpost",
        description="Plan, schedule and publish social-media posts from your own computer.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    parser.add_argument("--data-dir", metavar="DIR", help="where Outpost keeps its data (default: your user data folder; "
                        "OUTPOST_DATA_DIR also sets it)")
    parser.add_argument("--background", action="store_true",
                        help="with no command: start in the tray without showing the window (used at login)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


class _VersionAction(argparse.Action):
    """--version, with the version looked up only when asked (it costs start-up time)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(f"outpost {app.__version__}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    from app.store.paths import resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    if args.command is None:
        from app.ui.launch import run as run_gui

        return run_gui(data_dir, args_list)
    handler: Callable[[argparse.Namespace, Path], int] = args.handler
    try:
        return handler(args, data_dir)
    except OutpostError as exc:
        print(f"outpost: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main_gui() -> int:
    return main([])


@contextmanager
def open_runtime(data_dir: Path, **kwargs: Any) -> Iterator[Any]:
    """A runtime for a command that edits posts but does not publish (no data-dir lock)."""
    from app.engine.runtime import Runtime

    runtime = Runtime.open(data_dir, exclusive=False, **kwargs)
    try:
        yield runtime
    finally:
        runtime.close()


def print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))
