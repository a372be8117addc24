"""A fake Mastodon server (platforms.md §3): app registration, OAuth with PKCE, instance
configuration, async media (202 then 206/200), statuses with Idempotency-Key, native scheduling
with its 5-minute and 25-per-day rules, revocation, ISO-8601 rate-limit headers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import ipaddress
import itertools
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes.server import FakeServer, Request, Response, serve_main

_URL = re.compile(r"https?://\S+")


def _loopback(uri: str) -> bool:
    host = urlsplit(uri).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same_redirect(registered: str, requested: str) -> bool:
    """Doorkeeper ignores the port when both URIs are loopback IP literals."""
    if registered == requested:
        return True
    if _loopback(registered) and _loopback(requested):
        a, b = urlsplit(registered), urlsplit(requested)
        return (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)
    return False


class FakeMastodon(FakeServer):
    name = "mastodon"

    def __init__(self, port: int = 0) -> None:
        # Settings (also settable through /__fake__/config).
        self.max_characters = 500
        self.max_media_attachments = 4
        self.characters_reserved_per_url = 23
        self.image_size_limit = 16_777_216
        self.video_size_limit = 103_809_024
        self.media_processing_seconds = 0.0  # > 0: uploads answer 202 and stay 206 this long
        self.scheduled_daily_limit = 25
        self.rate_limit = 300
        # Chosen values for the next grant (canary tests plant known strings here).
        self.next_client_secret = ""
        self.next_code = ""
        self.next_access_token = ""
        # State.
        self.username = "alice"
        self.display_name = "Alice Example"
        self.apps: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.scheduled: list[dict[str, Any]] = []
        self.revoked: list[str] = []
        self.idempotency: dict[str, tuple[float, Response]] = {}
        self.token_requests: list[dict[str, str]] = []
        self._ids = itertools.count(100_000_000)
        self._requests_in_window = 0
        super().__init__(port)

    # ---- helpers -----------------------------------------------------------------------
    def issue_token(self, token: str | None = None, client_id: str = "") -> str:
        """A valid access token for the one user, as if granted earlier."""
        token = token or secrets.token_urlsafe(32)
        self.tokens[token] = {"client_id": client_id, "revoked": False}
        return token

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.statuses)

    def state(self) -> dict[str, Any]:
        return {"statuses": self.statuses, "scheduled": self.scheduled, "revoked": self.revoked}

    def _next_id(self) -> str:
        return str(next(self._ids))

    def default_error(self, status: int) -> Any:
        return {"error": {429: "Too many requests", 500: "Internal server error", 503: "Service unavailable",
                          401: "The access token is invalid"}.get(status, "Error")}

    def decorate(self, request: Request, response: Response) -> Response:
        if request.path.startswith("/api/"):
            self._requests_in_window += 1
            reset = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
            response.headers.setdefault("X-RateLimit-Limit", str(self.rate_limit))
            response.headers.setdefault("X-RateLimit-Remaining", str(max(0, self.rate_limit - self._requests_in_window)))
            response.headers.setdefault("X-RateLimit-Reset", reset.isoformat(timespec="microseconds").replace("+00:00", "Z"))
        return response

    def _user(self, request: Request) -> Response | None:
        token = request.bearer
        if token is None or token not in self.tokens or self.tokens[token]["revoked"]:
            return Response(401, {"error": "The access token is invalid"})
        return None

    def _account(self) -> dict[str, Any]:
        return {"id": "1", "username": self.username, "acct": self.username, "display_name": self.display_name,
                "url": f"{self.url}/@{self.username}"}

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = request.json()
            return data if isinstance(data, dict) else {}
        form = request.form()
        out: dict[str, Any] = {}
        for key, values in form.items():
            if key.endswith("[]"):
                out[key[:-2]] = values
            else:
                out[key] = values[0]
        return out

    # ---- routes ------------------------------------------------------------------------
    def routes(self) -> None:
        self.route("POST", "/api/v1/apps", self.register_app)
        self.route("GET", "/oauth/authorize", self.authorize)
        self.route("POST", "/oauth/token", self.token)
        self.route("POST", "/oauth/revoke", self.revoke)
        self.route("GET", "/api/v1/accounts/verify_credentials", self.verify_credentials)
        self.route("GET", "/api/v2/instance", self.instance)
        self.route("POST", "/api/v2/media", self.upload_media)
        self.route("GET", r"/api/v1/media/(?P<media_id>\d+)", self.get_media)
        self.route("POST", "/api/v1/statuses", self.post_status)
        self.route("GET", r"/api/v1/statuses/(?P<status_id>\d+)", self.get_status)

    def register_app(self, request: Request) -> Response:
        p = self._params(request)
        uris = p.get("redirect_uris") or ""
        uris = uris if isinstance(uris, list) else str(uris).split()
        if not p.get("client_name") or not uris:
            return Response(422, {"error": "Validation failed: Application name can't be blank"})
        client_id, secret = secrets.token_urlsafe(16), self.next_client_secret or secrets.token_urlsafe(24)
        self.apps[client_id] = {"secret": secret, "redirect_uris": uris, "scopes": str(p.get("scopes") or "read")}
        return Response(200, {"id": self._next_id(), "name": p["client_name"], "website": p.get("website"),
                              "scopes": self.apps[client_id]["scopes"].split(), "redirect_uri": uris[0],
                              "redirect_uris": uris, "client_id": client_id, "client_secret": secret,
                              "client_secret_expires_at": 0})

    def authorize(self, request: Request) -> Response:
        """Stands in for the consent page: approves at once and redirects like the real server."""
        q = {k: v[0] for k, v in request.query.items()}
        app = self.apps.get(q.get("client_id", ""))
        if app is None:
            return Response(401, "Client authentication failed due to unknown client.")
        redirect = q.get("redirect_uri", "")
        if not any(_same_redirect(r, redirect) for r in app["redirect_uris"]):
            return Response(400, "The redirect uri included is not valid.")
        if q.get("response_type") != "code":
            return Response(400, "unsupported_response_type")
        method = q.get("code_challenge_method")
        if q.get("code_challenge") and method != "S256":
            return Response(400, "Code challenge method must be S256")
        code = self.next_code or secrets.token_urlsafe(24)
        self.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                            "challenge": q.get("code_challenge"), "scope": q.get("scope", "read")}
        query = urlencode({"code": code, **({"state": q["state"]} if "state" in q else {})})
        return Response(302, b"", {"Location": f"{redirect}?{query}"})

    def token(self, request: Request) -> Response:
        p = self._params(request)
        self.token_requests.append({k: str(v) for k, v in p.items()})
        app = self.apps.get(str(p.get("client_id", "")))
        if app is None or p.get("client_secret") != app["secret"]:
            return Response(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        grant = self.codes.pop(str(p.get("code", "")), None)
        if p.get("grant_type") != "authorization_code" or grant is None or grant["client_id"] != p["client_id"]:
            return Response(400, {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid."})
        if grant["redirect_uri"] != p.get("redirect_uri"):
            return Response(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
        if grant["challenge"]:
            verifier = str(p.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant["challenge"]:
                return Response(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        token = self.issue_token(self.next_access_token or None, client_id=p["client_id"])
        return Response(200, {"access_token": token, "token_type": "Bearer", "scope": grant["scope"],
                              "created_at": int(time.time())})

    def revoke(self, request: Request) -> Response:
        p = self._params(request)
        app = self.apps.get(str(p.get("client_id", "")))
        if app is None or p.get("client_secret") != app["secret"]:
            return Response(403, {"error": "unauthorized_client"})
        token = str(p.get("token", ""))
        if token in self.tokens:
            self.tokens[token]["revoked"] = True
            self.revoked.append(token)
        return Response(200, {})

    def verify_credentials(self, request: Request) -> Response:
        return self._user(request) or Response(200, self._account())

    def instance(self, request: Request) -> Response:
        host = urlsplit(self.url).netloc
        return Response(200, {"domain": host, "title": "Fake Mastodon", "version": "4.3.0", "configuration": {
            "statuses": {"max_characters": self.max_characters, "max_media_attachments": self.max_media_attachments,
                         "characters_reserved_per_url": self.characters_reserved_per_url},
            "media_attachments": {"image_size_limit": self.image_size_limit, "video_size_limit": self.video_size_limit,
                                  "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "video/mp4"]},
        }})

    def _media_json(self, media_id: str) -> dict[str, Any]:
        m = self.media[media_id]
        ready = time.monotonic() >= m["ready_at"]
        return {"id": media_id, "type": m["type"], "url": f"{self.url}/media/{media_id}" if ready else None,
                "description": m["description"]}

    def upload_media(self, request: Request) -> Response:
        denied = self._user(request)
        if denied:
            return denied
        parts = request.multipart()
        file = parts.get("file")
        if file is None or not file.data:
            return Response(422, {"error": "Validation failed: File can't be blank"})
        kind = "video" if file.content_type.startswith("video/") else "image"
        limit = self.video_size_limit if kind == "video" else self.image_size_limit
        if len(file.data) > limit:
            return Response(422, {"error": "Validation failed: File file size must be less than the limit"})
        if file.content_type not in ("image/jpeg", "image/png", "image/gif", "video/mp4"):
            return Response(422, {"error": "Validation failed: File content type is invalid"})
        media_id = self._next_id()
        description = parts["description"].data.decode() if "description" in parts else ""
        self.media[media_id] = {"type": kind, "description": description, "size": len(file.data),
                                "ready_at": time.monotonic() + self.media_processing_seconds,
                                "token": request.bearer, "attached": False}
        status = 202 if self.media_processing_seconds > 0 else 200
        return Response(status, self._media_json(media_id))

    def get_media(self, request: Request, media_id: str) -> Response:
        denied = self._user(request)
        if denied:
            return denied
        if media_id not in self.media:
            return Response(404, {"error": "Record not found"})
        body = self._media_json(media_id)
        return Response(200 if body["url"] else 206, body)

    def _status_json(self, status: dict[str, Any]) -> dict[str, Any]:
        return {"id": status["id"], "created_at": status["created_at"], "in_reply_to_id": status["in_reply_to_id"],
                "visibility": status["visibility"], "content": f"<p>{html.escape(status['text'])}</p>",
                "url": f"{self.url}/@{self.username}/{status['id']}",
                "uri": f"{self.url}/users/{self.username}/statuses/{status['id']}",
                "media_attachments": [self._media_json(m) for m in status["media_ids"]], "account": self._account()}

    def post_status(self, request: Request) -> Response:
        denied = self._user(request)
        if denied:
            return denied
        key = request.headers.get("idempotency-key")
        if key:
            stored = self.idempotency.get(f"{request.bearer}:{key}")
            if stored and time.monotonic() - stored[0] < 3600:
                return stored[1]
        response = self._create_status(request)
        if key and response.status == 200:  # Mastodon remembers a key only once the status exists
            self.idempotency[f"{request.bearer}:{key}"] = (time.monotonic(), response)
        return response

    def _create_status(self, request: Request) -> Response:
        p = self._params(request)
        text = str(p.get("status") or "")
        media_ids = [str(m) for m in (p.get("media_ids") or [])]
        if not text.strip() and not media_ids:
            return Response(422, {"error": "Validation failed: Text can't be blank"})
        length = len(_URL.sub("x" * self.characters_reserved_per_url, text))
        if length > self.max_characters:
            return Response(422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"})
        if len(media_ids) > self.max_media_attachments:
            return Response(422, {"error": "Validation failed: Media attachments too many"})
        for media_id in media_ids:
            m = self.media.get(media_id)
            if m is None or m["token"] != request.bearer:
                return Response(422, {"error": "Validation failed: Media attachments are invalid"})
            if time.monotonic() < m["ready_at"]:
                return Response(422, {"error": "Cannot attach files that have not finished processing. Try again in a moment!"})
        language = p.get("language")
        if language is not None and not re.fullmatch(r"[a-z]{2,3}", str(language)):  # ISO 639, as Mastodon validates
            return Response(422, {"error": "Validation failed: Language is not a valid language"})
        reply_to = p.get("in_reply_to_id")
        if reply_to and not any(s["id"] == str(reply_to) for s in self.statuses):
            return Response(404, {"error": "Record not found"})
        now = datetime.now(UTC)
        record = {"text": text, "media_ids": media_ids, "in_reply_to_id": str(reply_to) if reply_to else None,
                  "visibility": str(p.get("visibility") or "public"), "created_at": now.isoformat().replace("+00:00", "Z"),
                  "idempotency_key": request.headers.get("idempotency-key")}
        if p.get("scheduled_at"):
            return self._schedule(record, str(p["scheduled_at"]), now)
        record["id"] = self._next_id()
        for media_id in media_ids:
            self.media[media_id]["attached"] = True
        self.statuses.append(record)
        return Response(200, self._status_json(record))

    def _schedule(self, record: dict[str, Any], when: str, now: datetime) -> Response:
        try:
            at = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return Response(422, {"error": "Validation failed: Scheduled at is invalid"})
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at < now + timedelta(minutes=5):
            return Response(422, {"error": "Validation failed: Scheduled at The scheduled date must be in the future"})
        same_day = [s for s in self.scheduled if s["scheduled_at"][:10] == at.date().isoformat()]
        if len(same_day) >= self.scheduled_daily_limit:
            return Response(422, {"error": f"Validation failed: Scheduled at You have exceeded the limit of "
                                           f"{self.scheduled_daily_limit} scheduled posts for today"})
        record = {**record, "id": self._next_id(), "scheduled_at": at.isoformat().replace("+00:00", "Z")}
        self.scheduled.append(record)
        return Response(200, {"id": record["id"], "scheduled_at": record["scheduled_at"],
                              "params": {"text": record["text"], "media_ids": record["media_ids"] or None},
                              "media_attachments": [self._media_json(m) for m in record["media_ids"]]})

    def get_status(self, request: Request, status_id: str) -> Response:
        for status in self.statuses:
            if status["id"] == status_id:
                return Response(200, self._status_json(status))
        return Response(404, {"error": "Record not found"})


def main() -> None:
    serve_main(FakeMastodon)


if __name__ == "__main__":
    main()
