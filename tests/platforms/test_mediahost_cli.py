"""`outpost accounts media-host set|show|check|remove` against the fake S3 bucket."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.platforms.mediahost import load_config
from tests.fakes.s3 import FakeS3
from tests.support.memkeyring import InMemoryKeyring


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as fake:
        yield fake


def _run(data_dir: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(data_dir), "accounts", "media-host", *args])


def _set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: FakeS3, secret: str) -> int:
    return _run(tmp_path, monkeypatch, f"{s3.access_key_id}\n{secret}\n", "set", "--endpoint", s3.url,
                "--bucket", s3.bucket, "--region", s3.region, "--public-base-url", s3.public_base_url)


def test_set_checks_the_bucket_then_keeps_the_keys_in_the_keyring_only(
    tmp_path, monkeypatch, capsys, s3, _isolation: InMemoryKeyring,
) -> None:
    assert _set(tmp_path, monkeypatch, s3, s3.secret_access_key) == 0
    out = capsys.readouterr().out
    assert "read back from" in out and s3.objects == {} and len(s3.deleted) == 1
    config = load_config(tmp_path)
    assert config is not None and config.bucket == s3.bucket
    assert s3.secret_access_key not in (tmp_path / "media-host.json").read_text()
    assert any(s3.secret_access_key in v for (service, _), v in _isolation.store.items()
               if service == "Outpost media host")
    assert _run(tmp_path, monkeypatch, "", "show") == 0 and s3.public_base_url in capsys.readouterr().out
    assert _run(tmp_path, monkeypatch, "", "check") == 0 and "works" in capsys.readouterr().out
    assert _run(tmp_path, monkeypatch, "", "remove") == 0
    assert load_config(tmp_path) is None and _run(tmp_path, monkeypatch, "", "show") == 1


def test_wrong_keys_are_refused_and_nothing_is_saved(tmp_path, monkeypatch, capsys, s3) -> None:
    assert _set(tmp_path, monkeypatch, s3, "wrong-secret") == 2
    assert "refused" in capsys.readouterr().err and load_config(tmp_path) is None
