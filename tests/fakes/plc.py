"""A local did:plc directory for the real atproto PDS (tests/realserver): the calls its PLC client
(`@did-plc/lib` Client) and DID resolver (`@atproto/identity`) make, and nothing more.

POST /{did} keeps the signed operation; GET /{did} answers the DID document built from the newest
one, as plc.directory does (Multikey verification method, `#atproto_pds` service); GET /{did}/data,
/{did}/log and /{did}/log/last answer what the PDS reads when it checks or updates a DID.
Signatures and the genesis hash are not verified: the PDS under test made them itself.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.server import FakeServer, Request, Response, serve_main

_DID = r"/(?P<did>did:plc:[a-z2-7]{24})"


class FakePlc(FakeServer):
    name = "plc"

    def __init__(self, port: int = 0) -> None:
        self.operations: dict[str, list[dict[str, Any]]] = {}
        super().__init__(port)

    def routes(self) -> None:
        self.route("POST", _DID, self._submit)
        self.route("GET", _DID, self._document)
        self.route("GET", _DID + "/data", self._data)
        self.route("GET", _DID + "/log", self._log)
        self.route("GET", _DID + "/log/last", self._last)
        self.route("GET", "/_health", lambda request: {"version": "fake"})

    def state(self) -> dict[str, Any]:
        return {"operations": self.operations}

    def _submit(self, request: Request, did: str) -> Response:
        op = request.json()
        if not isinstance(op, dict) or op.get("type") not in ("plc_operation", "plc_tombstone", "create"):
            return Response(400, {"message": "not a PLC operation"})
        if not op.get("sig"):
            return Response(400, {"message": "the operation is not signed"})
        self.operations.setdefault(did, []).append(op)
        return Response(200, None)

    def _current(self, did: str) -> dict[str, Any] | None:
        ops = self.operations.get(did)
        if not ops or ops[-1].get("type") == "plc_tombstone":
            return None
        return normalized(ops[-1])

    def _data(self, request: Request, did: str) -> Response | dict[str, Any]:
        op = self._current(did)
        if op is None:
            return Response(404, {"message": f"DID not registered: {did}"})
        return {"did": did, **{k: op[k] for k in ("verificationMethods", "rotationKeys", "alsoKnownAs", "services")}}

    def _document(self, request: Request, did: str) -> Response | dict[str, Any]:
        op = self._current(did)
        if op is None:
            return Response(404, {"message": f"DID not registered: {did}"})
        return did_document(did, op)

    def _log(self, request: Request, did: str) -> Response | list[Any]:
        ops = self.operations.get(did)
        return list(ops) if ops else Response(404, {"message": f"DID not registered: {did}"})

    def _last(self, request: Request, did: str) -> Response | dict[str, Any]:
        ops = self.operations.get(did)
        return ops[-1] if ops else Response(404, {"message": f"DID not registered: {did}"})


def normalized(op: dict[str, Any]) -> dict[str, Any]:
    """A legacy `create` operation in the shape of a `plc_operation` (did-method-plc's normalizeOp)."""
    if op.get("type") != "create":
        return op
    return {
        "type": "plc_operation",
        "verificationMethods": {"atproto": op["signingKey"]},
        "rotationKeys": [op["recoveryKey"], op["signingKey"]],
        "alsoKnownAs": [f"at://{op['handle']}"],
        "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": op["service"]}},
    }


def did_document(did: str, op: dict[str, Any]) -> dict[str, Any]:
    """The DID document plc.directory serves for an operation: keys as Multikey, services by id."""
    methods = [{"id": f"{did}#{name}", "type": "Multikey", "controller": did,
                "publicKeyMultibase": str(key).removeprefix("did:key:")}
               for name, key in (op.get("verificationMethods") or {}).items()]
    services = [{"id": f"#{name}", "type": service.get("type"), "serviceEndpoint": service.get("endpoint")}
                for name, service in (op.get("services") or {}).items()]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                     "https://w3id.org/security/suites/secp256k1-2019/v1"],
        "id": did, "alsoKnownAs": list(op.get("alsoKnownAs") or []),
        "verificationMethod": methods, "service": services,
    }


if __name__ == "__main__":
    serve_main(FakePlc)
