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
    parser.addoption("--real-servers", action="store_true", default=False,
                     help="also run against real servers installed from the registries (tests/realserver, needs npm)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--real-servers"):
        skip_real = pytest.mark.skip(reason="needs a real server (the atproto PDS from npm): run with --real-servers")
        for item in items:
            if "real_server" in item.keywords:
                item.add_marker(skip_real)
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="long variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


_real_getaddrinfo = socket.getaddrinfo
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", None, ""}


def _loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host  # anyio passes b"localhost"
    if name not in _LOOPBACK and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback only, not {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolation(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path_factory.mktemp("outpost-data")))
    yield backend
