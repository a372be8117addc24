"""A fake Instagram Graph API (Instagram Login; platforms.md §7, §6): containers with `status_code`
(IN_PROGRESS -> FINISHED -> PUBLISHED, or EXPIRED / ERROR), `media_publish` answering 9007/2207027
while a container is not ready, carousels of 2-10 children, reels, comments, the publishing quota,
usage headers, long-lived tokens (exchange, refresh refused under 24 h) and the code exchange.

Media addresses on 127.0.0.1 are fetched when a container is made, as Instagram's cURL would:
an address that does not answer 200 fails with 2207052, like the real thing.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.server import FakeServer, Request, Response, serve_main
from tests.fakes.threads import DAY, graph_error

_ID = r"(?P<uid>me|\d+)"
V = "/v26.0"


def not_ready() -> Response:
    return graph_error("Media ID is not available", 9007, 2207027, user_title="Cannot publish",
                       user_msg="The media is not ready to be published. Please wait a moment.")


class FakeInstagram(FakeServer):
    name = "instagram"

    def __init__(self, port: int = 0) -> None:
        self.user_id = "17841400000000777"
        self.username = "alice.gram"
        self.display_name = "Alice on Instagram"
        self.app_id = "990011223344"
        self.app_secret = "fake-ig-app-secret-0123456789"
        self.ready_after = 0.0  # seconds a container stays IN_PROGRESS
        self.not_ready_publishes = 0  # media_publish answers 9007/2207027 this many times regardless
        self.expire_new_containers = 0  # the next N containers are born EXPIRED (as if 24 h passed)
        self.processing_error = ""  # new containers end in ERROR with this status text
        self.lookup_outage = False  # reads of a published container fail (reconciliation cannot tell)
        self.quota_total = 50  # 100, 50 or 25 depending on which doc you read: configurable
        self.app_usage: dict[str, int] = {"call_count": 5, "total_cputime": 2, "total_time": 3}
        self.token_lifetime = 60 * DAY
        self.tokens: dict[str, dict[str, float]] = {}
        self.codes: dict[str, str] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.fetched: list[str] = []
        self.refreshes = 0
        self._container_ids = itertools.count(18_100_000_000_000_001)
        self._media_ids = itertools.count(17_950_000_000_000_001)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_token(self, *, age: float = 0.0, token: str | None = None) -> str:
        token = token or "IG" + secrets.token_urlsafe(40)
        issued = time.time() - age
        self.tokens[token] = {"issued": issued, "expires": issued + self.token_lifetime}
        return token

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.media)

    def state(self) -> dict[str, Any]:
        return {"media": self.media, "containers": self.containers, "comments": self.comments,
                "refreshes": self.refreshes}

    def expire(self, container_id: str) -> None:
        with self.lock:
            self.containers[container_id]["forced"] = "EXPIRED"

    def default_error(self, status: int) -> Any:
        return {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                          "type": "OAuthException", "code": 2, "is_transient": True, "fbtrace_id": "Afake"}}

    def decorate(self, request: Request, response: Response) -> Response:
        response.headers.setdefault("X-App-Usage", json.dumps(self.app_usage))
        return response

    def _authed(self, request: Request) -> Response | None:
        token = request.bearer or (request.query.get("access_token") or [None])[0]
        grant = self.tokens.get(token or "")
        if grant is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if grant["expires"] < time.time():
            return graph_error("Error validating access token: Session has expired", 190, 463)
        return None

    def _status(self, c: dict[str, Any]) -> str:
        if c.get("published_id"):
            return "PUBLISHED"
        if c.get("forced"):
            return str(c["forced"])
        if time.monotonic() - c["created"] < self.ready_after:
            return "IN_PROGRESS"
        if c.get("error"):
            return "ERROR"
        if any(self._status(self.containers[k]) != "FINISHED" for k in c["children"]):
            return "IN_PROGRESS"
        return "FINISHED"

    def _fetchable(self, url: str) -> bool:
        if not url.startswith("http://127.0.0.1"):
            return True  # pretend the rest of the internet answers
        self.fetched.append(url)
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", f"{V}/me", self.me)
        self.route("POST", f"{V}/{_ID}/media", self.create_container)
        self.route("GET", f"{V}/{_ID}/media", self.list_media)
        self.route("POST", f"{V}/{_ID}/media_publish", self.publish)
        self.route("GET", f"{V}/{_ID}/content_publishing_limit", self.publishing_limit)
        self.route("POST", rf"{V}/(?P<media_id>\d+)/comments", self.comment)
        self.route("GET", rf"{V}/(?P<object_id>\d+)", self.get_object)
        self.route("GET", "/refresh_access_token", self.refresh)
        self.route("GET", "/oauth/authorize", self.authorize)
        self.route("POST", "/oauth/access_token", self.exchange_code)
        self.route("GET", "/access_token", self.exchange_long_lived)

    def me(self, request: Request) -> Response:
        # IGUserForIGOnlyAPI types user_id as an int (facebook-business _field_types), unlike the string ids
        return self._authed(request) or Response(200, {"id": "app-scoped-1", "user_id": int(self.user_id),
                                                       "username": self.username, "name": self.display_name})

    def create_container(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        a = request.arg
        media_type = (a("media_type") or "IMAGE").upper()
        caption = a("caption") or ""
        carousel_item = a("is_carousel_item") == "true"
        if media_type not in ("IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"):
            return graph_error("(#100) Param media_type is not valid", 100)
        if media_type == "VIDEO" and not carousel_item:
            return graph_error("(#100) The VIDEO media type is no longer supported; use REELS", 100, 2207067)
        if len(caption) > 2200:
            return graph_error("The caption is too long", 100, 2207010)
        url = a("video_url") if media_type in ("VIDEO", "REELS") else a("image_url")
        if media_type != "CAROUSEL":
            if not (url or "").startswith(("http://", "https://")):
                return graph_error("(#100) Only photo or video can be accepted as media type.", 9004, 2207052)
            if not self._fetchable(url or ""):
                return graph_error("Media download has failed. The media URI doesn't meet our requirements.",
                                   9004, 2207052)
        children = [c for c in (a("children") or "").split(",") if c]
        if media_type == "CAROUSEL":
            if not 2 <= len(children) <= 10:
                return graph_error("(#100) A carousel needs between 2 and 10 children", 100)
            if any(c not in self.containers or not self.containers[c]["is_carousel_item"] for c in children):
                return graph_error("(#100) Invalid children", 100)
        container_id = str(next(self._container_ids))
        self.containers[container_id] = {
            "id": container_id, "media_type": media_type, "caption": caption, "url": url,
            "alt_text": a("alt_text"), "children": children, "is_carousel_item": carousel_item,
            "created": time.monotonic(), "forced": None, "published_id": None,
            "error": self.processing_error or None,
        }
        if self.expire_new_containers > 0:
            self.expire_new_containers -= 1
            self.containers[container_id]["forced"] = "EXPIRED"
        return Response(200, {"id": container_id})

    def publish(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        container_id = request.arg("creation_id") or ""
        c = self.containers.get(container_id)
        if c is None or c["is_carousel_item"]:
            return graph_error("(#100) Invalid creation_id", 100)
        status = self._status(c)
        if status == "PUBLISHED":
            return graph_error("(#100) This media has already been published", 100)
        if status == "ERROR":
            return graph_error("(#100) The media could not be processed", 100, 2207001)
        if status == "EXPIRED":
            return graph_error("The media has expired", 9004, 2207020)
        if self.not_ready_publishes > 0 or status == "IN_PROGRESS":
            self.not_ready_publishes = max(0, self.not_ready_publishes - 1)
            return not_ready()
        if len(self.media) >= self.quota_total:
            return graph_error("You have reached the maximum number of posts allowed in 24 hours", 9, 2207042)
        media_id = str(next(self._media_ids))
        c["published_id"] = media_id
        self.media.append({"id": media_id, "container_id": container_id, "media_type": c["media_type"],
                           "caption": c["caption"], "children": c["children"],
                           "permalink": f"https://www.instagram.com/p/{media_id}/",
                           "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())})
        return Response(200, {"id": media_id})

    def publishing_limit(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        return Response(200, {"data": [{"quota_usage": len(self.media),
                                        "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]})

    def list_media(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        items = [{"id": m["id"], "caption": m["caption"], "permalink": m["permalink"], "timestamp": m["timestamp"]}
                 for m in reversed(self.media)]
        return Response(200, {"data": items[:25]})

    def comment(self, request: Request, media_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        if not any(m["id"] == media_id for m in self.media):
            return graph_error("(#100) Invalid media id", 100)
        comment_id = str(next(self._media_ids))
        self.comments.append({"id": comment_id, "media_id": media_id, "message": request.arg("message") or ""})
        return Response(200, {"id": comment_id})

    def get_object(self, request: Request, object_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        fields = set((request.arg("fields") or "id").split(","))
        c = self.containers.get(object_id)
        if c is not None:
            if self.lookup_outage and c.get("published_id"):
                return Response(500, self.default_error(500))
            status = self._status(c)
            body: dict[str, Any] = {"id": object_id, "status_code": status,
                                    "status": f"{status}: {c['error']}" if c.get("error") else status}
            return Response(200, {k: v for k, v in body.items() if k in fields | {"id"}})
        for m in self.media:
            if m["id"] == object_id:
                return Response(200, {k: v for k, v in m.items() if k in fields | {"id"}})
        return graph_error(f"Unsupported get request. Object with ID '{object_id}' does not exist", 100, 33)

    def refresh(self, request: Request) -> Response:
        token = (request.query.get("access_token") or [""])[0]
        grant = self.tokens.get(token)
        if request.arg("grant_type") != "ig_refresh_token" or grant is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if grant["expires"] < time.time():
            return graph_error("Error validating access token: Session has expired", 190, 463)
        if time.time() - grant["issued"] < DAY:
            return graph_error("(#10) The access token must be at least 24 hours old to be refreshed", 10)
        self.refreshes += 1
        return Response(200, {"access_token": self.issue_token(), "token_type": "bearer",
                              "expires_in": int(self.token_lifetime)})

    def authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        if q.get("client_id") != self.app_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return Response(400, "Invalid request")
        code = secrets.token_urlsafe(24)
        self.codes[code] = q["redirect_uri"]
        query = urlencode({"code": code, **({"state": q["state"]} if "state" in q else {})})
        return Response(302, b"", {"Location": f"{q['redirect_uri']}?{query}#_"})

    def exchange_code(self, request: Request) -> Response:
        a = request.arg
        if a("client_id") != self.app_id or a("client_secret") != self.app_secret:
            return Response(400, {"error_type": "OAuthException", "code": 400, "error_message": "Invalid client"})
        redirect = self.codes.pop(a("code") or "", None)
        if a("grant_type") != "authorization_code" or redirect is None or redirect != a("redirect_uri"):
            return Response(400, {"error_type": "OAuthException", "code": 400,
                                  "error_message": "Matching code was not found or was already used"})
        short = "IGS" + secrets.token_urlsafe(30)
        self.tokens[short] = {"issued": time.time(), "expires": time.time() + 3600}
        return Response(200, {"data": [{"access_token": short, "user_id": self.user_id,
                                        "permissions": "instagram_business_basic,instagram_business_content_publish"}]})

    def exchange_long_lived(self, request: Request) -> Response:
        a = request.arg
        short = a("access_token") or ""
        if a("grant_type") != "ig_exchange_token" or a("client_secret") != self.app_secret or short not in self.tokens:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        return Response(200, {"access_token": self.issue_token(), "token_type": "bearer",
                              "expires_in": int(self.token_lifetime)})


def main() -> None:
    serve_main(FakeInstagram)


if __name__ == "__main__":
    main()
