"""A fake S3-compatible bucket: path-style PUT, GET (public read) and DELETE of objects, each
write checked against an AWS Signature Version 4 computed here, independently of the client's
signer (canonical request, string to sign, derived key; x-amz-content-sha256 must match the body).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from tests.fakes.server import FakeServer, Request, Response, serve_main

_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<cred>[^,]+),\s*SignedHeaders=(?P<signed>[^,]+),\s*"
                   r"Signature=(?P<sig>[0-9a-f]{64})")


def _error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(status, body.encode(), {"Content-Type": "application/xml"})


class FakeS3(FakeServer):
    name = "s3"

    def __init__(self, port: int = 0) -> None:
        self.bucket = "outpost-media"
        self.region = "eu-central-1"
        self.access_key_id = "AKIAFAKEOUTPOST0001"
        self.secret_access_key = "fake/secret+key/0123456789abcdefghijklmn"
        self.objects: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.rejected: list[str] = []  # why signatures were refused
        super().__init__(port)

    @property
    def public_base_url(self) -> str:
        return f"{self.url}/{self.bucket}"

    def state(self) -> dict[str, Any]:
        return {"objects": sorted(self.objects), "deleted": self.deleted, "rejected": self.rejected}

    def routes(self) -> None:
        self.route("PUT", r"/(?P<bucket>[^/]+)/(?P<key>.+)", self.put_object)
        self.route("DELETE", r"/(?P<bucket>[^/]+)/(?P<key>.+)", self.delete_object)
        self.route("GET", r"/(?P<bucket>[^/]+)/(?P<key>.+)", self.get_object)

    # ---- SigV4 -------------------------------------------------------------------------
    def _signature_problem(self, request: Request) -> str | None:
        match = _AUTH.fullmatch(request.headers.get("authorization", ""))
        if match is None:
            return "no AWS4-HMAC-SHA256 Authorization header"
        access_key, date, region, service, terminal = (match["cred"].split("/") + [""] * 5)[:5]
        if access_key != self.access_key_id:
            return "unknown access key"
        if (region, service, terminal) != (self.region, "s3", "aws4_request"):
            return f"wrong credential scope {region}/{service}/{terminal}"
        amz_date = request.headers.get("x-amz-date", "")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "bad x-amz-date"
        if abs(datetime.now(UTC) - when) > timedelta(minutes=15) or not amz_date.startswith(date):
            return "request time too skewed"
        payload_hash = hashlib.sha256(request.body).hexdigest()
        if request.headers.get("x-amz-content-sha256") != payload_hash:
            return "x-amz-content-sha256 does not match the body"
        signed = match["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return "host and x-amz-date must be signed"
        canonical_headers = "".join(f"{h}:{' '.join(request.headers.get(h, '').split())}\n" for h in signed)
        query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                                for k, values in request.query.items() for v in values))
        canonical = "\n".join([request.method, quote(request.path, safe="/-_.~"), query, canonical_headers,
                               match["signed"], payload_hash])
        scope = f"{date}/{region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_access_key).encode()
        for part in (date, region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["sig"]):
            return "signature does not match"
        return None

    def _checked(self, request: Request, bucket: str) -> Response | None:
        if bucket != self.bucket:
            return _error(404, "NoSuchBucket", "The specified bucket does not exist")
        problem = self._signature_problem(request)
        if problem is not None:
            self.rejected.append(problem)
            return _error(403, "SignatureDoesNotMatch", problem)
        return None

    # ---- routes ------------------------------------------------------------------------
    def put_object(self, request: Request, bucket: str, key: str) -> Response:
        denied = self._checked(request, bucket)
        if denied:
            return denied
        self.objects[key] = {"data": request.body, "content_type": request.headers.get("content-type", "")}
        etag = hashlib.md5(request.body, usedforsecurity=False).hexdigest()
        return Response(200, b"", {"ETag": f'"{etag}"'})

    def delete_object(self, request: Request, bucket: str, key: str) -> Response:
        denied = self._checked(request, bucket)
        if denied:
            return denied
        if self.objects.pop(key, None) is not None:
            self.deleted.append(key)
        return Response(204, b"")

    def get_object(self, request: Request, bucket: str, key: str) -> Response:
        obj = self.objects.get(key) if bucket == self.bucket else None
        if obj is None:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(200, obj["data"], {"Content-Type": obj["content_type"] or "application/octet-stream"})


def main() -> None:
    serve_main(FakeS3)


if __name__ == "__main__":
    main()
