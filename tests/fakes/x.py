"""A fake X API v2 (platforms.md §4): OAuth 2.0 with PKCE on an exactly registered callback,
30-second codes, 2-hour access tokens with rotating refresh tokens, `POST /2/tweets` with the
duplicate-content 403, replies (optionally refused by the "summoned" rule), simple and chunked
media upload (initialize / append / finalize / STATUS) with slow processing, recent-post lookup
(optionally refused, as on tiers without read access, or lagging), and the `x-rate-limit-*`
headers with epoch resets.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, serve_main


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    return Response(status, {"title": title, "detail": detail, "type": kind, "status": status},
                    {"Content-Type": "application/problem+json"})


DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


class FakeX(FakeServer):
    name = "x"

    def __init__(self, port: int = 0) -> None:
        self.client_id = "fake-x-client-id"
        self.client_secret = ""  # empty: a public (Native App) client; set it for a confidential one
        self.registered_redirects: list[str] = []
        self.code_lifetime = 30.0
        self.access_lifetime = 7200
        self.rotate_refresh_tokens = True
        self.user_id = "1500000000000000001"
        self.username = "alice_x"
        self.name_ = "Alice on X"
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch)
        self.refresh_tokens: set[str] = set()
        self.refreshes = 0
        self.tweets: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.processing_seconds = 0.0  # video stays in_progress this long after finalize
        self.processing_fails = False
        self.replies_need_summoning = False  # the Feb 2026 reply restriction, applied to self-replies too
        self.timeline_readable = True  # False: GET /2/users/:id/tweets is 403 (tier without read access)
        self.timeline_lag = 0.0  # seconds before a new post shows up in the timeline
        self.rate_limit = 100
        self.rate_window = 900
        self._ids = itertools.count(1_800_000_000_000_000_001)
        self._media_ids = itertools.count(1_900_000_000_000_000_001)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_tokens(self, *, expires_in: float | None = None) -> dict[str, Any]:
        access = "XA" + secrets.token_urlsafe(30)
        refresh = "XR" + secrets.token_urlsafe(30)
        lifetime = self.access_lifetime if expires_in is None else expires_in
        self.tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return {"token_type": "bearer", "expires_in": int(lifetime), "access_token": access,
                "scope": "tweet.read tweet.write users.read offline.access media.write", "refresh_token": refresh}

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tweets if not t["in_reply_to"]]

    def replies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tweets if t["in_reply_to"]]

    def state(self) -> dict[str, Any]:
        return {"tweets": self.tweets, "media": {k: {**v, "data": len(v["data"])} for k, v in self.media.items()},
                "refreshes": self.refreshes}

    def default_error(self, status: int) -> Any:
        if status == 429:
            return {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
        return {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank",
                "status": status}

    def rate_headers(self, *, remaining: int | None = None, reset_in: float | None = None) -> dict[str, str]:
        """The headers X sends on every answer, with the reset as epoch seconds."""
        reset = int(time.time() + (self.rate_window if reset_in is None else reset_in))
        left = max(0, self.rate_limit - len(self.tweets)) if remaining is None else remaining
        return {"x-rate-limit-limit": str(self.rate_limit), "x-rate-limit-remaining": str(left),
                "x-rate-limit-reset": str(reset)}

    def decorate(self, request: Request, response: Response) -> Response:
        if request.path.startswith("/2/") and "x-rate-limit-reset" not in response.headers:
            response.headers.update(self.rate_headers())
        return response

    def _authed(self, request: Request) -> Response | None:
        expiry = self.tokens.get(request.bearer or "")
        if expiry is None or expiry < time.time():
            return problem(401, "Unauthorized", "Unauthorized")
        return None

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/i/oauth2/authorize", self.authorize)
        self.route("POST", "/2/oauth2/token", self.token)
        self.route("POST", "/2/oauth2/revoke", self.revoke)
        self.route("GET", "/2/users/me", self.me)
        self.route("POST", "/2/tweets", self.create_tweet)
        self.route("GET", r"/2/users/(?P<uid>\d+)/tweets", self.timeline)
        self.route("POST", "/2/media/upload", self.simple_upload)
        self.route("GET", "/2/media/upload", self.media_status)
        self.route("POST", "/2/media/upload/initialize", self.initialize)
        self.route("POST", r"/2/media/upload/(?P<media_id>\d+)/append", self.append)
        self.route("POST", r"/2/media/upload/(?P<media_id>\d+)/finalize", self.finalize)
        self.route("POST", "/2/media/metadata", self.media_metadata)

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect not in self.registered_redirects:
            return Response(400, "Something went wrong: the callback URL is not registered for this app.")
        if q.get("response_type") != "code" or q.get("code_challenge_method") not in ("S256", "plain") \
                or not q.get("code_challenge") or len(q.get("state", "")) > 500:
            return Response(400, "Invalid request")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect, "challenge": q["code_challenge"],
                            "method": q["code_challenge_method"], "issued": time.time()}
        return Response(302, b"", {"Location": f"{redirect}?{urlencode({'state': q.get('state', ''), 'code': code})}"})

    def _client_ok(self, request: Request) -> bool:
        if not self.client_secret:
            return request.arg("client_id") == self.client_id
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    def token(self, request: Request) -> Response:
        a = request.arg
        if not self._client_ok(request):
            return Response(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
        if a("grant_type") == "authorization_code":
            grant = self.codes.pop(a("code") or "", None)
            if grant is None or time.time() - grant["issued"] > self.code_lifetime:
                return Response(400, {"error": "invalid_request",
                                      "error_description": "Value passed for the authorization code was invalid."})
            verifier = a("code_verifier") or ""
            expected = s256(verifier) if grant["method"] == "S256" else verifier
            if expected != grant["challenge"] or a("redirect_uri") != grant["redirect_uri"]:
                return Response(400, {"error": "invalid_request",
                                      "error_description": "Value passed for the code verifier was invalid."})
            return Response(200, self.issue_tokens())
        if a("grant_type") == "refresh_token":
            old = a("refresh_token") or ""
            if old not in self.refresh_tokens:
                return Response(400, {"error": "invalid_request",
                                      "error_description": "Value passed for the token was invalid."})
            if self.rotate_refresh_tokens:
                self.refresh_tokens.discard(old)
            self.refreshes += 1
            body = self.issue_tokens()
            if not self.rotate_refresh_tokens:
                self.refresh_tokens.discard(body["refresh_token"])
                body["refresh_token"] = old
            return Response(200, body)
        return Response(400, {"error": "unsupported_grant_type"})

    def revoke(self, request: Request) -> Response:
        if not self._client_ok(request):
            return Response(401, {"error": "unauthorized_client"})
        token = request.arg("token") or ""
        self.tokens.pop(token, None)
        self.refresh_tokens.discard(token)
        return Response(200, {"revoked": True})

    def me(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"data": {"id": self.user_id, "name": self.name_,
                                                                "username": self.username}})

    def create_tweet(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        allowed = {"text", "media", "reply", "quote_tweet_id", "poll", "reply_settings", "made_with_ai",
                   "paid_partnership", "community_id", "geo", "nullcast", "card_uri", "edit_options"}
        if set(body) - allowed:
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                           "https://api.x.com/2/problems/invalid-request")
        text = str(body.get("text") or "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            return problem(400, "Invalid Request", "Post text or media is required.",
                           "https://api.x.com/2/problems/invalid-request")
        if not 0 <= len(media_ids) <= 4:
            return problem(400, "Invalid Request", "media_ids must have between 1 and 4 items.",
                           "https://api.x.com/2/problems/invalid-request")
        for media_id in media_ids:
            m = self.media.get(media_id)
            if m is None or m["state"] != "succeeded":
                return problem(400, "Invalid Request", f"Your media IDs are invalid: {media_id}.",
                               "https://api.x.com/2/problems/invalid-request")
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if reply_to:
            if not any(t["id"] == reply_to for t in self.tweets):
                return problem(400, "Invalid Request", "The post you are replying to does not exist.")
            if self.replies_need_summoning:
                return problem(403, "Forbidden", "Reply to this conversation is not allowed because you have not "
                               "been mentioned or otherwise engaged by the author of the post you are replying to.")
        if text and any(t["text"] == text for t in self.tweets):
            return problem(403, "Forbidden", DUPLICATE)
        tweet_id = str(next(self._ids))
        self.tweets.append({"id": tweet_id, "text": text, "media_ids": media_ids, "in_reply_to": reply_to,
                            "created": time.time()})
        # CreatePostsResponseData in X's current OpenAPI document names it edit_history_post_ids.
        return Response(201, {"data": {"id": tweet_id, "text": text, "edit_history_post_ids": [tweet_id]}})

    def timeline(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if not self.timeline_readable:
            return problem(403, "Client Forbidden", "When authenticating requests to the Twitter API v2 endpoints, "
                           "you must use keys and tokens from a Twitter developer App that is attached to a Project.",
                           "https://api.x.com/2/problems/client-forbidden")
        visible = [t for t in reversed(self.tweets) if time.time() - t["created"] >= self.timeline_lag]
        limit = int((request.query.get("max_results") or ["10"])[0])
        data = [{"id": t["id"], "text": t["text"]} for t in visible[:limit]]
        return Response(200, {"data": data, "meta": {"result_count": len(data)}} if data else
                        {"meta": {"result_count": 0}})

    def _new_media(self, media_type: str, category: str, total: int) -> dict[str, Any]:
        media_id = str(next(self._media_ids))
        m = {"id": media_id, "media_type": media_type, "category": category, "total_bytes": total,
             "segments": {}, "data": b"", "state": "uploading", "finalized_at": 0.0}
        self.media[media_id] = m
        return m

    def simple_upload(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        parts = request.multipart() if request.headers.get("content-type", "").startswith("multipart/") else {}
        if "media" not in parts:
            return problem(400, "Invalid Request", "media is required")
        category = parts["media_category"].data.decode() if "media_category" in parts else "tweet_image"
        if category != "tweet_image":
            return problem(400, "Invalid Request", "Use the chunked upload for videos and GIFs.")
        m = self._new_media(parts["media"].content_type, category, len(parts["media"].data))
        m.update(data=parts["media"].data, state="succeeded")
        return Response(200, {"data": {"id": m["id"], "media_key": f"3_{m['id']}", "size": len(m["data"]),
                                       "expires_after_secs": 86400}})

    def initialize(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        total = int(body.get("total_bytes") or 0)
        if not body.get("media_type") or not 0 < total <= 17_179_869_184:
            return problem(400, "Invalid Request", "media_type and total_bytes are required")
        if body["media_type"] not in MEDIA_TYPES:
            return problem(400, "Invalid Request", f"media_type {body['media_type']} is not supported",
                           "https://api.x.com/2/problems/invalid-request")
        m = self._new_media(str(body["media_type"]), str(body.get("media_category") or ""), total)
        return Response(200, {"data": {"id": m["id"], "media_key": f"7_{m['id']}", "expires_after_secs": 86400}})

    def append(self, request: Request, media_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        m = self.media.get(media_id)
        parts = request.multipart()
        if m is None or m["state"] != "uploading" or "media" not in parts or "segment_index" not in parts:
            return problem(400, "Invalid Request", "Invalid media_id or segment")
        index = int(parts["segment_index"].data)
        if not 0 <= index <= 999:
            return problem(400, "Invalid Request", "segment_index must be between 0 and 999")
        m["segments"][index] = parts["media"].data
        return Response(200, {"data": {"expires_at": int(time.time()) + 86400}})

    def finalize(self, request: Request, media_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        m = self.media.get(media_id)
        if m is None:
            return problem(400, "Invalid Request", "Invalid media_id")
        data = b"".join(m["segments"][i] for i in sorted(m["segments"]))
        if len(data) != m["total_bytes"]:
            return problem(400, "Invalid Request", "File size does not match the total_bytes given at initialize")
        m.update(data=data, state="pending", finalized_at=time.monotonic())
        return Response(200, {"data": {"id": media_id, "media_key": f"7_{media_id}", "size": len(data),
                                       "expires_after_secs": 86400, "processing_info": self._processing(m)}})

    def _processing(self, m: dict[str, Any]) -> dict[str, Any]:
        if m["state"] in ("pending", "in_progress"):
            waited = time.monotonic() - m["finalized_at"]
            if waited >= self.processing_seconds:
                m["state"] = "failed" if self.processing_fails else "succeeded"
            else:
                m["state"] = "in_progress"
        info: dict[str, Any] = {"state": m["state"]}
        if m["state"] == "in_progress":
            info.update(check_after_secs=1, progress_percent=50)
        if m["state"] == "failed":
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
        return info

    def media_metadata(self, request: Request) -> Response:
        """POST /2/media/metadata {"id", "metadata": {"alt_text": {"text"}}}: alt text, at most 1,000 characters."""
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        m = self.media.get(str(body.get("id") or ""))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if m is None:
            return problem(400, "Invalid Request", "Invalid media id", "https://api.x.com/2/problems/invalid-request")
        if not isinstance(alt, str) or len(alt) > 1000:
            return problem(400, "Invalid Request", "alt_text.text must be a string of at most 1000 characters",
                           "https://api.x.com/2/problems/invalid-request")
        m["alt_text"] = alt
        return Response(200, {"data": {"id": m["id"], "associated_metadata": {"alt_text": {"text": alt}}}})

    def media_status(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        q = {k: v[0] for k, v in request.query.items()}
        m = self.media.get(q.get("media_id", ""))
        if q.get("command") != "STATUS" or m is None:
            return problem(400, "Invalid Request", "Invalid media_id")
        return Response(200, {"data": {"id": m["id"], "media_key": f"7_{m['id']}",
                                       "processing_info": self._processing(m)}})


# InitializeMediaUploadRequest.media_type's enum in X's OpenAPI document (the upload formats).
MEDIA_TYPES = {"video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt", "image/jpeg",
               "image/gif", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff", "model/gltf-binary",
               "model/vnd.usdz+zip"}


def main() -> None:
    serve_main(FakeX)


if __name__ == "__main__":
    main()
