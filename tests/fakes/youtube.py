"""A fake YouTube Data API v3 and Google OAuth (platforms.md §10): resumable upload sessions
(POST -> Location; PUT bytes; `Content-Range: bytes */N` -> 308 + Range, or the video once
complete), title/description/privacy checks, `publishAt` accepted only on private videos, the
private lock of unaudited projects, the separate `videos.insert` daily bucket (403 quotaExceeded),
the per-channel upload cap (400 uploadLimitExceeded), comment threads, channels.list, the
loopback OAuth flow with PKCE S256 and refresh tokens, Google's error envelope.

`truncate_next_upload = N` keeps only the first N bytes of the next PUT (pair it with a
`reset_after` fault to drop the connection mid-file).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes.server import FakeServer, Request, Response, serve_main

UPLOAD = "/upload/youtube/v3/videos"


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> Response:
    return Response(status, {"error": {"code": status, "message": message,
                                       "errors": [{"domain": domain, "reason": reason, "message": message}]}})


class FakeYouTube(FakeServer):
    name = "youtube"

    def __init__(self, port: int = 0) -> None:
        self.client_id = "1234-fake.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-fake-secret-0123"
        self.channel_id = "UCfakeChannel000000000001"
        self.channel_title = "Alice Makes Videos"
        self.custom_url = "@alicemakes"
        self.access_lifetime = 3600.0
        self.inserts_per_day = 100  # the videos.insert bucket (cost 1 per call)
        self.inserts_today = 0
        self.channel_upload_cap = 1000  # uploads a channel may make today before uploadLimitExceeded
        self.unverified_project = False  # uploads are forced private
        self.truncate_next_upload: int | None = None
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.videos: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.refreshes = 0
        self._ids = itertools.count(1)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_tokens(self, *, access_expires_in: float | None = None) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(40)
        refresh = "1//" + secrets.token_urlsafe(40)
        lifetime = self.access_lifetime if access_expires_in is None else access_expires_in
        self.access_tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "expires_in": int(lifetime),
                "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/youtube.upload"}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0.0

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.videos)

    def state(self) -> dict[str, Any]:
        return {"videos": [{k: v for k, v in video.items() if k != "data"} for video in self.videos],
                "sessions": len(self.sessions), "comments": self.comments, "refreshes": self.refreshes}

    def _authed(self, request: Request) -> Response | None:
        expiry = self.access_tokens.get(request.bearer or "")
        if expiry is None or expiry < time.time():
            return google_error(401, "authError", "Request had invalid authentication credentials.",
                                domain="global")
        return None

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/o/oauth2/v2/auth", self.authorize)
        self.route("POST", "/token", self.token)
        self.route("POST", "/revoke", self.revoke)
        self.route("GET", "/youtube/v3/channels", self.channels)
        self.route("POST", UPLOAD, self.start_upload)
        self.route("PUT", UPLOAD, self.put_upload)
        self.route("GET", "/youtube/v3/videos", self.list_videos)
        self.route("POST", "/youtube/v3/commentThreads", self.comment)

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return Response(400, "Error 401: invalid_client")
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "[::1]", "localhost"):
            return Response(400, "Error 400: redirect_uri_mismatch")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Response(400, "Error 400: invalid_request (PKCE S256 required by this fake)")
        code = "4/" + secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect, "challenge": q["code_challenge"]}
        return Response(302, b"", {"Location": f"{redirect}?{urlencode({'code': code, 'state': q.get('state', ''), 'scope': q.get('scope', '')})}"})

    def token(self, request: Request) -> Response:
        a = request.arg
        if a("client_id") != self.client_id or a("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if a("grant_type") == "authorization_code":
            grant = self.codes.pop(a("code") or "", None)
            if grant is None or grant["redirect_uri"] != a("redirect_uri"):
                return Response(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            digest = hashlib.sha256((a("code_verifier") or "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return Response(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
            return Response(200, self.issue_tokens())
        if a("grant_type") == "refresh_token":
            if a("refresh_token") not in self.refresh_tokens:
                return Response(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            self.refreshes += 1
            body = self.issue_tokens()
            self.refresh_tokens.discard(body.pop("refresh_token"))
            return Response(200, body)
        return Response(400, {"error": "unsupported_grant_type"})

    def revoke(self, request: Request) -> Response:
        token = request.arg("token") or ""
        if token in self.refresh_tokens:
            self.refresh_tokens.discard(token)
            return Response(200, {})
        if self.access_tokens.pop(token, None) is not None:
            return Response(200, {})
        return Response(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})

    def channels(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        return Response(200, {"items": [{"id": self.channel_id, "snippet": {
            "title": self.channel_title, "customUrl": self.custom_url}}]})

    def start_upload(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if request.query.get("uploadType") != ["resumable"]:
            return google_error(400, "badRequest", "Only resumable uploads in this fake")
        if self.inserts_today >= self.inserts_per_day:
            return google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                "your quota.", domain="youtube.quota")
        if len(self.videos) >= self.channel_upload_cap:
            return google_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may "
                                "upload.", domain="youtube.video")
        meta = request.json() or {}
        snippet, status = meta.get("snippet") or {}, meta.get("status") or {}
        title = str(snippet.get("title") or "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return google_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        if len(str(snippet.get("description") or "").encode()) > 5000:
            return google_error(400, "invalidDescription", "The request metadata specifies an invalid description.")
        if status.get("privacyStatus") not in ("public", "unlisted", "private"):
            return google_error(400, "invalidVideoMetadata", "Invalid privacy status")
        if status.get("publishAt") and status["privacyStatus"] != "private":
            return google_error(400, "invalidPublishAt", "publishAt can only be set on private videos.")
        try:
            size = int(request.headers.get("x-upload-content-length", ""))
        except ValueError:
            return google_error(400, "badRequest", "X-Upload-Content-Length is required")
        self.inserts_today += 1
        upload_id = secrets.token_urlsafe(16)
        self.sessions[upload_id] = {"meta": meta, "size": size, "data": b"", "video": None,
                                    "content_type": request.headers.get("x-upload-content-type", "")}
        location = f"{self.url}{UPLOAD}?{urlencode({'uploadType': 'resumable', 'upload_id': upload_id})}"
        return Response(200, b"", {"Location": location})

    def put_upload(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        session = self.sessions.get((request.query.get("upload_id") or [""])[0])
        if session is None:
            return google_error(404, "notFound", "Upload session not found")
        if session["video"] is not None:
            return Response(200, self._resource(session["video"]))
        total = session["size"]
        crange = request.headers.get("content-range", "")
        if crange == f"bytes */{total}":
            return self._incomplete(session)
        start = 0
        if crange:
            try:
                first, _rest = crange.removeprefix("bytes ").split("-", 1)
                start = int(first)
            except ValueError:
                return google_error(400, "badRequest", "Bad Content-Range")
        if start != len(session["data"]):
            return self._incomplete(session)  # Google answers where it really is
        body = request.body
        if self.truncate_next_upload is not None:
            body, self.truncate_next_upload = body[:self.truncate_next_upload], None
        session["data"] += body
        if len(session["data"]) < total:
            return self._incomplete(session)
        return Response(200, self._resource(self._finish(session)))

    def _incomplete(self, session: dict[str, Any]) -> Response:
        received = len(session["data"])
        headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
        return Response(308, b"", headers)

    def _finish(self, session: dict[str, Any]) -> dict[str, Any]:
        meta = session["meta"]
        status = dict(meta.get("status") or {})
        if self.unverified_project:
            status["privacyStatus"] = "private"
        video = {"id": f"vid{next(self._ids):08d}", "snippet": dict(meta.get("snippet") or {}), "status": status,
                 "size": len(session["data"]), "sha256": hashlib.sha256(session["data"]).hexdigest()}
        session["video"] = video
        self.videos.append(video)
        return video

    @staticmethod
    def _resource(video: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "youtube#video", "id": video["id"], "snippet": video["snippet"], "status": video["status"]}

    def list_videos(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        ids = set((request.arg("id") or "").split(","))
        return Response(200, {"items": [self._resource(v) for v in self.videos if v["id"] in ids]})

    def comment(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        snippet = (request.json() or {}).get("snippet") or {}
        video_id = snippet.get("videoId")
        if not any(v["id"] == video_id for v in self.videos):
            return google_error(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
        text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get("textOriginal", "")
        comment = {"id": f"cmt{next(self._ids)}", "video_id": video_id, "text": text}
        self.comments.append(comment)
        return Response(200, {"id": comment["id"], "snippet": snippet})


def main() -> None:
    serve_main(FakeYouTube)


if __name__ == "__main__":
    main()
