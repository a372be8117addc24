"""A fake TikTok Content Posting API (platforms.md §9): Login Kit for Desktop with a wildcard-port
loopback redirect and PKCE (the challenge encoding is configurable: base64url or hex), rotating
refresh tokens, creator_info, Direct Post and inbox video init, chunked `PUT` uploads checked
against Content-Range and the chunk rules, status fetch moving through PROCESSING_UPLOAD to
PUBLISH_COMPLETE (or FAILED), the unaudited-client rule that forces SELF_ONLY, and TikTok's
`{"data", "error": {"code", "message", "log_id"}}` envelope.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, serve_main

MB = 1024 * 1024
PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]


def envelope(data: Any = None, code: str = "ok", message: str = "", status: int = 200) -> Response:
    return Response(status, {"data": data if data is not None else {},
                             "error": {"code": code, "message": message, "log_id": "2026" + secrets.token_hex(8)}})


class FakeTikTok(FakeServer):
    name = "tiktok"

    def __init__(self, port: int = 0) -> None:
        self.client_key = "fake-tiktok-client-key"
        self.client_secret = "fake-tiktok-client-secret"
        self.registered_redirects = ["http://127.0.0.1:*/callback/tiktok"]
        self.challenge_encoding = "base64url"  # or "hex": TikTok's desktop encoding is unverified
        self.open_id = "open-id-alice"
        self.display_name = "Alice on TikTok"
        self.username = "alice.tok"
        self.access_lifetime = 7200
        self.audited = False  # unaudited clients may only post SELF_ONLY
        self.creator_is_private = True  # unaudited clients also need the creator's account to be private
        self.privacy_options = list(PRIVACY)
        self.min_chunk_size = 5 * MB
        self.max_chunk_size = 64 * MB
        self.processing_seconds = 0.0  # PROCESSING_UPLOAD for this long after the last byte
        self.moderation_fails = ""  # e.g. "video_pull_failed": the post ends FAILED with this reason
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.refreshes = 0
        self.publishes: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(7_300_000_000_000_000_001)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_tokens(self, *, expires_in: float | None = None) -> dict[str, Any]:
        access = "act." + secrets.token_urlsafe(30)
        refresh = "rft." + secrets.token_urlsafe(30)
        lifetime = self.access_lifetime if expires_in is None else expires_in
        self.tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "expires_in": int(lifetime), "open_id": self.open_id,
                "refresh_expires_in": 180 * 86400, "refresh_token": refresh,
                "scope": "user.info.basic,video.publish", "token_type": "Bearer"}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def challenge_for(self, verifier: str) -> str:
        digest = hashlib.sha256(verifier.encode()).digest()
        if self.challenge_encoding == "hex":
            return digest.hex()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def published(self) -> list[dict[str, Any]]:
        """Posts that reached the profile (or the inbox): what duplicates are counted on."""
        with self.lock:
            return [p for p in self.publishes.values() if self._status(p) in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")]

    def completed_uploads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.publishes.values() if p["received"] == p["video_size"]]

    def state(self) -> dict[str, Any]:
        return {"publishes": {k: {**v, "data": len(v["data"])} for k, v in self.publishes.items()},
                "refreshes": self.refreshes}

    def default_error(self, status: int) -> Any:
        code = {429: "rate_limit_exceeded", 401: "access_token_invalid"}.get(status, "internal_error")
        return {"data": {}, "error": {"code": code, "message": f"HTTP {status}", "log_id": "2026fake"}}

    def _redirect_ok(self, uri: str) -> bool:
        for pattern in self.registered_redirects:
            regex = re.escape(pattern).replace(r"\*", r"\d+")
            if re.fullmatch(regex, uri):
                return True
        return False

    def _authed(self, request: Request) -> Response | None:
        expiry = self.tokens.get(request.bearer or "")
        if expiry is None or expiry < time.time():
            return envelope(code="access_token_invalid", status=401,
                            message="The access token is invalid or not found in the request.")
        return None

    def _status(self, p: dict[str, Any]) -> str:
        if p["received"] < p["video_size"]:
            return "PROCESSING_UPLOAD"
        if time.monotonic() - p["completed_at"] < self.processing_seconds:
            return "PROCESSING_UPLOAD"
        if p["fail_reason"]:
            return "FAILED"
        if not p["post_id"]:
            p["post_id"] = str(next(self._ids))
        return "SEND_TO_USER_INBOX" if p["inbox"] else "PUBLISH_COMPLETE"

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/v2/auth/authorize/", self.authorize)
        self.route("POST", "/v2/oauth/token/", self.token)
        self.route("POST", "/v2/oauth/revoke/", self.revoke)
        self.route("GET", "/v2/user/info/", self.user_info)
        self.route("POST", "/v2/post/publish/creator_info/query/", self.creator_info)
        self.route("POST", "/v2/post/publish/video/init/", self.init_direct)
        self.route("POST", "/v2/post/publish/inbox/video/init/", self.init_inbox)
        self.route("PUT", r"/upload/(?P<publish_id>[^/]+)", self.upload)
        self.route("POST", "/v2/post/publish/status/fetch/", self.status_fetch)

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_key") != self.client_key or not self._redirect_ok(redirect):
            return Response(400, "redirect_uri mismatch")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Response(400, "invalid request")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect, "challenge": q["code_challenge"], "scope": q.get("scope", "")}
        return Response(302, b"", {"Location": f"{redirect}?{urlencode({'code': code, 'scopes': q.get('scope', ''), 'state': q.get('state', '')})}"})

    def token(self, request: Request) -> Response:
        a = request.arg
        if a("client_key") != self.client_key or a("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Client key or secret is incorrect.",
                                  "log_id": "2026fake"})
        if a("grant_type") == "authorization_code":
            grant = self.codes.pop(a("code") or "", None)
            if grant is None or grant["redirect_uri"] != a("redirect_uri"):
                return Response(400, {"error": "invalid_grant", "error_description": "Authorization code is expired.",
                                      "log_id": "2026fake"})
            if self.challenge_for(a("code_verifier") or "") != grant["challenge"]:
                return Response(400, {"error": "invalid_request",
                                      "error_description": "Code verifier or code challenge is invalid.",
                                      "log_id": "2026fake"})
            return Response(200, self.issue_tokens())
        if a("grant_type") == "refresh_token":
            old = a("refresh_token") or ""
            if old not in self.refresh_tokens:
                return Response(400, {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired.",
                                      "log_id": "2026fake"})
            self.refresh_tokens.discard(old)  # rotating: the old one dies when a new one is issued
            self.refreshes += 1
            return Response(200, self.issue_tokens())
        return Response(400, {"error": "unsupported_grant_type", "error_description": "", "log_id": "2026fake"})

    def revoke(self, request: Request) -> Response:
        if request.arg("client_key") != self.client_key or request.arg("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "", "log_id": "2026fake"})
        if self.tokens.pop(request.arg("token") or "", None) is None:
            return Response(400, {"error": "invalid_request", "error_description": "token is invalid",
                                  "log_id": "2026fake"})
        self.refresh_tokens.clear()  # revoking disconnects the app from the account
        return Response(200, {})

    def user_info(self, request: Request) -> Response:
        return self._authed(request) or envelope({"user": {"open_id": self.open_id, "display_name": self.display_name,
                                                           "username": self.username}})

    def creator_info(self, request: Request) -> Response:
        return self._authed(request) or envelope({
            "creator_avatar_url": "https://p16.example/avatar.jpg", "creator_username": self.username,
            "creator_nickname": self.display_name, "privacy_level_options": self.privacy_options,
            "comment_disabled": False, "duet_disabled": True, "stitch_disabled": False,
            "max_video_post_duration_sec": 600})

    def init_direct(self, request: Request) -> Response:
        return self._init(request, inbox=False)

    def init_inbox(self, request: Request) -> Response:
        return self._init(request, inbox=True)

    def _init(self, request: Request, *, inbox: bool) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        privacy = str(info.get("privacy_level") or "")
        if not inbox:
            if privacy not in self.privacy_options:
                return envelope(code="privacy_level_option_mismatch", status=400,
                                message="privacy_level is not one of the creator's privacy_level_options.")
            if not self.audited and (privacy != "SELF_ONLY" or not self.creator_is_private):
                return envelope(code="unaudited_client_can_only_post_to_private_accounts", status=403,
                                message="Please review our integration guidelines at https://developers.tiktok.com/doc/content-sharing-guidelines/")
        if source.get("source") != "FILE_UPLOAD":
            return envelope(code="invalid_params", status=400, message="source must be FILE_UPLOAD")
        size, chunk, count = (int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count"))
        if size <= 0 or chunk <= 0:
            return envelope(code="invalid_params", status=400, message="video_size and chunk_size are required")
        if size < self.min_chunk_size:
            ok = chunk == size and count == 1
        else:
            ok = self.min_chunk_size <= chunk <= self.max_chunk_size and count == size // chunk and 1 <= count <= 1000
        if not ok:
            return envelope(code="invalid_params", status=400,
                            message="The total chunk count is invalid for the video size and chunk size.")
        publish_id = f"v_pub_file~v2-1.{next(self._ids)}"
        self.publishes[publish_id] = {
            "publish_id": publish_id, "inbox": inbox, "title": str(info.get("title") or ""), "privacy": privacy,
            "disable_duet": info.get("disable_duet"), "video_size": size, "chunk_size": chunk, "chunks": count,
            "received": 0, "data": b"", "completed_at": 0.0, "fail_reason": self.moderation_fails, "post_id": ""}
        return envelope({"publish_id": publish_id, "upload_url": f"{self.url}/upload/{publish_id}"})

    def upload(self, request: Request, publish_id: str) -> Response:
        p = self.publishes.get(publish_id)
        if p is None:
            return Response(404, {"error": "upload url not found"})
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", ""))
        if match is None:
            return Response(400, {"error": "missing Content-Range"})
        first, last, total = (int(g) for g in match.groups())
        index = first // p["chunk_size"]
        is_last = index == p["chunks"] - 1
        expected_last = total - 1 if is_last else first + p["chunk_size"] - 1
        if total != p["video_size"] or first != p["received"] or last != expected_last \
                or len(request.body) != last - first + 1 \
                or request.headers.get("content-type") not in ("video/mp4", "video/quicktime", "video/webm"):
            return Response(400, {"error": "Content-Range does not match the chunk plan"})
        p["data"] += request.body
        p["received"] = last + 1
        if p["received"] == p["video_size"]:
            p["completed_at"] = time.monotonic()
            return Response(201, b"")
        return Response(206, b"", {"Range": f"bytes=0-{last}"})

    def status_fetch(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        p = self.publishes.get(str((request.json() or {}).get("publish_id") or ""))
        if p is None:
            return envelope(code="invalid_publish_id", status=400, message="publish_id does not exist")
        status = self._status(p)
        data: dict[str, Any] = {"status": status, "uploaded_bytes": p["received"]}
        if status == "FAILED":
            data["fail_reason"] = p["fail_reason"]
        if status == "PUBLISH_COMPLETE" and p["privacy"] != "SELF_ONLY":
            data["publicaly_available_post_id"] = [int(p["post_id"])]
        return envelope(data)


def main() -> None:
    serve_main(FakeTikTok)


if __name__ == "__main__":
    main()
