"""X adapter (platforms.md §4): text, up to 4 images (simple upload), or one video or GIF through
the chunked upload (initialize / append / finalize, then STATUS while processing), replies for
the first comment and thread parts, 2-hour access tokens refreshed with rotating refresh tokens
(the newest is stored before it is used, reliability.md P9), and `x-rate-limit-*` epoch resets.

X has no idempotency key. Every attempt journals when it sent the post; `reconcile` looks for it
among the account's recent posts. X refuses an exact duplicate with a 403 that carries no id: after
an earlier attempt with an unknown outcome that answer means "probably already published" and goes
to review, never to a retry (reliability.md P11).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent, Problem
from app.core.redact import register_secret
from app.core.rules import PlatformRules, rules_for, validate_content
from app.platforms.base import (
    AdapterContext,
    PublishJob,
    PublishResult,
    ReconcileStatus,
    Reconciliation,
    StepJournal,
    stored_sign_in,
)
from app.platforms.http import (
    AttemptSteps,
    Tuning,
    body_snippet,
    classify,
    content_hash,
    create_client,
    load_media,
    local_media_problems,
    retry_after_from,
    status_error,
)

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.x.com"
REFRESH_MARGIN = timedelta(minutes=10)  # access tokens last 2 h: renew shortly before they run out
MEDIA_REUSE_MARGIN = timedelta(hours=1)  # reuse a journaled media id only well inside its expiry
_URL = re.compile(r"https?://\S+")
DUPLICATE_HINT = "duplicate content"
GIF_LIMIT = 15_000_000


def token_values(body: dict[str, Any], now: datetime, client_id: str, client_secret: str = "") -> dict[str, str]:
    """The keyring entry for an X token answer (the app's credentials travel with it for refreshes)."""
    access = str(body["access_token"])
    register_secret(access)
    values = {"access_token": access, "client_id": client_id,
              "expires_at": (now + timedelta(seconds=float(body.get("expires_in") or 7200))).isoformat()}
    if body.get("refresh_token"):
        values["refresh_token"] = str(body["refresh_token"])
        register_secret(values["refresh_token"])
    if client_secret:
        values["client_secret"] = client_secret
    return values


def token_request_auth(client_id: str, client_secret: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form fields that identify the app: Basic auth when it is confidential, else client_id."""
    if client_secret:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}, {}
    return {}, {"client_id": client_id}


def _problem(response: httpx.Response) -> tuple[str, str, str]:
    """(title, detail, type) from X's problem+json, or the v1.1 `errors` list."""
    try:
        body = response.json()
    except ValueError:
        return "", body_snippet(response), ""
    if not isinstance(body, dict):
        return "", "", ""
    if isinstance(body.get("errors"), list) and body["errors"] and not body.get("detail"):
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        return str(first.get("title") or ""), str(first.get("message") or first.get("detail") or ""), ""
    return str(body.get("title") or ""), str(body.get("detail") or ""), str(body.get("type") or "")


def _header_wait(headers: httpx.Headers, prefix: str) -> float | None:
    if headers.get(f"{prefix}-remaining") == "0":
        return retry_after_from({"x-rate-limit-reset": headers.get(f"{prefix}-reset", "")})
    return None


def x_error(response: httpx.Response, *, create: bool, what: str = "the post") -> PublishError:
    """A PublishError from an X answer (platforms.md §4, "Errors")."""
    title, detail, kind = _problem(response)
    status = response.status_code
    shown = detail or title or f"HTTP {status}"
    if status == 429 or kind.endswith("/usage-capped"):
        # A daily cap that ran out outlasts the 15-minute window: wait for whichever reset applies.
        wait = (_header_wait(response.headers, "x-user-limit-24hour") or _header_wait(response.headers, "x-app-limit-24hour")
                or retry_after_from(response.headers))
        if kind.endswith("/usage-capped") and wait is None:
            wait = 24 * 3600.0
        if wait is not None:
            wait = max(wait, 1.0)  # a reset that just passed still means "not this second"
        return PublishError(ErrorKind.RATE_LIMIT, f"X asks Outpost to slow down ({shown}). Outpost waits for X's "
                            "limit to reset, then tries again.", http_status=status, retry_after=wait,
                            code="usage_capped" if kind.endswith("/usage-capped") else "rate_limited")
    if status == 401:
        return PublishError(ErrorKind.AUTH, "X no longer accepts this account's sign-in. Reconnect the account.",
                            http_status=401, code="unauthorized")
    if status == 403 and DUPLICATE_HINT in shown.lower():
        return PublishError(ErrorKind.PERMANENT, "X does not allow posting the same text twice, and this text is "
                            "already on the account. Change the text to post it again.", http_status=403,
                            code="duplicate")
    if status in (400, 403, 404, 413):
        return PublishError(ErrorKind.PERMANENT, f"X refused {what}: {shown}", http_status=status,
                            code=kind.rsplit("/", 1)[-1] or f"http_{status}")
    return status_error(response, create=create, platform="X", message=shown)


def _comparable(text: str) -> str:
    """Text as X shows it back: links become t.co links and media adds one, so compare without links."""
    return " ".join(_URL.sub(" ", unicodedata.normalize("NFC", text)).split())


# The media_type values X's upload accepts (InitializeMediaUploadRequest in X's OpenAPI document, as
# the official xdk SDK carries it; tests/contracts/test_x_contract.py checks against it), and the
# other names the same containers go by on a computer.
X_MEDIA_TYPES = frozenset({"video/mp4", "video/webm", "video/mp2t", "video/quicktime", "image/jpeg", "image/gif",
                           "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff"})
_SAME_AS = {"video/x-m4v": "video/mp4", "video/m4v": "video/mp4", "image/jpg": "image/jpeg",
            "image/x-ms-bmp": "image/bmp", "video/x-quicktime": "video/quicktime"}
ALT_TEXT_LIMIT = 1000  # characters of alt text X keeps per picture


def x_media_type(mime: str) -> str | None:
    """The media_type X knows this file as, or None when X does not take it (MKV, AVI, HEIC, ...)."""
    mime = _SAME_AS.get(mime.lower(), mime.lower())
    return mime if mime in X_MEDIA_TYPES else None


def _media_category(item: MediaItem, mime: str) -> str:
    if item.kind is MediaKind.VIDEO:
        return "tweet_video"
    if item.kind is MediaKind.GIF or mime == "image/gif":
        return "tweet_gif"
    return "tweet_image"


class XAdapter:
    platform = Platform.X
    chunk_size = 4 * 1024 * 1024  # bytes per APPEND segment (at most 1000 segments)

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.X)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        gifs = [m for m in content.media if m.kind is MediaKind.GIF or m.mime_type == "image/gif"]
        if gifs and all((g.size_bytes or 0) <= GIF_LIMIT for g in gifs):
            # The shared rules judge a GIF as an image (5 MB); X takes animated GIFs up to 15 MB.
            problems = [p for p in problems if not (p.field == "media" and " MB; X allows 5 MB" in p.message)]
        if gifs and len(content.media) > 1:
            problems.append(Problem("media", "X takes one GIF on its own; remove the other attachments.",
                                    platform=self.platform, account_id=account.id))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
        for i, item in enumerate(content.media, start=1):
            if item.mime_type and not item.is_url and x_media_type(item.mime_type) is None:
                problems.append(Problem("media", f"Attachment {i} is a {item.mime_type} file, which X does not take. "
                                        "Convert it to MP4 (video) or JPEG/PNG (picture).",
                                        platform=self.platform, account_id=account.id))
            if len(item.alt_text) > ALT_TEXT_LIMIT:
                problems.append(Problem("media", f"The alt text of attachment {i} has {len(item.alt_text):,} "
                                        f"characters; X keeps {ALT_TEXT_LIMIT:,}. Shorten it.",
                                        platform=self.platform, account_id=account.id))
        return problems

    # ---- plumbing ----------------------------------------------------------------------
    @property
    def _client(self) -> httpx.AsyncClient:
        if self._client_ is None:
            base = (self.context.api_base.get(self.platform.value) or DEFAULT_BASE).rstrip("/")
            self._client_ = create_client(self.tuning, base_url=base)
        return self._client_

    def _secrets(self, account: AccountInfo) -> dict[str, str]:
        return stored_sign_in(self.context, account)

    async def _renew(self, account: AccountInfo, used_access: str) -> None:
        """One refresh per expired token, serialised per account; the new pair is stored before use."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            if values["access_token"] != used_access:
                return  # another caller already renewed it
            refresh = values.get("refresh_token")
            if not refresh:
                raise PublishError(ErrorKind.AUTH, "X's sign-in expired and Outpost has no way to renew it. "
                                   "Reconnect the account.", code="no_refresh_token")
            headers, form = token_request_auth(values.get("client_id", ""), values.get("client_secret", ""))
            try:
                response = await self._client.post("/2/oauth2/token", headers=headers, data={
                    "grant_type": "refresh_token", "refresh_token": refresh, **form})
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=False, platform="X") from None
            if response.status_code != 200:
                if response.status_code in (400, 401):
                    raise PublishError(ErrorKind.AUTH, "X refused to renew the sign-in (it was revoked or the app's "
                                       "keys changed). Reconnect the account.", http_status=response.status_code,
                                       code="refresh_refused")
                raise x_error(response, create=False, what="the token renewal")
            body = response.json()
            updated = {**values, **token_values(body, self.context.clock(), values.get("client_id", ""),
                                                values.get("client_secret", ""))}
            self.context.secrets.put(account.id, updated)  # rotated refresh token persisted first (P9)

    async def refresh_credentials(self, account: AccountInfo) -> None:
        values = self._secrets(account)
        expires = values.get("expires_at")
        if expires and datetime.fromisoformat(expires) - self.context.clock() < REFRESH_MARGIN:
            await self._renew(account, values["access_token"])

    async def _send(self, account: AccountInfo, method: str, path: str, *, create: bool,
                    **kwargs: Any) -> httpx.Response:
        """One API call; a 401 gets exactly one token renewal and one repeat (nothing was created)."""
        extra = kwargs.pop("headers", {})
        response: httpx.Response | None = None
        for attempt in range(2):
            token = self._secrets(account)["access_token"]
            try:
                response = await self._client.request(method, path, headers={
                    "Authorization": f"Bearer {token}", **extra}, **kwargs)
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=create, platform="X") from None
            if response.status_code == 401 and attempt == 0:
                await self._renew(account, token)
                continue
            break
        assert response is not None
        return response

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account, cp = job.account, job.checkpoints
        journal = self._steps.wrap(job, journal)
        if cp.get("tweet_id"):  # an earlier attempt published it but its success was not recorded
            return PublishResult(cp["tweet_id"], self.post_url(account, cp["tweet_id"]),
                                 warnings=("An earlier attempt had already published this post.",))
        await self.refresh_credentials(account)
        media_ids = await self._media_ids(job, journal)
        earlier_unknown = bool(cp.get("tweet_sent_at")) and cp.get("tweet_attempt") != str(job.attempt_id)
        payload: dict[str, Any] = {"text": job.content.text}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        journal.record("tweet_attempt", str(job.attempt_id))
        journal.record("tweet_sent_at", self.context.clock().isoformat())
        try:
            response = await self._send(account, "POST", "/2/tweets", create=True, json=payload)
        except PublishError as exc:
            if exc.kind is not ErrorKind.UNKNOWN:
                journal.record("tweet_sent_at", "")  # nothing arrived: no later duplicate can be ours
            raise
        if response.status_code not in (200, 201):
            error = x_error(response, create=True)
            if error.code == "duplicate" and earlier_unknown:
                journal.record("duplicate", "1")
                raise PublishError(ErrorKind.UNKNOWN, "X refused this post as a duplicate of one already on the "
                                   "account, so the earlier attempt that got no answer probably published it.",
                                   http_status=403, code="duplicate")
            if error.kind is not ErrorKind.UNKNOWN:
                journal.record("tweet_sent_at", "")
            raise error
        tweet_id = str(response.json()["data"]["id"])
        journal.record("tweet_id", tweet_id)
        warnings = await self._replies(job, tweet_id)
        return PublishResult(tweet_id, self.post_url(account, tweet_id), warnings=tuple(warnings))

    def post_url(self, account: AccountInfo, tweet_id: str) -> str:
        username = str(account.settings.get("username") or account.handle).lstrip("@")
        return f"https://x.com/{username}/status/{tweet_id}"

    async def _media_ids(self, job: PublishJob, journal: StepJournal) -> list[str]:
        """Upload each attachment once; reuse ids journaled by an earlier attempt while valid (P7)."""
        media = job.content.media
        if not media:
            return []
        cp = job.checkpoints
        made_from = content_hash(*((m.source, m.kind.value, m.alt_text) for m in media))
        known = [m for m in cp.get("media_ids", "").split(",") if m]
        fresh = cp.get("media_until") and datetime.fromisoformat(cp["media_until"]) > self.context.clock()
        if cp.get("media_of") == made_from and len(known) == len(media) and fresh:
            ids = known
        else:
            journal.record("media_of", made_from)
            ids = []
            for i, item in enumerate(media, start=1):
                ids.append(await self._upload(job.account, item, i))
                journal.record("media_ids", ",".join(ids))
            journal.record("media_until", (self.context.clock() + timedelta(hours=23)).isoformat())
        for media_id, item in zip(ids, media, strict=True):
            if item.kind is not MediaKind.IMAGE or item.mime_type == "image/gif":
                await self._wait_for_media(job.account, media_id)
        return ids

    async def _upload(self, account: AccountInfo, item: MediaItem, n: int) -> str:
        media_id = await self._upload_bytes(account, item, n)
        if item.alt_text.strip():
            response = await self._send(account, "POST", "/2/media/metadata", create=False, json={
                "id": media_id, "metadata": {"alt_text": {"text": item.alt_text[:ALT_TEXT_LIMIT]}}})
            if response.status_code != 200:
                raise x_error(response, create=False, what=f"the alt text of attachment {n}")
        return media_id

    async def _upload_bytes(self, account: AccountInfo, item: MediaItem, n: int) -> str:
        data, raw_mime, name = await load_media(self._client, item.source, item.mime_type)
        mime = x_media_type(raw_mime)
        if mime is None:
            raise PublishError(ErrorKind.PERMANENT, f"Attachment {n} is a {raw_mime} file, which X does not take. "
                               "Convert it to MP4 (video) or JPEG/PNG (picture).", code="media_type")
        category = _media_category(item, mime)
        if category == "tweet_image":
            response = await self._send(account, "POST", "/2/media/upload", create=False,
                                        files={"media": (name, data, mime)}, data={"media_category": category})
            if response.status_code != 200:
                raise x_error(response, create=False, what=f"attachment {n}")
            return str(response.json()["data"]["id"])
        response = await self._send(account, "POST", "/2/media/upload/initialize", create=False, json={
            "media_type": mime, "total_bytes": len(data), "media_category": category})
        if response.status_code != 200:
            raise x_error(response, create=False, what=f"attachment {n}")
        media_id = str(response.json()["data"]["id"])
        for index, start in enumerate(range(0, len(data), self.chunk_size)):
            response = await self._send(account, "POST", f"/2/media/upload/{media_id}/append", create=False,
                                        files={"media": ("chunk", data[start:start + self.chunk_size],
                                                         "application/octet-stream")},
                                        data={"segment_index": str(index)})
            if response.status_code not in (200, 204):
                raise x_error(response, create=False, what=f"part {index + 1} of attachment {n}")
        response = await self._send(account, "POST", f"/2/media/upload/{media_id}/finalize", create=False)
        if response.status_code != 200:
            raise x_error(response, create=False, what=f"attachment {n}")
        return media_id

    async def _wait_for_media(self, account: AccountInfo, media_id: str) -> None:
        """STATUS until `succeeded` (no processing_info means ready), for at most max_processing_wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            response = await self._send(account, "GET", "/2/media/upload", create=False,
                                        params={"command": "STATUS", "media_id": media_id})
            if response.status_code != 200:
                raise x_error(response, create=False, what="the video's status")
            info = response.json().get("data", {}).get("processing_info") or {}
            state = info.get("state", "succeeded")
            if state == "succeeded":
                return
            if state == "failed":
                reason = (info.get("error") or {}).get("message") or "failed"
                raise PublishError(ErrorKind.PERMANENT, f"X could not process the video ({reason}). Check its "
                                   "format, length (up to 140 s) and size.", code="media_failed")
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "X is still processing the video. Outpost will check again "
                                   "in a minute.", retry_after=60.0, code="media_processing")
            wait = float(info.get("check_after_secs") or 1)
            await asyncio.sleep(min(wait, self.tuning.poll_interval))

    async def _reply(self, account: AccountInfo, text: str, parent: str) -> str:
        response = await self._send(account, "POST", "/2/tweets", create=True,
                                    json={"text": text, "reply": {"in_reply_to_tweet_id": parent}})
        if response.status_code not in (200, 201):
            raise x_error(response, create=True, what="the reply")
        return str(response.json()["data"]["id"])

    async def _replies(self, job: PublishJob, tweet_id: str) -> list[str]:
        warnings: list[str] = []
        parent = tweet_id
        for n, part in enumerate(job.content.thread, start=2):
            try:
                parent = await self._reply(job.account, part, parent)
            except PublishError as exc:
                warnings.append(f"Part {n} of the thread could not be posted: {exc.message}")
                break
        if job.content.first_comment:
            try:
                await self._reply(job.account, job.content.first_comment, tweet_id)
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        return warnings

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("tweet_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["tweet_id"],
                                  url=self.post_url(job.account, cp["tweet_id"]), detail="journaled")
        if not cp.get("tweet_sent_at"):
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the post was never sent")
        try:
            found = await self._find_recent(job)
        except PublishError as exc:
            return Reconciliation(ReconcileStatus.UNKNOWN, detail=f"X did not let Outpost read the account's recent "
                                  f"posts ({exc.message}); your X plan may not include reading.")
        if found:
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=found,
                                  url=self.post_url(job.account, found), detail="found among recent posts")
        if cp.get("duplicate"):
            return Reconciliation(ReconcileStatus.UNKNOWN, detail="X called it a duplicate, so it was probably "
                                  "published, but it is not among the account's recent posts yet.")
        if not job.content.text.strip():
            return Reconciliation(ReconcileStatus.UNKNOWN, detail="a post without text cannot be matched")
        # Not there, and X refuses an exact duplicate: a retry cannot make a second copy.
        return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="not among the account's recent posts")

    async def _find_recent(self, job: PublishJob) -> str | None:
        uid = str(job.account.settings.get("user_id") or "")
        if not uid:
            raise PublishError(ErrorKind.AUTH, "This X account lacks its user id. Reconnect it.", code="no_user_id")
        response = await self._send(job.account, "GET", f"/2/users/{uid}/tweets", create=False,
                                    params={"max_results": "10", "exclude": "replies"})
        if response.status_code != 200:
            raise x_error(response, create=False, what="reading recent posts")
        wanted = _comparable(job.content.text)
        for item in response.json().get("data") or []:
            if _comparable(str(item.get("text") or "")) == wanted:
                return str(item["id"])
        return None

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
