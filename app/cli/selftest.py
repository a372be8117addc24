"""`outpost self-test`: prove that this installation can do its job, from source or frozen.

It opens a throw-away data folder, migrates it, starts Qt (offscreen unless QT_QPA_PLATFORM
says otherwise) with the qasync loop, lets the engine publish a sandbox post due one second
later, and checks the keyring, the bundled resources, the database pragmas, time zones and
the spreadsheet and TLS libraries. One line per check; exit status 0 only if every check
passed. The release workflow runs it inside every frozen build before uploading it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import app

NAME = "self-test"
PUBLISH_TIMEOUT_S = 30.0
# Where the UI and this check find resources: <root>/resources, beside the `app` package
# (the repository root from source, the bundle's _internal folder when frozen).
RESOURCES = Path(app.__file__).resolve().parent.parent / "resources"
MIGRATIONS = Path(app.__file__).resolve().parent / "store" / "migrations"
UNUSABLE_KEYRINGS = ("keyring.backends.fail", "keyring.backends.null")
# The modules each OS's keyring backend loads lazily: a frozen build must carry them.
KEYRING_NATIVE_MODULES = {
    "win32": ("win32ctypes.pywin32.win32cred",),
    "darwin": ("keyring.backends.macOS.api",),
    "linux": ("secretstorage", "jeepney.io.blocking"),
}


class CheckFailed(Exception):
    """A check found a problem; the message says what."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<12}  {self.detail}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="check that this installation works (Qt, database, publishing, keyring, resources)",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    parser.add_argument("--allow-no-keyring", action="store_true",
                        help="pass even without a usable keyring (headless CI has no Secret Service)")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="also write the result lines to FILE (the windowed Windows build has no console)")
    parser.add_argument("--timeout", type=float, default=PUBLISH_TIMEOUT_S, metavar="SECONDS",
                        help=f"how long to wait for the sandbox post to publish (default {PUBLISH_TIMEOUT_S:g})")
    parser.set_defaults(handler=command)


def command(args: argparse.Namespace, _data_dir: Path) -> int:
    """Ignores the user's data folder on purpose: the self-test works in a throw-away one."""
    return run_self_test(allow_no_keyring=args.allow_no_keyring, report=args.report, timeout=args.timeout)


def run_self_test(*, allow_no_keyring: bool = False, report: Path | None = None,
                  timeout: float = PUBLISH_TIMEOUT_S, out: TextIO | None = None) -> int:
    """Run every check, print one line each, and return 0 if all passed, else 1."""
    if report is not None:
        report.write_text("", encoding="utf-8")

    def emit(text: str) -> None:
        stream = out if out is not None else sys.stdout
        if stream is not None:  # None in a windowed Windows build
            print(text, file=stream, flush=True)
        if report is not None:  # line by line, so a crash still leaves the lines before it
            with report.open("a", encoding="utf-8") as f:
                f.write(text + "\n")

    emit(_header())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "PySide6")  # qasync must not pick another binding
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="outpost-self-test-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(tmp) / "data"
        checks: list[tuple[str, Callable[[], str]]] = [
            ("qt", check_qt),
            ("modules", check_modules),
            ("resources", check_resources),
            ("keyring", lambda: check_keyring(allow_no_keyring)),
            ("timezone", check_timezone),
            ("spreadsheet", check_spreadsheet),
            ("tls", check_tls),
            ("engine", lambda: check_engine(data_dir, timeout)),
        ]
        for name, check in checks:
            result = _run_check(name, check)
            results.append(result)
            emit(result.line())
    failed = [r.name for r in results if not r.ok]
    emit(f"self-test {'FAILED: ' + ', '.join(failed) if failed else 'passed'} "
         f"({len(results) - len(failed)} of {len(results)} checks passed)")
    return 1 if failed else 0


def _run_check(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, True, check())
    except CheckFailed as exc:
        return CheckResult(name, False, str(exc))
    except Exception as exc:  # an unexpected error is a failed check with its type, not a crash
        return CheckResult(name, False, f"{type(exc).__name__}: {exc}")


def _header() -> str:
    kind = "frozen build" if getattr(sys, "frozen", False) else "from source"
    return (f"{app.APP_NAME} {app.__version__} self-test: {kind}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}")


# --- checks: each returns a one-line detail or raises CheckFailed -------------------------------


def check_qt() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else app.APP_NAME])
    png = QIcon(str(RESOURCES / "icons" / "app" / "outpost-256.png"))
    svg = QIcon(str(RESOURCES / "icon.svg"))
    if png.isNull() or png.pixmap(64, 64).isNull():
        raise CheckFailed("Qt cannot load the PNG app icon (imageformats plugins missing?)")
    if svg.isNull() or svg.pixmap(64, 64).isNull():
        raise CheckFailed("Qt cannot render the SVG icon (iconengines/imageformats svg plugins missing?)")
    return f"Qt {pyside_version} on the {qapp.platformName()} platform, widgets, PNG and SVG icons"  # type: ignore[attr-defined]


# Modules that run something when imported: alembic's env.py and `python -m` entry points.
_NOT_IMPORTABLE = ("app.store.migrations", "__main__")
MIN_APP_MODULES = 20  # fewer means the frozen importer could not list the package


def check_modules() -> str:
    """Import every module of the app: a frozen build that left out a dependency fails here."""
    import importlib
    import pkgutil

    names = [info.name for info in pkgutil.walk_packages(app.__path__, "app.")
             if not any(part in info.name for part in _NOT_IMPORTABLE)]
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name} ({type(exc).__name__}: {exc})")
    if failed:
        raise CheckFailed(f"{len(failed)} of {len(names)} modules fail to import: {'; '.join(failed[:3])}")
    if len(names) < MIN_APP_MODULES:
        raise CheckFailed(f"only {len(names)} app modules found; the bundle is missing most of the app")
    return f"all {len(names)} app modules import"


def check_resources() -> str:
    if not RESOURCES.is_dir():
        raise CheckFailed(f"resource folder missing: {RESOURCES}")
    app_icons = sorted((RESOURCES / "icons" / "app").glob("outpost-*.png"))
    if not app_icons:
        raise CheckFailed(f"no app icons in {RESOURCES / 'icons' / 'app'}")
    versions = sorted(p for p in (MIGRATIONS / "versions").glob("*.py") if p.name != "__init__.py")
    if not (MIGRATIONS / "env.py").is_file() or not versions:
        raise CheckFailed(f"migration scripts missing under {MIGRATIONS} (env.py and versions/*.py)")
    from app.store.migrate import head_revision

    ui_icons = len(list((RESOURCES / "icons").glob("*.svg")))
    styles = len(list((RESOURCES / "styles").glob("*.qss")))
    return (f"{len(app_icons)} app icons, {ui_icons} UI icons, {styles} stylesheet(s), "
            f"{len(versions)} migration(s), head {head_revision()}")


def check_keyring(allow_no_keyring: bool) -> str:
    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    native = KEYRING_NATIVE_MODULES.get(sys.platform, KEYRING_NATIVE_MODULES["linux"])
    missing = []
    for module in native:
        try:
            __import__(module)
        except Exception as exc:
            missing.append(f"{module} ({type(exc).__name__})")
    if missing:
        raise CheckFailed(f"{name}; the OS keyring support is missing: {', '.join(missing)}")
    unusable = type(backend).__module__ in UNUSABLE_KEYRINGS or (
        type(backend).__module__ == "keyring.backends.chainer" and not getattr(backend, "backends", None))
    if unusable and not allow_no_keyring:
        raise CheckFailed(f"{name}: no usable keyring (on Linux, run inside a desktop session with "
                          "a Secret Service such as gnome-keyring or KWallet)")
    suffix = ": no usable keyring, allowed by --allow-no-keyring" if unusable else ""
    return f"{name}{suffix}; {', '.join(native)} present"


def check_timezone() -> str:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    winter = datetime(2026, 1, 15, 12, tzinfo=berlin).utcoffset()
    summer = datetime(2026, 7, 15, 12, tzinfo=berlin).utcoffset()
    if winter != timedelta(hours=1) or summer != timedelta(hours=2):
        raise CheckFailed(f"Europe/Berlin has wrong offsets: {winter} in January, {summer} in July")
    from app.core.timeutil import local_zone_name

    here = local_zone_name()
    ZoneInfo(here)
    return f"Europe/Berlin resolves: UTC+1 in January, UTC+2 in July; this computer: {here}"


def check_spreadsheet() -> str:
    import io

    import defusedxml
    import defusedxml.ElementTree
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["text", "when"])
    sheet.append(["Hello from the self-test", "2026-01-15 09:30"])
    buffer = io.BytesIO()
    book.save(buffer)
    read = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    rows = list(read.worksheets[0].iter_rows(values_only=True))
    read.close()
    if rows[1][0] != "Hello from the self-test":
        raise CheckFailed(f"openpyxl round-trip returned {rows!r}")
    if defusedxml.ElementTree.fromstring("<a>1</a>").text != "1":
        raise CheckFailed("defusedxml cannot parse XML")
    return f"openpyxl {openpyxl.__version__} .xlsx round-trip, defusedxml {defusedxml.__version__}"


def check_tls() -> str:
    import ssl

    import certifi
    import httpx

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise CheckFailed(f"CA certificate bundle missing: {bundle}")
    context = ssl.create_default_context(cafile=str(bundle))
    if not context.get_ca_certs() and not bundle.stat().st_size:
        raise CheckFailed("CA certificate bundle is empty")
    return f"{ssl.OPENSSL_VERSION}, httpx {httpx.__version__}, CA bundle present"


def check_engine(data_dir: Path, timeout: float) -> str:
    """Open and migrate a fresh data folder, then publish a sandbox post through the engine."""
    import qasync
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication([app.APP_NAME])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(_open_migrate_publish(data_dir, timeout))
    finally:
        asyncio.set_event_loop(None)


async def _open_migrate_publish(data_dir: Path, publish_within: float) -> str:
    from app.core.models import PostSpec
    from app.engine.runtime import Runtime
    from app.store.migrate import current_revision, head_revision

    with _quiet_logging():
        runtime = Runtime.open(data_dir, secrets=_MemorySecrets())
        try:
            pragmas = runtime.db.pragmas()
            expected = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
            wrong = {k: pragmas.get(k) for k, v in expected.items() if str(pragmas.get(k)).lower() != str(v)}
            if wrong:
                raise CheckFailed(f"database pragmas wrong: {wrong} (expected {expected})")
            revision = current_revision(runtime.db)
            if revision != head_revision():
                raise CheckFailed(f"database at revision {revision}, expected {head_revision()}")
            await runtime.start()
            account_id = runtime.planner.default_account_id()
            if account_id is None:
                raise CheckFailed("a fresh data folder has no sandbox account")
            due = datetime.now(UTC) + timedelta(seconds=1)
            post_id = runtime.planner.create_post(PostSpec(
                text="Outpost self-test: this sandbox post never leaves your computer.",
                account_ids=(account_id,), scheduled_at=due, timezone="UTC"))
            try:
                async with asyncio.timeout(publish_within):
                    await _wait_for_publish(runtime, post_id)
            except TimeoutError:
                status = runtime.planner.post(post_id).status
                raise CheckFailed(f"the sandbox post is {status} after {publish_within:g} s, not published") from None
            late = (datetime.now(UTC) - due).total_seconds()
            files = list((data_dir / "sandbox").rglob("*.json"))
            if not files:
                raise CheckFailed(f"the sandbox post is published but no file is under {data_dir / 'sandbox'}")
        finally:
            await runtime.stop()
    return (f"migrated to {revision}; WAL, synchronous=FULL, foreign_keys=ON; "
            f"sandbox post published {max(late, 0):.1f} s after it was due")


async def _wait_for_publish(runtime: Any, post_id: int) -> None:
    """Return once the post is published; re-read on every change the runtime reports."""
    from app.core.models import PostStatus

    changed = asyncio.Event()
    unsubscribe = runtime.subscribe(lambda _kind: changed.set())
    try:
        while runtime.planner.post(post_id).status != PostStatus.PUBLISHED:
            # The short wait also covers a status change that reports no event.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), 0.5)
            changed.clear()
    finally:
        unsubscribe()


class _MemorySecrets:
    """Secrets for the throw-away data folder: the sandbox needs none, and the user's keyring is
    checked on its own (check_keyring) without writing to it."""

    def __init__(self) -> None:
        self._values: dict[int, dict[str, str]] = {}

    def get(self, account_id: int) -> dict[str, str] | None:
        return self._values.get(account_id)

    def put(self, account_id: int, values: dict[str, str]) -> None:
        self._values[account_id] = dict(values)

    def delete(self, account_id: int) -> None:
        self._values.pop(account_id, None)


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """Runtime.open logs into the throw-away folder; detach that file so the folder can be removed."""
    try:
        yield
    finally:
        from app.engine.logsetup import setup_logging

        setup_logging(None)
