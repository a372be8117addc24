"""A fake Threads Graph API (platforms.md §1, §6): two-phase containers (IN_PROGRESS -> FINISHED ->
PUBLISHED, or EXPIRED / ERROR), `threads_publish` answering 24/4279009 while a container is not
ready, carousels of 2-20 children, replies, the publishing quota, long-lived token exchange and
refresh (refused under 24 h), the code exchange behind the HTTPS-only redirect, Meta's error envelope.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import regex

from tests.fakes.server import FakeServer, Request, Response, serve_main

_URL = re.compile(r"https?://\S+")
_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def threads_length(text: str) -> int:
    """Threads' count: "emojis are counted as the number of UTF-8 bytes" (Threads Posts page, 2026-04-14)."""
    return sum(len(c.encode("utf-8")) if _EMOJI.search(c) else len(c) for c in _CLUSTER.findall(text))
DAY = 86400.0
_ID = r"(?P<uid>me|\d+)"


def graph_error(message: str, code: int, subcode: int | None = None, *, status: int = 400,
                user_title: str = "", user_msg: str = "", type_: str = "OAuthException") -> Response:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code, "is_transient": False,
                             "fbtrace_id": "A" + secrets.token_hex(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title:
        error["error_user_title"] = user_title
    if user_msg:
        error["error_user_msg"] = user_msg
    return Response(status, {"error": error})


def not_ready(container_id: str) -> Response:
    return graph_error("The requested resource does not exist", 24, 4279009, user_title="Media Not Found",
                       user_msg=f"The media with id {container_id} cannot be found.")


class FakeThreads(FakeServer):
    name = "threads"

    def __init__(self, port: int = 0) -> None:
        self.user_id = "17841400000000001"
        self.username = "alice.threads"
        self.display_name = "Alice on Threads"
        self.app_id = "1234567890"
        self.app_secret = "fake-app-secret-0123456789"
        self.ready_after = 0.0  # seconds a container stays IN_PROGRESS
        self.not_ready_publishes = 0  # publish answers 24/4279009 this many times regardless
        self.expire_new_containers = 0  # the next N containers are born EXPIRED (as if 24 h passed)
        self.processing_error = ""  # e.g. "FAILED_DOWNLOADING_VIDEO": new containers end in ERROR
        self.quota_total = 250
        self.token_lifetime = 60 * DAY
        self.tokens: dict[str, dict[str, float]] = {}  # token -> {"issued", "expires"} (epoch seconds)
        self.codes: dict[str, str] = {}  # code -> redirect_uri
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: list[dict[str, Any]] = []
        self.refreshes = 0
        self._container_ids = itertools.count(18_000_000_000_000_001)
        self._media_ids = itertools.count(17_900_000_000_000_001)
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_token(self, *, age: float = 0.0, token: str | None = None) -> str:
        """A long-lived token issued `age` seconds ago."""
        token = token or "TH" + secrets.token_urlsafe(40)
        issued = time.time() - age
        self.tokens[token] = {"issued": issued, "expires": issued + self.token_lifetime}
        return token

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.media if not m["reply_to_id"]]

    def replies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.media if m["reply_to_id"]]

    def state(self) -> dict[str, Any]:
        return {"media": self.media, "containers": self.containers, "refreshes": self.refreshes}

    def expire(self, container_id: str) -> None:
        with self.lock:
            self.containers[container_id]["forced"] = "EXPIRED"

    def default_error(self, status: int) -> Any:
        return {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                          "type": "OAuthException", "code": 2, "is_transient": True, "fbtrace_id": "Afake"}}

    def _token(self, request: Request) -> str | None:
        return request.bearer or (request.query.get("access_token") or [None])[0]

    def _authed(self, request: Request) -> Response | None:
        token = self._token(request)
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
        if c.get("error_message"):
            return "ERROR"
        if any(self._status(self.containers[k]) != "FINISHED" for k in c["children"]):
            return "IN_PROGRESS"
        return "FINISHED"

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("GET", "/v1.0/me", self.me)
        self.route("POST", f"/v1.0/{_ID}/threads", self.create_container)
        self.route("GET", f"/v1.0/{_ID}/threads", self.list_threads)
        self.route("POST", f"/v1.0/{_ID}/threads_publish", self.publish)
        self.route("GET", f"/v1.0/{_ID}/threads_publishing_limit", self.publishing_limit)
        self.route("GET", r"/v1.0/(?P<object_id>\d+)", self.get_object)
        self.route("GET", "/refresh_access_token", self.refresh)
        self.route("GET", "/oauth/authorize", self.authorize)
        self.route("POST", "/oauth/access_token", self.exchange_code)
        self.route("GET", "/access_token", self.exchange_long_lived)

    def me(self, request: Request) -> Response:
        return self._authed(request) or Response(200, {"id": self.user_id, "username": self.username,
                                                       "name": self.display_name})

    def create_container(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        a = request.arg
        media_type = (a("media_type") or "").upper()
        text = a("text") or ""
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return graph_error("(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}", 100,
                               type_="THApiException")
        if threads_length(text) > 500:
            return graph_error("(#100) Param text must be at most 500 characters long.", 100)
        if len(set(_URL.findall(text))) > 5:
            return graph_error("Invalid parameter", 100, user_msg="THREADS_API__LINK_LIMIT_EXCEEDED")
        url_param = {"IMAGE": "image_url", "VIDEO": "video_url"}.get(media_type)
        url = a(url_param) if url_param else None
        if url_param and not (url or "").startswith(("http://", "https://")):
            return graph_error(f"(#100) The parameter {url_param} is required and must be a public URL", 100)
        children = [c for c in (a("children") or "").split(",") if c]
        if media_type == "CAROUSEL":
            if not 2 <= len(children) <= 20:
                return graph_error("(#100) A carousel needs between 2 and 20 children", 100)
            if any(c not in self.containers or not self.containers[c]["is_carousel_item"] for c in children):
                return graph_error("(#100) Invalid children", 100)
        reply_to = a("reply_to_id")
        if reply_to and not any(m["id"] == reply_to for m in self.media):
            return graph_error("(#100) Invalid reply_to_id", 100)
        container_id = str(next(self._container_ids))
        self.containers[container_id] = {
            "id": container_id, "media_type": media_type, "text": text, "url": url, "alt_text": a("alt_text"),
            "children": children, "reply_to_id": reply_to, "is_carousel_item": a("is_carousel_item") == "true",
            "created": time.monotonic(), "forced": None, "published_id": None,
            "error_message": self.processing_error or None,
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
            return not_ready(container_id)
        status = self._status(c)
        if status == "PUBLISHED":
            return graph_error("(#100) This media has already been published", 100)
        if status == "ERROR":
            return graph_error("(#100) The media could not be processed", 100, user_msg=c["error_message"] or "")
        if self.not_ready_publishes > 0 or status in ("IN_PROGRESS", "EXPIRED"):
            self.not_ready_publishes = max(0, self.not_ready_publishes - 1)
            return not_ready(container_id)
        if not c["reply_to_id"] and len(self.published()) >= self.quota_total:
            return graph_error("(#4) Application request limit reached", 4)
        media_id = str(next(self._media_ids))
        c["published_id"] = media_id
        self.media.append({"id": media_id, "container_id": container_id, "media_type": c["media_type"],
                           "text": c["text"], "children": c["children"], "reply_to_id": c["reply_to_id"],
                           "permalink": f"https://www.threads.com/@{self.username}/post/{media_id}",
                           "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())})
        return Response(200, {"id": media_id})

    def publishing_limit(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        usage = {
            "quota_usage": len(self.published()), "config": {"quota_total": self.quota_total, "quota_duration": 86400},
            "reply_quota_usage": len(self.replies()), "reply_config": {"quota_total": 1000, "quota_duration": 86400},
        }
        # Only the fields asked for (Threads Troubleshooting page: ?fields=quota_usage,config,...)
        fields = set((request.arg("fields") or "quota_usage,config").split(","))
        return Response(200, {"data": [{k: v for k, v in usage.items() if k in fields}]})

    def list_threads(self, request: Request, uid: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        items = [{"id": m["id"], "text": m["text"], "permalink": m["permalink"], "timestamp": m["timestamp"]}
                 for m in reversed(self.media) if not m["reply_to_id"]]
        return Response(200, {"data": items[:25]})

    def get_object(self, request: Request, object_id: str) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        fields = set((request.arg("fields") or "id").split(","))
        c = self.containers.get(object_id)
        if c is not None:
            body: dict[str, Any] = {"id": object_id, "status": self._status(c)}
            if c.get("error_message"):
                body["error_message"] = c["error_message"]
            return Response(200, {k: v for k, v in body.items() if k in fields | {"id"}})
        for m in self.media:
            if m["id"] == object_id:
                if "status" in fields:
                    return graph_error("(#100) Tried accessing nonexisting field (status)", 100, type_="THApiException")
                return Response(200, {k: v for k, v in m.items() if k in fields | {"id"}})
        return graph_error(f"Unsupported get request. Object with ID '{object_id}' does not exist", 100, 33)

    def refresh(self, request: Request) -> Response:
        token = (request.query.get("access_token") or [""])[0]
        grant = self.tokens.get(token)
        if request.arg("grant_type") != "th_refresh_token" or grant is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if grant["expires"] < time.time():
            return graph_error("Error validating access token: Session has expired", 190, 463)
        if time.time() - grant["issued"] < DAY:
            return graph_error("(#10) The access token must be at least 24 hours old to be refreshed", 10)
        self.refreshes += 1
        new = self.issue_token()
        return Response(200, {"access_token": new, "token_type": "bearer", "expires_in": int(self.token_lifetime)})

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
            return graph_error("Error validating client secret.", 1, 404078)
        redirect = self.codes.pop(a("code") or "", None)
        if a("grant_type") != "authorization_code" or redirect is None or redirect != a("redirect_uri"):
            return graph_error("Invalid verification code format.", 100, 36008)
        short = "THS" + secrets.token_urlsafe(30)
        self.tokens[short] = {"issued": time.time(), "expires": time.time() + 3600}
        return Response(200, {"access_token": short, "user_id": self.user_id})

    def exchange_long_lived(self, request: Request) -> Response:
        a = request.arg
        short = a("access_token") or ""
        if a("grant_type") != "th_exchange_token" or a("client_secret") != self.app_secret or short not in self.tokens:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        return Response(200, {"access_token": self.issue_token(), "token_type": "bearer",
                              "expires_in": int(self.token_lifetime)})


def main() -> None:
    serve_main(FakeThreads)


if __name__ == "__main__":
    main()
