"""`outpost`: the window with no command; the same store and engine from a terminal otherwise.

Exit codes: 0 done, 2 the input was refused (one line says what to fix; nothing was written),
1 something unexpected (details in the log file).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
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


class OutpostArgumentParser(argparse.ArgumentParser):
    """argparse with refusals in one line (no usage block), so a script reads exactly what to fix."""

    def error(self, message: str) -> Any:  # argparse's own signature returns NoReturn
        print(f"{self.prog}: {_one_line(message)}. See `{self.prog} --help`.", file=sys.stderr)
        self.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OutpostArgumentParser(
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
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # a refusal (2), or --help / --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    from app.store.paths import resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    if args.command is None:
        from app.ui.launch import run as run_gui

        return run_gui(data_dir, args_list)
    handler: Callable[[argparse.Namespace, Path], int] = args.handler
    try:
        refusal = data_dir_problem(data_dir)
        if refusal:
            raise OutpostError(refusal)
        return handler(args, data_dir)
    except OutpostError as exc:
        print(f"outpost: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the details go to the log file; the terminal gets one line
        _log_unexpected(data_dir, str(args.command))
        from app.core.redact import redact

        print(f"outpost: unexpected error ({type(exc).__name__}: {_one_line(redact(str(exc)))[:200]}); "
              f"details are in {data_dir / 'logs' / 'outpost.log'}.", file=sys.stderr)
        return 1


def _log_unexpected(data_dir: Path, command: str) -> None:
    """The traceback into the data folder's log file, never onto the terminal (Python's last-resort
    handler would print it there when the failure came before logging was set up)."""
    if not any(getattr(h, "_outpost", False) for h in logging.getLogger().handlers):
        from app.engine.logsetup import setup_logging

        try:
            setup_logging(data_dir / "logs")
        except OSError:
            return
    log.exception("outpost %s failed", command)


def _one_line(text: str) -> str:
    from app.core.redact import for_terminal

    return for_terminal(text)


def data_dir_problem(data_dir: Path) -> str | None:
    """Why `data_dir` cannot hold Outpost's data (checked before anything is written), or None."""
    probe = data_dir
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return (f"Cannot keep data in {data_dir}: {probe} is not a folder. "
                "Choose another folder with --data-dir.")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "the folder" if probe == data_dir else f"its parent {probe}"
        return (f"Cannot keep data in {data_dir}: {what} is not writable. "
                "Choose another folder with --data-dir.")
    return None


# --- argument types: each refuses with one line that says what is accepted --------------------

MAX_ID = 2**63 - 1  # SQLite's INTEGER range


def record_id(text: str) -> int:
    """A post or import id as typed on the command line: a whole number SQLite can hold."""
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = -1
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{_one_line(text)[:40]!r} is not an id; ids are whole numbers such as 12 "
                                         "(the list commands show them)")
    return value


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argument type for a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{_one_line(text)[:40]!r} is not a whole number from {low} to {high}")
        return value

    parse.__name__ = "whole number"
    return parse


def port_number(text: str) -> int:
    return whole_number(1, 65535)(text)


def seconds(low: float, high: float) -> Callable[[str], float]:
    """An argument type for a duration in seconds, finite and within [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{_one_line(text)[:40]!r} is not a number of seconds from "
                                             f"{low:g} to {high:g}")
        return value

    parse.__name__ = "seconds"
    return parse


def zone_name(text: str) -> str:
    """An IANA time zone name such as Europe/Berlin."""
    from app.core.timeutil import zone

    try:
        zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_one_line(str(exc)).rstrip(".")) from None
    return text


def plain_text(text: str) -> str:
    """Text for a post or a name: anything printable; a NUL byte is refused (nothing reads past it)."""
    if "\x00" in text:
        raise argparse.ArgumentTypeError("the text contains a NUL character (\\x00); remove it")
    return text


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
