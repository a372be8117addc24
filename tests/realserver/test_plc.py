"""The local PLC directory the real PDS registers its accounts with (runs without --real-servers)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.plc import FakePlc

DID = "did:plc:abcdefghijklmnopqrstuvwx"
KEY = "did:key:zQ3shP2mWsZYWgvgM11nenXRTx9zYLJ8Zw7hZqmxXqiWqSuXh"
OP = {"type": "plc_operation", "rotationKeys": [KEY], "verificationMethods": {"atproto": KEY},
      "alsoKnownAs": ["at://alice.test"], "prev": None, "sig": "c2lnbmF0dXJl",
      "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "http://localhost:2583"}}}


@pytest.fixture
def plc() -> Iterator[FakePlc]:
    with FakePlc() as server:
        yield server


def test_a_registered_did_resolves_to_the_document_plc_directory_serves(plc: FakePlc) -> None:
    assert httpx.post(f"{plc.url}/{DID.replace(':', '%3A')}", json=OP).status_code == 200  # as axios encodes it
    doc = httpx.get(f"{plc.url}/{DID}").json()
    assert doc["id"] == DID and doc["alsoKnownAs"] == ["at://alice.test"]
    assert doc["verificationMethod"] == [{"id": f"{DID}#atproto", "type": "Multikey", "controller": DID,
                                          "publicKeyMultibase": KEY.removeprefix("did:key:")}]
    assert doc["service"] == [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                               "serviceEndpoint": "http://localhost:2583"}]
    data = httpx.get(f"{plc.url}/{DID}/data").json()
    assert (data["did"], data["rotationKeys"], data["services"]) == (DID, [KEY], OP["services"])
    assert httpx.get(f"{plc.url}/{DID}/log/last").json() == OP


def test_an_unsigned_operation_is_refused_and_an_unknown_did_is_not_found(plc: FakePlc) -> None:
    assert httpx.post(f"{plc.url}/{DID}", json={**OP, "sig": ""}).status_code == 400
    assert httpx.get(f"{plc.url}/{DID}").status_code == 404
    assert httpx.get(f"{plc.url}/{DID}/data").status_code == 404
