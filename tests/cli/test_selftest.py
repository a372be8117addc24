"""`outpost self-test`: one line per check, exit 0 only if all pass (the frozen builds run it too)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null

from app.cli import build_parser, selftest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("qt", "modules", "resources", "keyring", "timezone", "spreadsheet", "tls", "engine")


def test_self_test_from_source_publishes_a_sandbox_post_and_passes(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    user_data = tmp_path / "user-data"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "tests.support.memkeyring.InMemoryKeyring",
        "OUTPOST_DATA_DIR": str(user_data),
    }
    code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "self-test", "--report", str(report)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Outpost ") and "from source" in lines[0]
    assert [line.split()[1] for line in lines[1:-1]] == list(CHECKS)
    assert all(line.startswith("ok") for line in lines[1:-1])
    assert "sandbox post published" in done.stdout
    assert "InMemoryKeyring" in done.stdout
    assert lines[-1].startswith("self-test passed")
    assert report.read_text(encoding="utf-8") == done.stdout
    assert not user_data.exists()  # the self-test works in a throw-away folder only


def test_self_test_is_a_cli_command_with_its_options() -> None:
    args = build_parser().parse_args(["self-test", "--allow-no-keyring", "--report", "out.txt", "--timeout", "5"])

    assert args.handler is selftest.command
    assert args.allow_no_keyring is True
    assert args.report == Path("out.txt")
    assert args.timeout == 5


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_usable_keyring_fails_the_check_unless_allowed(backend: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(backend)

    with pytest.raises(selftest.CheckFailed, match="no usable keyring"):
        selftest.check_keyring(allow_no_keyring=False)
    assert "allowed by --allow-no-keyring" in selftest.check_keyring(allow_no_keyring=True)


def test_a_usable_keyring_passes_and_is_named() -> None:
    detail = selftest.check_keyring(allow_no_keyring=False)  # conftest installs the in-memory keyring

    assert detail.startswith("tests.support.memkeyring.InMemoryKeyring")


def test_one_failed_check_fails_the_run_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[str] = []
    for name in ("check_qt", "check_modules", "check_resources", "check_timezone", "check_spreadsheet",
                 "check_tls"):
        monkeypatch.setattr(selftest, name, lambda name=name: ran.append(name) or "fine")
    monkeypatch.setattr(selftest, "check_keyring", lambda allow: (_ for _ in ()).throw(
        selftest.CheckFailed("no usable keyring")))
    monkeypatch.setattr(selftest, "check_engine", lambda data_dir, timeout: 1 / 0)
    out = io.StringIO()
    report = tmp_path / "report.txt"

    status = selftest.run_self_test(out=out, report=report)

    lines = out.getvalue().splitlines()
    assert status == 1
    assert len(ran) == 6
    assert "FAIL  keyring       no usable keyring" in lines
    assert "FAIL  engine        ZeroDivisionError: division by zero" in lines
    assert lines[-1] == "self-test FAILED: keyring, engine (6 of 8 checks passed)"
    assert report.read_text(encoding="utf-8") == out.getvalue()


def test_every_check_passing_exits_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("check_qt", "check_modules", "check_resources", "check_timezone", "check_spreadsheet",
                 "check_tls"):
        monkeypatch.setattr(selftest, name, lambda: "fine")
    monkeypatch.setattr(selftest, "check_keyring", lambda allow: "fine")
    monkeypatch.setattr(selftest, "check_engine", lambda data_dir, timeout: "fine")
    out = io.StringIO()

    assert selftest.run_self_test(out=out) == 0
    assert out.getvalue().splitlines()[-1] == "self-test passed (8 of 8 checks passed)"


def test_time_zones_spreadsheets_and_tls_work_in_this_environment() -> None:
    assert "Europe/Berlin" in selftest.check_timezone()
    assert "openpyxl" in selftest.check_spreadsheet()
    assert "CA bundle present" in selftest.check_tls()
