"""A fake Pinterest API v5 (platforms.md §8): the authorization-code flow with HTTP Basic app
credentials on the token endpoint, continuous refresh tokens, boards, pins from base64 or URL
images, 2-5 image carousels, video pins through `/v5/media` (register, an S3-style multipart
upload, registered -> processing -> succeeded | failed), board pin listing for reconciliation,
and Pinterest's `{"code", "message"}` errors.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, serve_main


def pin_error(status: int, message: str, code: int = 1) -> Response:
    return Response(status, {"code": code, "message": message})


class FakePinterest(FakeServer):
    name = "pinterest"

    def __init__(self, port: int = 0) -> None:
        self.app_id = "1500001"
        self.app_secret = "fake-pinterest-secret"
        self.registered_redirects: list[str] = []
        self.username = "alice_pins"
        self.boards = [{"id": "900000000000000001", "name": "Ideas", "privacy": "PUBLIC"},
                       {"id": "900000000000000002", "name": "Recipes", "privacy": "PUBLIC"}]
        self.access_lifetime = 30 * 86400
        self.video_processing_seconds = 0.0
        self.video_fails = False
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.refreshes = 0
        self.pins: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1_000_000_000_000_000_001)
        super().__init__(port)

    def issue_tokens(self, *, expires_in: float | None = None) -> dict[str, Any]:
        access = "pina_" + secrets.token_urlsafe(30)
        refresh = "pinr_" + secrets.token_urlsafe(30)
        lifetime = self.access_lifetime if expires_in is None else expires_in
        self.tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "response_type": "authorization_code",
                "token_type": "bearer", "expires_in": int(lifetime), "refresh_token_expires_in": 60 * 86400,
                "refresh_token_expires_at": int(time.time()) + 60 * 86400,
                "scope": "boards:read,pins:read,pins:write,user_accounts:read"}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.pins)

    def state(self) -> dict[str, Any]:
        pins = [{**p, "images": [i if isinstance(i, str) else len(i) for i in p["images"]]} for p in self.pins]
        return {"pins": pins, "refreshes": self.refreshes}

    def default_error(self, status: int) -> Any:
        if status == 429:
            return {"code": 8, "message": "The user has sent too many requests in a given amount of time."}
        return {"code": 0, "message": "Internal error"}

    def _authed(self, request: Request) -> Response | None:
        expiry = self.tokens.get(request.bearer or "")
        if expiry is None or expiry < time.time():
            return pin_error(401, "Authentication failed.", 2)
        return None

    def _basic_ok(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.app_id}:{self.app_secret}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/oauth/", self.authorize)
        self.route("POST", "/v5/oauth/token", self.token)
        self.route("GET", "/v5/user_account", self.user_account)
        self.route("GET", "/v5/boards", self.list_boards)
        self.route("GET", r"/v5/boards/(?P<board_id>\d+)/pins", self.board_pins)
        self.route("POST", "/v5/pins", self.create_pin)
        self.route("POST", "/v5/media", self.register_media)
        self.route("GET", r"/v5/media/(?P<media_id>\d+)", self.get_media)
        self.route("POST", r"/s3/(?P<media_id>\d+)", self.s3_upload)

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.app_id or redirect not in self.registered_redirects or q.get("response_type") != "code":
            return Response(400, "Invalid redirect_uri")
        code = secrets.token_urlsafe(24)
        self.codes[code] = redirect
        return Response(302, b"", {"Location": f"{redirect}?{urlencode({'code': code, 'state': q.get('state', '')})}"})

    def token(self, request: Request) -> Response:
        if not self._basic_ok(request):
            return pin_error(401, "Authentication failed.", 2)
        a = request.arg
        if a("grant_type") == "authorization_code":
            if self.codes.pop(a("code") or "", None) != a("redirect_uri"):
                return pin_error(400, "Invalid authorization code or redirect_uri", 283)
            return Response(200, self.issue_tokens())
        if a("grant_type") == "refresh_token":
            old = a("refresh_token") or ""
            if old not in self.refresh_tokens:
                return pin_error(400, "Invalid refresh token", 283)
            self.refreshes += 1
            # Continuous refresh (Pinterest's document 5.23, OauthAccessTokenResponseRefresh): every renewal
            # answers a new refresh token with its expiry, and the one just used is retired.
            self.refresh_tokens.discard(old)
            body = self.issue_tokens()
            body["response_type"] = "refresh_token"
            return Response(200, body)
        return pin_error(400, "Unsupported grant type")

    def user_account(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"username": self.username, "account_type": "BUSINESS"})

    def list_boards(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"items": self.boards, "bookmark": None})

    def board_pins(self, request: Request, board_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        items = [{"id": p["id"], "description": p["description"], "created_at": p["created_at"],
                  "board_id": p["board_id"]} for p in reversed(self.pins) if p["board_id"] == board_id]
        return Response(200, {"items": items[:25], "bookmark": None})

    def create_pin(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        if not any(b["id"] == body.get("board_id") for b in self.boards):
            return pin_error(404, "Board not found.", 40)
        if len(str(body.get("description") or "")) > 800 or len(str(body.get("title") or "")) > 100 \
                or len(str(body.get("alt_text") or "")) > 500:
            return pin_error(400, "Invalid parameters.", 1)
        source = body.get("media_source") or {}
        kind = source.get("source_type")
        images: list[bytes | str] = []
        if kind == "image_base64":
            images = [self._decode(source)]
        elif kind == "image_url":
            images = [str(source.get("url"))]
        elif kind in ("multiple_image_base64", "multiple_image_urls"):
            items = source.get("items") or []
            if not 2 <= len(items) <= 5:
                return pin_error(400, "Multi-image pins need between 2 and 5 images.", 1)
            images = [self._decode(i) if kind == "multiple_image_base64" else str(i.get("url")) for i in items]
        elif kind == "video_id":
            m = self.media.get(str(source.get("media_id") or ""))
            if m is None or self._status(m) != "succeeded":
                return pin_error(400, "The video is not ready.", 1)
            if not (source.get("cover_image_url") or "cover_image_key_frame_time" in source or source.get("cover_image_data")):
                return pin_error(400, "A video pin needs a cover image.", 1)
            images = []
        else:
            return pin_error(400, "Invalid media_source.", 1)
        if any(i == b"" for i in images):
            return pin_error(400, "Invalid base64 image.", 1)
        pin_id = str(next(self._ids))
        self.pins.append({"id": pin_id, "board_id": body["board_id"], "description": body.get("description") or "",
                          "title": body.get("title"), "alt_text": body.get("alt_text"), "kind": kind, "images": images,
                          "media_id": source.get("media_id"),
                          "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")})
        return Response(201, {"id": pin_id, "board_id": body["board_id"], "description": body.get("description")})

    @staticmethod
    def _decode(source: dict[str, Any]) -> bytes:
        if source.get("content_type") not in ("image/jpeg", "image/png"):
            return b""
        try:
            return base64.b64decode(str(source.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            return b""

    def register_media(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if (request.json() or {}).get("media_type") != "video":
            return pin_error(400, "media_type must be video", 1)
        media_id = str(next(self._ids))
        key = f"uploads/{media_id}.mp4"
        self.media[media_id] = {"media_id": media_id, "key": key, "data": None, "uploaded": 0.0}
        return Response(201, {"media_id": media_id, "media_type": "video", "upload_url": f"{self.url}/s3/{media_id}",
                              "upload_parameters": {"key": key, "x-amz-signature": secrets.token_hex(8),
                                                    "policy": "eyJmYWtlIjp0cnVlfQ==", "Content-Type": "multipart/form-data"}})

    def s3_upload(self, request: Request, media_id: str) -> Response:
        m = self.media.get(media_id)
        parts = request.multipart()
        if m is None or "file" not in parts or parts.get("key") is None or parts["key"].data.decode() != m["key"] \
                or "x-amz-signature" not in parts:
            return Response(403, b"<Error><Code>AccessDenied</Code></Error>")
        m.update(data=parts["file"].data, uploaded=time.monotonic())
        return Response(204, b"")

    def _status(self, m: dict[str, Any]) -> str:
        if m["data"] is None:
            return "registered"
        if time.monotonic() - m["uploaded"] < self.video_processing_seconds:
            return "processing"
        return "failed" if self.video_fails else "succeeded"

    def get_media(self, request: Request, media_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        m = self.media.get(media_id)
        if m is None:
            return pin_error(404, "Media not found.", 4)
        return Response(200, {"media_id": media_id, "media_type": "video", "status": self._status(m)})


def main() -> None:
    serve_main(FakePinterest)


if __name__ == "__main__":
    main()
