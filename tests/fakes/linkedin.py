"""A fake LinkedIn API (platforms.md §5): the standard authorization-code flow with a client secret
on an exactly registered redirect, 60-day tokens (a refresh token only in "partner" mode),
`/v2/userinfo`, the Images and Videos upload flows (initializeUpload, PUT, finalizeUpload with
ETags, then PROCESSING -> AVAILABLE), `POST /rest/posts` answering 201 with an empty body and the
URN in `x-restli-id`, comments, and reading posts only with `r_member_social`. Every `/rest` call
needs `LinkedIn-Version` and `X-Restli-Protocol-Version`; an `X-RestLi-Method` header must name the
call's Rest.li method, and the author finder needs it (FINDER), as the Posts API shows it.
Commentary is "little text": like LinkedIn, the fake keeps it only up to the first unescaped
reserved character. A comment's message is plain text (mentions are offset attributes), kept as sent.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, serve_main

RESERVED = set("|{}@[]()<>#\\*_~")
# The Rest.li method of each call, as LinkedIn's client names it (X-RestLi-Method)
RESTLI_METHODS = [("GET", r"/rest/posts", "FINDER"), ("POST", r"/rest/(posts|socialActions/[^/]+/comments)", "CREATE"),
                  ("POST", r"/rest/(images|videos)", "ACTION"), ("GET", r"/rest/videos/[^/]+", "GET")]


def stored_commentary(text: str) -> str:
    """What LinkedIn keeps of a commentary: everything before the first unescaped reserved character."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in RESERVED:
            out.append(text[i:i + 2])
            i += 2
            continue
        if ch in RESERVED:
            break
        out.append(ch)
        i += 1
    return "".join(out)


def li_error(status: int, message: str, code: int | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"status": status, "message": message, **extra}
    if code is not None:
        body["serviceErrorCode"] = code
    return Response(status, body)


class FakeLinkedIn(FakeServer):
    name = "linkedin"

    def __init__(self, port: int = 0) -> None:
        self.client_id = "fake-linkedin-client"
        self.client_secret = "fake-linkedin-secret"
        self.registered_redirects: list[str] = []
        self.active_versions = {"202610", "202611"}
        self.person_id = "abc123XYZ"
        self.name_ = "Alice on LinkedIn"
        self.token_lifetime = 60 * 86400
        self.partner = False  # approved partners also get refresh tokens
        self.can_read_posts = False  # reading one's own posts needs r_member_social (restricted)
        self.video_processing_seconds = 0.0
        self.video_fails = False
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.images: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self._ids = itertools.count(7_200_000_000_000_000_001)
        super().__init__(port)

    @property
    def author(self) -> str:
        return f"urn:li:person:{self.person_id}"

    def issue_tokens(self, *, expires_in: float | None = None) -> dict[str, Any]:
        access = "AQV" + secrets.token_urlsafe(40)
        lifetime = self.token_lifetime if expires_in is None else expires_in
        self.tokens[access] = time.time() + lifetime
        body: dict[str, Any] = {"access_token": access, "expires_in": int(lifetime),
                                "scope": "openid,profile,w_member_social", "token_type": "Bearer"}
        if self.partner:
            refresh = "AQX" + secrets.token_urlsafe(40)
            self.refresh_tokens.add(refresh)
            body.update(refresh_token=refresh, refresh_token_expires_in=365 * 86400)
        return body

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.posts)

    def state(self) -> dict[str, Any]:
        return {"posts": self.posts, "comments": self.comments}

    def default_error(self, status: int) -> Any:
        return {"status": status, "message": "Internal Server Error" if status >= 500 else "Too Many Requests"}

    def _authed(self, request: Request) -> Response | None:
        expiry = self.tokens.get(request.bearer or "")
        if expiry is None:
            return li_error(401, "Invalid access token", 65600)
        if expiry < time.time():
            return li_error(401, "The token used in the request has expired", 65601, code="EXPIRED_ACCESS_TOKEN")
        if request.path.startswith("/rest/"):
            version = request.headers.get("linkedin-version", "")
            if request.headers.get("x-restli-protocol-version") != "2.0.0":
                return li_error(400, "X-Restli-Protocol-Version 2.0.0 is required")
            if version not in self.active_versions:
                return li_error(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION")
            named = request.headers.get("x-restli-method", "")
            method = next((m for verb, path, m in RESTLI_METHODS
                           if verb == request.method and re.fullmatch(path, request.path)), "")
            if named and named.upper() != method:
                return li_error(400, f"X-RestLi-Method {named} does not match the request ({method})")
        return None

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/oauth/v2/authorization", self.authorize)
        self.route("POST", "/oauth/v2/accessToken", self.access_token)
        self.route("GET", "/v2/userinfo", self.userinfo)
        self.route("POST", "/rest/images", self.images_action)
        self.route("PUT", r"/upload/image/(?P<image_id>\d+)", self.put_image)
        self.route("POST", "/rest/videos", self.videos_action)
        self.route("PUT", r"/upload/video/(?P<video_id>\d+)/(?P<part>\d+)", self.put_video_part)
        self.route("GET", r"/rest/videos/(?P<urn>urn:li:video:\d+)", self.get_video)
        self.route("POST", "/rest/posts", self.create_post)
        self.route("GET", "/rest/posts", self.find_posts)
        self.route("POST", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self.comment)

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect not in self.registered_redirects:
            return Response(400, "The redirect_uri does not match the registered value")
        code = secrets.token_urlsafe(24)
        self.codes[code] = redirect
        return Response(302, b"", {"Location": f"{redirect}?{urlencode({'code': code, 'state': q.get('state', '')})}"})

    def access_token(self, request: Request) -> Response:
        a = request.arg
        if a("client_id") != self.client_id or a("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if a("grant_type") == "authorization_code":
            if self.codes.pop(a("code") or "", None) != a("redirect_uri"):
                return Response(400, {"error": "invalid_request",
                                      "error_description": "Unable to retrieve access token: appid/redirect uri/code "
                                      "verifier does not match authorization code."})
            return Response(200, self.issue_tokens())
        if a("grant_type") == "refresh_token" and a("refresh_token") in self.refresh_tokens:
            return Response(200, self.issue_tokens())
        return Response(400, {"error": "invalid_request", "error_description": "The provided authorization grant "
                              "or refresh token is invalid, expired or revoked."})

    def userinfo(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"sub": self.person_id, "name": self.name_,
                                                       "given_name": "Alice", "locale": {"language": "en"}})

    def images_action(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        owner = ((request.json() or {}).get("initializeUploadRequest") or {}).get("owner")
        if request.arg("action") != "initializeUpload" or owner != self.author:
            return li_error(400, "initializeUploadRequest.owner is invalid")
        image_id = str(next(self._ids))
        self.images[image_id] = {"urn": f"urn:li:image:{image_id}", "data": None}
        return Response(200, {"value": {"uploadUrlExpiresAt": int(time.time() * 1000) + 3600_000,
                                        "uploadUrl": f"{self.url}/upload/image/{image_id}",
                                        "image": f"urn:li:image:{image_id}"}})

    def put_image(self, request: Request, image_id: str) -> Response:
        if image_id not in self.images or not request.body:
            return Response(400, {"message": "bad upload"})
        self.images[image_id]["data"] = request.body
        return Response(201, b"")

    def videos_action(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        if request.arg("action") == "initializeUpload":
            init = body.get("initializeUploadRequest") or {}
            size = int(init.get("fileSizeBytes") or 0)
            if init.get("owner") != self.author or size <= 0:
                return li_error(400, "initializeUploadRequest is invalid")
            video_id = str(next(self._ids))
            part = 4 * 1024 * 1024 if size > 4 * 1024 * 1024 else size
            instructions = []
            for n, first in enumerate(range(0, size, part)):
                last = min(size, first + part) - 1
                instructions.append({"uploadUrl": f"{self.url}/upload/video/{video_id}/{n}", "firstByte": first,
                                     "lastByte": last})
            self.videos[video_id] = {"urn": f"urn:li:video:{video_id}", "size": size, "parts": {},
                                     "token": secrets.token_hex(4), "status": "WAITING_UPLOAD", "finalized": 0.0,
                                     "etags": []}
            return Response(200, {"value": {"video": f"urn:li:video:{video_id}", "uploadToken": self.videos[video_id]["token"],
                                            "uploadInstructions": instructions,
                                            "uploadUrlsExpireAt": int(time.time() * 1000) + 3600_000}})
        if request.arg("action") == "finalizeUpload":
            fin = body.get("finalizeUploadRequest") or {}
            video = next((v for v in self.videos.values() if v["urn"] == fin.get("video")), None)
            if video is None or fin.get("uploadToken") != video["token"] \
                    or list(fin.get("uploadedPartIds") or []) != video["etags"] \
                    or sum(len(d) for d in video["parts"].values()) != video["size"]:
                return li_error(400, "finalizeUploadRequest does not match the uploaded parts")
            video.update(status="PROCESSING", finalized=time.monotonic())
            return Response(200, b"")
        return li_error(400, "unknown action")

    def put_video_part(self, request: Request, video_id: str, part: str) -> Response:
        video = self.videos.get(video_id)
        if video is None or not request.body:
            return Response(400, {"message": "bad upload"})
        video["parts"][int(part)] = request.body
        etag = "/" + secrets.token_urlsafe(12)
        video["etags"].append(etag)
        return Response(200, b"", {"ETag": etag})

    def get_video(self, request: Request, urn: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        video = next((v for v in self.videos.values() if v["urn"] == urn), None)
        if video is None:
            return li_error(404, "Not found")
        if video["status"] == "PROCESSING" and time.monotonic() - video["finalized"] >= self.video_processing_seconds:
            video["status"] = "PROCESSING_FAILED" if self.video_fails else "AVAILABLE"
        return Response(200, {"id": urn, "status": video["status"], "owner": self.author})

    def create_post(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        if body.get("author") != self.author or body.get("lifecycleState") != "PUBLISHED" \
                or body.get("visibility") not in ("PUBLIC", "CONNECTIONS"):
            return li_error(422, "ERROR :: /author :: is not a valid author for this member")
        content = body.get("content") or {}
        ids = [content["media"]["id"]] if "media" in content else \
            [i["id"] for i in (content.get("multiImage") or {}).get("images") or []]
        if "multiImage" in content and not 2 <= len(ids) <= 20:
            return li_error(422, "multiImage needs between 2 and 20 images")
        for urn in ids:
            kind, _, number = urn.rpartition(":")
            ready = (kind == "urn:li:image" and (self.images.get(number) or {}).get("data")) or \
                    (kind == "urn:li:video" and (self.videos.get(number) or {}).get("status") == "AVAILABLE")
            if not ready:
                return li_error(422, f"ERROR :: /content/media/id :: {urn} is not ready")
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append({"id": urn, "commentary": stored_commentary(str(body.get("commentary") or "")),
                           "sent_commentary": body.get("commentary"), "media": ids, "content": content,
                           "kind": "multiImage" if "multiImage" in content else ("media" if ids else "text"),
                           "createdAt": int(time.time() * 1000)})
        return Response(201, b"", {"x-restli-id": urn})

    def find_posts(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if request.headers.get("x-restli-method", "").upper() != "FINDER":
            return li_error(400, "The author finder needs the header X-RestLi-Method: FINDER")
        if not self.can_read_posts:
            return li_error(403, "Not enough permissions to access: partnerApiPostsExternal.FINDER-author.20261001",
                            100)
        if request.arg("q") != "author" or request.arg("author") != self.author:
            return li_error(400, "q=author and author are required")
        count = int(request.arg("count") or 10)
        elements = [{"id": p["id"], "commentary": p["commentary"], "createdAt": p["createdAt"],
                     "author": self.author} for p in reversed(self.posts)][:count]
        return Response(200, {"elements": elements, "paging": {"count": count, "start": 0}})

    def comment(self, request: Request, urn: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = request.json() or {}
        if not any(p["id"] == urn for p in self.posts) or body.get("object") != urn:
            return li_error(404, "The post does not exist")
        self.comments.append({"object": urn, "actor": body.get("actor"), "text": (body.get("message") or {}).get("text")})
        return Response(201, b"", {"x-restli-id": f"urn:li:comment:({urn},{next(self._ids)})"})


def main() -> None:
    serve_main(FakeLinkedIn)


if __name__ == "__main__":
    main()
