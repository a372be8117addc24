"""One atproto PDS (and its local PLC) for the whole run of tests/realserver, started on first use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.plc import FakePlc
from tests.realserver.pds import CACHE, PdsUnavailable, RealPds, install


@pytest.fixture(scope="session")
def plc() -> Iterator[FakePlc]:
    with FakePlc() as server:
        yield server


@pytest.fixture(scope="session")
def pds(plc: FakePlc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPds]:
    try:
        # By name: the PDS's resolver refuses IP-address hosts (its SSRF guard), even in dev mode.
        plc_url = f"http://localhost:{plc.port}"
        server = RealPds(install(CACHE), CACHE, plc_url, tmp_path_factory.mktemp("pds"))
        server.start()
    except PdsUnavailable as exc:
        pytest.fail(f"the real PDS is unavailable: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()

