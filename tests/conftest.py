"""Test-wide isolation: offscreen Qt, an in-memory keyring, no network beyond loopback."""

from __future__ import annotations

import os
import socket

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "PySide6")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memkeyring.InMemoryKeyring"

import keyring
import pytest

from tests.support.memkeyring import InMemoryKeyring


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run the long variants")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="long variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


_real_getaddrinfo = socket.getaddrinfo
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", None, ""}


def _loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host not in _LOOPBACK and not str(host).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback only, not {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolation(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path_factory.mktemp("outpost-data")))
    yield backend
