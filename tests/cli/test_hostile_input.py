"""Hostile and careless command lines: each is refused with one line on stderr and exit 2, and the
database is left exactly as it was (issue 12, item 10)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from app.cli import main

BIG = str(2**63)  # one past SQLite's largest INTEGER
LATER = "2031-01-01T09:00"


def _digest(data_dir: Path) -> str:
    conn = sqlite3.connect(data_dir / "outpost.sqlite3")
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def _add(*extra: str) -> list[str]:
    return ["post", "add", "--account", "sandbox", "--text", "x", *extra]


HOSTILE: list[tuple[list[str], str]] = [
    *[([*cmd, BIG], "is not an id") for cmd in (["post", "show"], ["post", "cancel"], ["post", "retry"],
                                              ["post", "publish-now"], ["post", "take-back"])],
    (["post", "show", "-1"], "is not an id"),
    (["post", "show", "0x10"], "is not an id"),
    (_add("--at", "0001-01-01T00:00"), "outside the dates"),
    (_add("--at", "9999-12-31T23:59-12:00"), "outside the dates"),
    (_add("--at", ""), "--at is empty"),
    (_add("--at", "   "), "--at is empty"),
    (_add("--at", LATER, "--timezone", "Mars/Olympus"), "Unknown time zone"),
    (["accounts", "add", "sandbox", "--name", "M", "--timezone", "Mars/Olympus"], "Unknown time zone 'Mars/Olympus'"),
    (["accounts", "connect", "mastodon", "--server", "javascript:alert(1)", "--no-browser"], "javascript:alert(1)"),
    (["accounts", "connect", "mastodon", "--server", "127.0.0.1:99999", "--no-browser"], "from 1 to 65535"),
    (["accounts", "connect", "mastodon", "--server", "m.example", "--timeout", "nan"], "'nan' is not a number"),
    (["accounts", "connect", "mastodon", "--server", "m.example", "--timeout", "-5"], "from 1 to 86400"),
    (["accounts", "connect", "x", "--client-id", "a", "--port", "-1", "--no-browser"], "from 1 to 65535"),
    (["accounts", "connect", "x", "--client-id", "a", "--port", "70000", "--no-browser"], "from 1 to 65535"),
    (["accounts", "connect", "linkedin", "--client-id", "a", "--port", "0"], "from 1 to 65535"),
    (["accounts", "add", "sandbox", "--name", "L", "--latency-ms", "-1"], "from 0 to 600000"),
    (["accounts", "add", "sandbox", "--name", "L", "--latency-ms", "1e15"], "from 0 to 600000"),
    (["accounts", "add", "sandbox", "--name", "L", "--fail-times", "-5"], "from 0 to 1000000"),
    (["accounts", "add", "sandbox", "--name", "nul\x00name"], "NUL character"),
    # a few more of our own
    (_add("--at", LATER, "--text", "a\x00b"), "NUL character"),
    (_add("--at", LATER, "--text", "x" * 1_000_000), "allows 500"),
    (_add("--at", LATER, "--media", "/no/such.png", "--alt", "one", "--alt", "two"), "2 --alt texts for 1"),
    (_add("--at", LATER, "--thread", ""), "Thread part 2 (--thread) is empty"),
    (_add("--at", LATER, "--media", "http://169.254.169.254/latest/meta-data/x.png"), "private network"),
    (_add("--at", LATER, "--media", "http://[::1]/a.png"), "private network"),
    (_add("--at", LATER, "--media", "http://0x7f000001/a.png"), "0x7f000001 (127.0.0.1) is on this computer"),
    (_add("--at", LATER, "--account", "y" * 100_000), "No account matches 'yyy"),
    (["accounts", "add", "sandbox", "--name", "n" * 5000], "keep it to 200"),
    (["--data-dir", "/etc/passwd", "status"], "/etc/passwd is not a folder"),
    (["post", "list", "--limit", "-1"], "from 1 to"),
    (["post", "list", "--limit", "0"], "from 1 to"),
    (["post", "list", "--offset", "-3"], "from 0 to"),
    (["post", "list", "--from", "yesterday"], "--from: Cannot read 'yesterday'"),
    (["post", "list", "--from", "2031-02-01", "--to", "2031-01-01"], "--to must be later than --from"),
    (["post", "list", "--account", "nobody"], "No account matches 'nobody'"),
    (["post", "add", "--account", "sandbox", "--text", "x", "--bogus"], "unrecognized arguments: --bogus"),
    (["post", "list", "--bogus\x1b]0;owned\x07\r\nforged"], "unrecognized arguments: --bogus\\e]0;owned\\x07\\r\\nforged"),
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    assert main(["--data-dir", str(path), "accounts", "list"]) == 0
    return path


@pytest.mark.parametrize(("argv", "message"), HOSTILE, ids=[" ".join(a)[:60] for a, _ in HOSTILE])
def test_hostile_input_is_one_line_exit_2_and_writes_nothing(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                                             argv: list[str], message: str) -> None:
    before = _digest(data_dir)
    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), *argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("outpost") and message in err, err
    assert len(err) < 400  # one readable line, not the input echoed back
    assert "Traceback" not in err and out == ""
    assert _digest(data_dir) == before


def test_a_data_dir_outpost_cannot_write_is_refused_before_anything(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", "/proc/self", "status"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is not writable" in err and "--data-dir" in err
    assert not Path("/proc/self/logs").exists()


def test_an_empty_at_never_becomes_an_undated_draft(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(data_dir), "post", "add", "--account", "sandbox", "--text", "x", "--at", ""]) == 2
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "post", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_an_unexpected_failure_is_one_line_and_its_traceback_goes_to_the_log(tmp_path: Path) -> None:
    """From outside: a command that fails before logging is set up must not print a traceback."""
    import subprocess
    import sys

    data = tmp_path / "data"
    script = ("import sys\nimport app.cli.service as service\n"
              "def boom(args, data_dir):\n    raise RuntimeError('disk on fire, token=hunter2secret')\n"
              "service.cmd_status = boom\nfrom app.cli import main\n"
              f"sys.exit(main(['--data-dir', {str(data)!r}, 'status']))\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "unexpected error (RuntimeError: disk on fire, token=[redacted])" in done.stderr
    assert "hunter2secret" not in done.stderr and "Traceback" not in done.stderr
    logged = (data / "logs" / "outpost.log").read_text(encoding="utf-8")
    assert "Traceback" in logged and "outpost status failed" in logged and "hunter2secret" not in logged
