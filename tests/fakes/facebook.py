"""A fake Facebook Graph API for Pages (platforms.md §6): feed posts with `message`/`link`,
photos and videos from multipart `source` or a URL, unpublished (and temporary) photos attached
to a feed post with `attached_media`, native scheduling with its 10-minute lower bound and a
configurable upper bound, comments, the Page feed / scheduled posts / videos listings,
`X-Page-Usage` headers, user and Page tokens, the code and fb_exchange_token exchanges, and
Meta's error envelope (throttling codes, 190 expired token, 506 duplicate).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, serve_main
from tests.fakes.threads import DAY, graph_error

V = "/v26.0"
MIN_LEAD = 600


class FakeFacebook(FakeServer):
    name = "facebook"

    def __init__(self, port: int = 0) -> None:
        self.user_id = "10200000000000001"
        self.user_name = "Alice Example"
        self.page_id = "10900000000000042"
        self.page_name = "Alice's Bakery"
        self.app_id = "556677889900"
        self.app_secret = "fake-fb-app-secret-0123456789"
        self.max_schedule_ahead = 30 * DAY  # 30 days vs 6 months is unverified: configurable
        self.page_usage: dict[str, int] = {"call_count": 3, "total_cputime": 1, "total_time": 2}
        self.user_tokens: dict[str, float] = {}  # token -> expiry
        self.page_tokens: dict[str, float] = {}  # token -> expiry (0 = never)
        self.codes: dict[str, str] = {}
        self.posts: list[dict[str, Any]] = []  # what the Page shows (or will show, when scheduled)
        self.photos: dict[str, dict[str, Any]] = {}  # every uploaded photo
        self.comments: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_user_token(self, lifetime: float = 60 * DAY) -> str:
        token = "EAAU" + secrets.token_urlsafe(40)
        self.user_tokens[token] = time.time() + lifetime
        return token

    def issue_page_token(self, lifetime: float = 0) -> str:
        token = "EAAP" + secrets.token_urlsafe(40)
        self.page_tokens[token] = time.time() + lifetime if lifetime else 0.0
        return token

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.posts if not p["scheduled_publish_time"]]

    def scheduled(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.posts if p["scheduled_publish_time"]]

    def state(self) -> dict[str, Any]:
        return {"posts": [{k: v for k, v in p.items() if k != "data"} for p in self.posts],
                "photos": len(self.photos), "comments": self.comments}

    def default_error(self, status: int) -> Any:
        return {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                          "type": "OAuthException", "code": 2, "is_transient": True, "fbtrace_id": "Afake"}}

    def decorate(self, request: Request, response: Response) -> Response:
        response.headers.setdefault("X-Page-Usage", json.dumps(self.page_usage))
        return response

    def _token(self, request: Request) -> str:
        return request.bearer or (request.query.get("access_token") or [""])[0]

    def _page_authed(self, request: Request, page: str | None = None) -> Response | None:
        token = self._token(request)
        if token not in self.page_tokens:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        expiry = self.page_tokens[token]
        if expiry and expiry < time.time():
            return graph_error("Error validating access token: Session has expired", 190, 463)
        if page is not None and page != self.page_id:
            return graph_error("(#200) The user hasn't authorized the application to perform this action", 200)
        return None

    def _now_id(self) -> str:
        return f"{self.page_id}_{next(self._ids)}"

    def _schedule(self, request: Request) -> tuple[int, Response | None]:
        """(scheduled epoch or 0, an error answer)."""
        a = request.arg
        published = (a("published") or "true") != "false"
        at = a("scheduled_publish_time")
        if published:
            return 0, (graph_error("(#100) scheduled_publish_time needs published=false", 100) if at else None)
        if not at:
            return 0, None
        ahead = int(at) - time.time()
        if ahead < MIN_LEAD or ahead > self.max_schedule_ahead:
            return 0, graph_error("(#100) The specified scheduled publish time is invalid.", 100,
                                  user_msg="Scheduled posts must be between 10 minutes and 30 days from now.")
        return int(at), None

    def _record(self, kind: str, request: Request, text: str, scheduled: int, **extra: Any) -> dict[str, Any]:
        post = {"id": self._now_id(), "kind": kind, "message": text, "scheduled_publish_time": scheduled,
                "created_time": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()), **extra}
        self.posts.append(post)
        return post

    def _media(self, request: Request, url_field: str) -> tuple[bytes | None, str | None, Response | None]:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            part = request.multipart().get("source")
            if part is not None and part.filename:
                return part.data, None, None
        url = request.arg(url_field)
        if url:
            return None, url, None
        return None, None, graph_error(f"(#100) source or {url_field} is required", 100)

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", f"{V}/me", self.me)
        self.route("GET", f"{V}/me/accounts", self.accounts)
        self.route("GET", f"{V}/oauth/access_token", self.exchange)
        self.route("GET", f"{V}/dialog/oauth", self.authorize)
        self.route("POST", rf"{V}/(?P<page>\d+)/feed", self.create_feed_post)
        self.route("GET", rf"{V}/(?P<page>\d+)/feed", self.list_feed)
        self.route("GET", rf"{V}/(?P<page>\d+)/scheduled_posts", self.list_scheduled)
        self.route("GET", rf"{V}/(?P<page>\d+)/videos", self.list_videos)
        self.route("POST", rf"{V}/(?P<page>\d+)/photos", self.upload_photo)
        self.route("POST", rf"{V}/(?P<page>\d+)/videos", self.upload_video)
        self.route("POST", rf"{V}/(?P<post_id>\d+_\d+)/comments", self.comment)
        self.route("GET", rf"{V}/(?P<page>\d+)", self.get_page)

    def me(self, request: Request) -> Response:
        token = self._token(request)
        if token in self.user_tokens and self.user_tokens[token] > time.time():
            return Response(200, {"id": self.user_id, "name": self.user_name})
        return self._page_authed(request) or Response(200, {"id": self.page_id, "name": self.page_name})

    def accounts(self, request: Request) -> Response:
        token = self._token(request)
        if token in self.page_tokens:
            return Response(200, {"data": []})  # a Page token lists no Pages
        if token not in self.user_tokens or self.user_tokens[token] < time.time():
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        page = {"id": self.page_id, "name": self.page_name, "access_token": self.issue_page_token()}
        fields = set((request.arg("fields") or "id,name").split(","))  # Graph answers the fields asked for
        return Response(200, {"data": [{k: v for k, v in page.items() if k in fields | {"id"}}]})

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        if q.get("client_id") != self.app_id or not q.get("redirect_uri", "").startswith("https://"):
            return Response(400, "Invalid redirect_uri: only https addresses are allowed")
        code = secrets.token_urlsafe(24)
        self.codes[code] = q["redirect_uri"]
        query = urlencode({"code": code, **({"state": q["state"]} if "state" in q else {})})
        return Response(302, b"", {"Location": f"{q['redirect_uri']}?{query}#_=_"})

    def exchange(self, request: Request) -> Response:
        a = request.arg
        if a("client_id") != self.app_id or a("client_secret") != self.app_secret:
            return graph_error("Error validating client secret.", 1, 404078)
        if a("grant_type") == "fb_exchange_token":
            if a("fb_exchange_token") not in self.user_tokens:
                return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
            return Response(200, {"access_token": self.issue_user_token(), "token_type": "bearer",
                                  "expires_in": int(60 * DAY)})
        redirect = self.codes.pop(a("code") or "", None)
        if redirect is None or redirect != a("redirect_uri"):
            return graph_error("Invalid verification code format.", 100, 36008)
        return Response(200, {"access_token": self.issue_user_token(3600), "token_type": "bearer",
                              "expires_in": 3600})

    def get_page(self, request: Request, page: str) -> Response:
        return self._page_authed(request, page) or Response(200, {"id": self.page_id, "name": self.page_name})

    def create_feed_post(self, request: Request, page: str) -> Response:
        denied = self._page_authed(request, page)
        if denied:
            return denied
        scheduled, bad = self._schedule(request)
        if bad:
            return bad
        message = request.arg("message") or ""
        attached = json.loads(request.arg("attached_media") or "[]")
        photo_ids = [str(m.get("media_fbid")) for m in attached]
        for pid in photo_ids:
            photo = self.photos.get(pid)
            if photo is None or photo["published"] or photo["attached_to"]:
                return graph_error("(#100) Invalid media_fbid", 100)
            if scheduled and not photo["temporary"]:
                return graph_error("(#100) Photos of a scheduled post must be uploaded with temporary=true", 100)
        if not message and not photo_ids and not request.arg("link"):
            return graph_error("(#100) A post needs a message, a link or media", 100)
        post = self._record("photos" if photo_ids else "status", request, message, scheduled,
                            link=request.arg("link"), photo_ids=photo_ids)
        for pid in photo_ids:
            self.photos[pid]["attached_to"] = post["id"]
        return Response(200, {"id": post["id"]})

    def upload_photo(self, request: Request, page: str) -> Response:
        denied = self._page_authed(request, page)
        if denied:
            return denied
        data, url, bad = self._media(request, "url")
        if bad:
            return bad
        published = (request.arg("published") or "true") != "false"
        scheduled, bad = self._schedule(request)
        if bad:
            return bad
        photo_id = str(next(self._ids) + 50_000_000)
        self.photos[photo_id] = {"id": photo_id, "size": len(data) if data is not None else None, "url": url,
                                 "published": published or bool(scheduled), "attached_to": None,
                                 "temporary": request.arg("temporary") == "true", "alt": request.arg("alt_text_custom")}
        if not published and not scheduled:
            return Response(200, {"id": photo_id})
        post = self._record("photo", request, request.arg("message") or "", scheduled, photo_ids=[photo_id])
        return Response(200, {"id": photo_id, "post_id": post["id"]})

    def upload_video(self, request: Request, page: str) -> Response:
        denied = self._page_authed(request, page)
        if denied:
            return denied
        data, url, bad = self._media(request, "file_url")
        if bad:
            return bad
        scheduled, bad = self._schedule(request)
        if bad:
            return bad
        post = self._record("video", request, request.arg("description") or "", scheduled,
                            title=request.arg("title"), size=len(data) if data is not None else None, url=url)
        video_id = str(next(self._ids) + 70_000_000)
        post["video_id"] = video_id
        return Response(200, {"id": video_id})

    def _listing(self, items: list[dict[str, Any]], field: str, out: str) -> Response:
        return Response(200, {"data": [{"id": p.get("video_id") or p["id"], out: p["message"],
                                        "created_time": p["created_time"]} for p in reversed(items)][:25]})

    def list_feed(self, request: Request, page: str) -> Response:
        return self._page_authed(request, page) or self._listing(
            [p for p in self.published() if p["kind"] != "video"], "message", "message")

    def list_scheduled(self, request: Request, page: str) -> Response:
        return self._page_authed(request, page) or self._listing(
            [p for p in self.scheduled() if p["kind"] != "video"], "message", "message")

    def list_videos(self, request: Request, page: str) -> Response:
        return self._page_authed(request, page) or self._listing(
            [p for p in self.posts if p["kind"] == "video"], "message", "description")

    def comment(self, request: Request, post_id: str) -> Response:
        denied = self._page_authed(request)
        if denied:
            return denied
        if not any(p["id"] == post_id for p in self.published()):
            return graph_error("(#100) Unsupported post request", 100, 33)
        comment = {"id": f"{post_id}_{next(self._ids)}", "post_id": post_id, "message": request.arg("message") or ""}
        self.comments.append(comment)
        return Response(200, {"id": comment["id"]})


def main() -> None:
    serve_main(FakeFacebook)


if __name__ == "__main__":
    main()
