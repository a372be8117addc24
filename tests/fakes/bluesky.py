"""A fake Bluesky PDS (platforms.md §2): app-password sessions with JWT-shaped tokens that expire
(HTTP 400 ExpiredToken), single-use refresh, uploadBlob, createRecord with client-chosen rkeys and
record validation (300 graphemes, 3000 bytes, byte-offset facets, 4 images of at most 2 MB, reply
refs), getRecord, resolveHandle, and RateLimit-* headers with epoch resets.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from typing import Any

import regex

from tests.fakes.server import FakeServer, Request, Response, serve_main

_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_GRAPHEME = regex.compile(r"\X")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _error(status: int, name: str, message: str) -> Response:
    return Response(status, {"error": name, "message": message})


class FakeBluesky(FakeServer):
    name = "bluesky"

    def __init__(self, port: int = 0) -> None:
        self.handle = "alice.test"
        self.did = "did:plc:alice0000000000000000"
        self.app_password = "abcd-efgh-ijkl-mnop"
        self.known_handles = {"alice.test": self.did, "bob.test": "did:plc:bob00000000000000000000"}
        self.access_ttl = 7200.0
        self.blob_upload_limit = 5_000_000
        self.image_size_limit = 2_000_000
        self.rate_limit = 3000
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: set[str] = set()
        self.blobs: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}  # uri -> {"cid", "value", "rkey"}
        self.session_calls = {"create": 0, "refresh": 0}
        self.ended_sessions = 0
        self._rev = itertools.count(1)
        self._requests = 0
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def published(self) -> list[dict[str, Any]]:
        """Every post record, in creation order (the record tests count duplicates with)."""
        with self.lock:
            return [{"uri": uri, **r} for uri, r in self.records.items()]

    def state(self) -> dict[str, Any]:
        return {"records": self.published(), "session_calls": self.session_calls}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0.0

    def _pair(self) -> dict[str, str]:
        now = int(time.time())
        header = _b64({"typ": "at+jwt", "alg": "ES256K"})
        access = f"{header}.{_b64({'scope': 'com.atproto.appPass', 'sub': self.did, 'iat': now, 'exp': now + int(self.access_ttl)})}.{secrets.token_urlsafe(32)}"
        refresh = f"{_b64({'typ': 'refresh+jwt', 'alg': 'ES256K'})}.{_b64({'scope': 'com.atproto.refresh', 'sub': self.did, 'jti': secrets.token_hex(8)})}.{secrets.token_urlsafe(32)}"
        self.access_tokens[access] = time.time() + self.access_ttl
        self.refresh_tokens.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh}

    def _session_body(self, pair: dict[str, str]) -> dict[str, Any]:
        did_doc = {"id": self.did, "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                                 "serviceEndpoint": self.url}]}
        return {**pair, "handle": self.handle, "did": self.did, "didDoc": did_doc, "active": True}

    def _authed(self, request: Request) -> Response | None:
        token = request.bearer
        if token is None:
            return _error(401, "AuthMissing", "Authentication Required")
        expiry = self.access_tokens.get(token)
        if expiry is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        if expiry < time.time():
            return _error(400, "ExpiredToken", "Token has expired")
        return None

    def default_error(self, status: int) -> Any:
        names = {429: "RateLimitExceeded", 500: "InternalServerError", 502: "UpstreamFailure", 503: "NotEnoughResources"}
        return {"error": names.get(status, "InternalServerError"), "message": names.get(status, "Error")}

    def decorate(self, request: Request, response: Response) -> Response:
        if request.path.startswith("/xrpc/"):
            self._requests += 1
            response.headers.setdefault("RateLimit-Limit", str(self.rate_limit))
            response.headers.setdefault("RateLimit-Remaining", str(max(0, self.rate_limit - self._requests)))
            response.headers.setdefault("RateLimit-Reset", str(int(time.time()) + 300))
            response.headers.setdefault("RateLimit-Policy", f"{self.rate_limit};w=300")
        return response

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        x = "/xrpc/"
        self.route("POST", x + "com.atproto.server.createSession", self.create_session)
        self.route("POST", x + "com.atproto.server.refreshSession", self.refresh_session)
        self.route("GET", x + "com.atproto.server.getSession", self.get_session)
        self.route("POST", x + "com.atproto.server.deleteSession", self.delete_session)
        self.route("GET", x + "com.atproto.identity.resolveHandle", self.resolve_handle)
        self.route("POST", x + "com.atproto.repo.uploadBlob", self.upload_blob)
        self.route("POST", x + "com.atproto.repo.createRecord", self.create_record)
        self.route("GET", x + "com.atproto.repo.getRecord", self.get_record)

    def create_session(self, request: Request) -> Response:
        self.session_calls["create"] += 1
        body = request.json() or {}
        if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.app_password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Response(200, self._session_body(self._pair()))

    def refresh_session(self, request: Request) -> Response:
        self.session_calls["refresh"] += 1
        token = request.bearer
        if token is None or token not in self.refresh_tokens:
            return _error(400, "InvalidToken", "Token could not be verified")
        self.refresh_tokens.discard(token)  # single use
        return Response(200, self._session_body(self._pair()))

    def delete_session(self, request: Request) -> Response:
        token = request.bearer
        if token is None or token not in self.refresh_tokens:
            return _error(400, "InvalidToken", "Token could not be verified")
        self.refresh_tokens.discard(token)
        self.ended_sessions += 1
        return Response(200, None)

    def get_session(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"handle": self.handle, "did": self.did, "active": True})

    def resolve_handle(self, request: Request) -> Response:
        handle = (request.query.get("handle") or [""])[0].lower()
        if handle in self.known_handles:
            return Response(200, {"did": self.known_handles[handle]})
        return _error(400, "InvalidRequest", "Unable to resolve handle")

    def upload_blob(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if len(request.body) > self.blob_upload_limit:
            return _error(413, "PayloadTooLarge", "request entity too large")
        cid = "bafkrei" + base64.b32encode(hashlib.sha256(request.body).digest()).decode().lower().rstrip("=")[:52]
        mime = request.headers.get("content-type", "application/octet-stream")
        self.blobs[cid] = {"mimeType": mime, "size": len(request.body)}
        return Response(200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(request.body)}})

    def create_record(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        if body.get("repo") not in (self.did, self.handle):
            return _error(400, "InvalidRequest", "Could not find repo")
        collection, record = body.get("collection"), body.get("record") or {}
        if collection != "app.bsky.feed.post":
            return _error(400, "InvalidRequest", "Unsupported collection")
        problem = self._invalid_post(record)
        if problem:
            return _error(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}")
        rkey = body.get("rkey") or self._tid()
        if not _TID.match(rkey):
            return _error(400, "InvalidRequest", "Invalid record key: must be a TID")
        uri = f"at://{self.did}/{collection}/{rkey}"
        if uri in self.records:  # as @atproto/pds 0.5.35 answers a taken key (tests/realserver found it)
            return _error(500, "InternalServerError", "Internal Server Error")
        cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
        self.records[uri] = {"cid": cid, "value": record, "rkey": rkey}
        return Response(200, {"uri": uri, "cid": cid, "commit": {"cid": "bafyreicommit", "rev": str(next(self._rev))},
                              "validationStatus": "valid"})

    def get_record(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        repo = q.get("repo")
        did = self.known_handles.get(repo or "", repo)
        uri = f"at://{did}/{q.get('collection')}/{q.get('rkey')}"
        if uri not in self.records:
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        r = self.records[uri]
        return Response(200, {"uri": uri, "cid": r["cid"], "value": r["value"]})

    # ---- validation --------------------------------------------------------------------
    @staticmethod
    def _tid() -> str:
        alphabet = "234567abcdefghijklmnopqrstuvwxyz"
        value = (time.time_ns() // 1000) << 10 | secrets.randbelow(1024)
        return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(13)))

    def _invalid_post(self, record: dict[str, Any]) -> str:
        text = record.get("text")
        if record.get("$type") != "app.bsky.feed.post" or not isinstance(text, str) or not record.get("createdAt"):
            return "Record must have the properties text and createdAt"
        if len(_GRAPHEME.findall(text)) > 300:
            return "Record/text must not be longer than 300 graphemes"
        data = text.encode("utf-8")
        if len(data) > 3000:
            return "Record/text must not be longer than 3000 characters"
        for facet in record.get("facets") or []:
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            if not 0 <= start < end <= len(data):
                return "Record/facets index out of range"
            try:
                data[start:end].decode("utf-8")
            except UnicodeDecodeError:
                return "Record/facets index splits a character"
        embed = record.get("embed") or {}
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images") or []
            if not 1 <= len(images) <= 4:
                return "Record/embed/images must not have more than 4 elements"
            for image in images:
                blob = self.blobs.get(image["image"]["ref"]["$link"])
                if blob is None:
                    return "Could not find blob"
                if blob["size"] > self.image_size_limit:
                    return "Record/embed/images/image file too large"
                if "alt" not in image:
                    return "Record/embed/images must have the property alt"
                problem = _invalid_aspect_ratio(image.get("aspectRatio"))
                if problem:
                    return "Record/embed/images/aspectRatio " + problem
        langs = record.get("langs")
        if langs is not None:
            # app.bsky.feed.post#langs: array, maxLength 3, items format "language" (BCP-47)
            if not isinstance(langs, list) or len(langs) > 3:
                return "Record/langs must not have more than 3 elements"
            if not all(isinstance(tag, str) and _LANGUAGE.match(tag) for tag in langs):
                return "Record/langs must be valid language codes"
        reply = record.get("reply")
        if reply:
            for ref in (reply.get("root"), reply.get("parent")):
                if not ref or ref.get("uri") not in self.records or self.records[ref["uri"]]["cid"] != ref.get("cid"):
                    return "Record/reply refers to a post that does not exist"
        return ""


_LANGUAGE = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*|i-[A-Za-z0-9]{1,8})$")


def _invalid_aspect_ratio(value: Any) -> str:
    """app.bsky.embed.defs#aspectRatio: an object with integer width and height, both at least 1."""
    if value is None:
        return ""
    if not isinstance(value, dict) or set(value) != {"width", "height"}:
        return "must have exactly the properties width and height"
    if not all(isinstance(value[k], int) and not isinstance(value[k], bool) and value[k] >= 1 for k in value):
        return "width and height must be integers of at least 1"
    return ""


def main() -> None:
    serve_main(FakeBluesky)


if __name__ == "__main__":
    main()
