"""LinkedIn adapter (platforms.md §5): text, one image, 2-20 images, or one video through the
Posts API. Images and videos go up first (initializeUpload, PUT, and for videos finalizeUpload
with the parts' ETags, then a wait until AVAILABLE); `POST /rest/posts` answers 201 with the
post's URN in `x-restli-id`. The commentary is LinkedIn "little text": reserved characters are
backslash-escaped, or LinkedIn silently cuts the post at the first one.

Most apps get 60-day tokens and no refresh token: Outpost cannot renew them, so each post in the
last week before expiry carries a reconnect reminder, and an expired sign-in holds the posts.

LinkedIn has no idempotency key. Reading one's own posts needs `r_member_social`, which most
apps lack: `reconcile` looks among recent posts when LinkedIn allows it, and otherwise says UNKNOWN.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from app.core.errors import PublishError
from app.core.models import (
    AccountInfo,
    ErrorKind,
    MediaItem,
    MediaKind,
    Platform,
    PostContent,
    Problem,
    Severity,
)
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

DEFAULT_BASE = "https://api.linkedin.com"
API_VERSION = "202610"  # LinkedIn-Version (YYYYMM); versions are sunset about a year after release
REMIND_BEFORE = timedelta(days=7)
REFRESH_BEFORE = timedelta(days=7)
MATCH_WINDOW = timedelta(minutes=30)
_RESERVED = re.compile(r"([|{}@\[\]()<>#\\*_~])")


def escape_little_text(text: str) -> str:
    """Backslash-escape LinkedIn's reserved characters, so the commentary arrives whole."""
    return _RESERVED.sub(r"\\\1", text)


def token_values(body: dict[str, Any], now: datetime, client_id: str, client_secret: str) -> dict[str, str]:
    access = str(body["access_token"])
    register_secret(access)
    values = {"access_token": access, "client_id": client_id, "client_secret": client_secret,
              "expires_at": (now + timedelta(seconds=float(body.get("expires_in") or 5_184_000))).isoformat()}
    if body.get("refresh_token"):
        values["refresh_token"] = str(body["refresh_token"])
        register_secret(values["refresh_token"])
    return values


def linkedin_error(response: httpx.Response, *, create: bool, what: str = "the post") -> PublishError:
    try:
        body = response.json()
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
    except ValueError:
        message = body_snippet(response)
    status = response.status_code
    if status == 401:
        return PublishError(ErrorKind.AUTH, f"LinkedIn no longer accepts this account's sign-in ({message or 'HTTP 401'}). "
                            "Reconnect the account.", http_status=401, code="unauthorized")
    if status == 429:
        # LinkedIn's daily quotas reset at midnight UTC and it sends no reset header (platforms.md §5).
        wait = retry_after_from(response.headers)
        if wait is None:
            now = datetime.now(UTC)
            wait = ((now + timedelta(days=1)).replace(hour=0, minute=1, second=0, microsecond=0) - now).total_seconds()
        return PublishError(ErrorKind.RATE_LIMIT, "LinkedIn's daily limit for this app or account is reached. Outpost "
                            "tries again after it resets.", http_status=429, retry_after=max(wait, 1.0),
                            code="rate_limited")
    if status == 426 or ("version" in message.lower() and status == 400):
        return PublishError(ErrorKind.PERMANENT, f"LinkedIn no longer accepts the API version Outpost uses ({message}). "
                            "Update Outpost.", http_status=status, code="version")
    if 400 <= status < 500:
        return PublishError(ErrorKind.PERMANENT, f"LinkedIn refused {what}: {message or f'HTTP {status}'}",
                            http_status=status, code=f"http_{status}")
    return status_error(response, create=create, platform="LinkedIn", message=message)


class LinkedInAdapter:
    platform = Platform.LINKEDIN

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.LINKEDIN)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        ends = account.settings.get("token_expires_at")
        if isinstance(ends, str) and ends and datetime.fromisoformat(ends) - self.context.clock() < REMIND_BEFORE:
            problems.append(Problem("account", f"LinkedIn's sign-in for this account ends on "
                                    f"{datetime.fromisoformat(ends):%Y-%m-%d}; reconnect it so scheduled posts go out.",
                                    Severity.WARNING, account_id=account.id, platform=self.platform))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
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

    def _author(self, account: AccountInfo) -> str:
        author = str(account.settings.get("author") or "")
        if not author:
            raise PublishError(ErrorKind.AUTH, "This LinkedIn account lacks its member id. Reconnect it.",
                               code="no_author")
        return author

    def _headers(self, account: AccountInfo) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secrets(account)['access_token']}",
                "LinkedIn-Version": str(account.settings.get("linkedin_version") or API_VERSION),
                "X-Restli-Protocol-Version": "2.0.0"}

    async def _send(self, account: AccountInfo, method: str, url: str, *, create: bool, restli_method: str,
                    **kwargs: Any) -> httpx.Response:
        # X-RestLi-Method on every call, as LinkedIn's own client (linkedin-api-client) sends it; the
        # Posts API's author finder is documented with X-RestLi-Method: FINDER.
        headers = {**self._headers(account), "X-RestLi-Method": restli_method, **kwargs.pop("headers", {})}
        try:
            return await self._client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=create, platform="LinkedIn") from None

    def expiry(self, account: AccountInfo) -> datetime | None:
        raw = self._secrets(account).get("expires_at")
        return datetime.fromisoformat(raw) if raw else None

    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Renew with a refresh token (approved partners only); otherwise an expired token is AUTH."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            expires = self.expiry(account)
            now = self.context.clock()
            if expires is None or expires - now > REFRESH_BEFORE:
                return
            if values.get("refresh_token"):
                auth_base = (self.context.api_base.get(self.platform.value) or "https://www.linkedin.com").rstrip("/")
                try:
                    response = await self._client.post(f"{auth_base}/oauth/v2/accessToken", data={
                        "grant_type": "refresh_token", "refresh_token": values["refresh_token"],
                        "client_id": values.get("client_id", ""), "client_secret": values.get("client_secret", "")})
                except httpx.HTTPError as exc:
                    log.warning("Could not renew the LinkedIn token (%s)", type(exc).__name__)
                    response = None
                if response is not None and response.status_code == 200:
                    body = response.json()
                    self.context.secrets.put(account.id, {**values, **token_values(
                        body, now, values.get("client_id", ""), values.get("client_secret", ""))})
                    return
            if expires <= now:
                raise PublishError(ErrorKind.AUTH, "LinkedIn sign-ins last 60 days and this one has ended. Reconnect "
                                   "the account to publish its posts.", code="token_expired")

    def _reminder(self, account: AccountInfo) -> tuple[str, ...]:
        expires = self.expiry(account)
        values = self._secrets(account)
        if expires is None or values.get("refresh_token") or expires - self.context.clock() > REMIND_BEFORE:
            return ()
        return (f"LinkedIn's sign-in for this account ends on {expires.astimezone(UTC):%Y-%m-%d} and cannot be "
                "renewed automatically: reconnect the account before then.",)

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account, cp = job.account, job.checkpoints
        journal = self._steps.wrap(job, journal)
        if cp.get("post_urn"):
            return PublishResult(cp["post_urn"], self.post_url(cp["post_urn"]),
                                 warnings=("An earlier attempt had already published this post.",))
        await self.refresh_credentials(account)
        author = self._author(account)
        media = await self._media_urns(job, journal, author)
        body: dict[str, Any] = {
            "author": author, "commentary": escape_little_text(job.content.text), "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
        }
        warnings: list[str] = []
        if len(media) == 1 and media[0][0].startswith("urn:li:video:"):
            # The Posts API documents altText on images only (its video post carries title and id).
            body["content"] = {"media": {"id": media[0][0]}}
            if media[0][1]:
                warnings.append("LinkedIn shows no description (alt text) on videos, so the video's was not sent.")
        elif len(media) == 1:
            body["content"] = {"media": {"id": media[0][0], **({"altText": media[0][1]} if media[0][1] else {})}}
        elif media:
            body["content"] = {"multiImage": {"images": [{"id": urn, **({"altText": alt} if alt else {})}
                                                         for urn, alt in media]}}
        journal.record("post_sent_at", self.context.clock().isoformat())
        response = await self._send(account, "POST", "/rest/posts", create=True, restli_method="CREATE", json=body)
        if response.status_code != 201:
            raise linkedin_error(response, create=True)
        urn = response.headers.get("x-restli-id", "")
        if not urn:
            raise PublishError(ErrorKind.UNKNOWN, "LinkedIn accepted the post but did not say its address.",
                               http_status=201, code="no_urn")
        journal.record("post_urn", urn)
        warnings += self._reminder(account)
        if job.content.first_comment:
            try:
                await self._comment(account, author, urn, job.content.first_comment)
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        return PublishResult(urn, self.post_url(urn), warnings=tuple(warnings))

    @staticmethod
    def post_url(urn: str) -> str:
        return f"https://www.linkedin.com/feed/update/{urn}/"

    async def _comment(self, account: AccountInfo, author: str, urn: str, text: str) -> None:
        # A comment's message is plain text with offset-based attributes, not little text: sent as written.
        response = await self._send(account, "POST", f"/rest/socialActions/{quote(urn, safe='')}/comments",
                                    create=True, restli_method="CREATE",
                                    json={"actor": author, "object": urn, "message": {"text": text}})
        if response.status_code not in (200, 201):
            raise linkedin_error(response, create=True, what="the comment")

    async def _media_urns(self, job: PublishJob, journal: StepJournal, author: str) -> list[tuple[str, str]]:
        """Upload each attachment once; reuse URNs journaled by an earlier attempt of the same content (P7)."""
        media = job.content.media
        if not media:
            return []
        made_from = content_hash(*((m.source, m.kind.value, m.alt_text) for m in media))
        known = [u for u in job.checkpoints.get("media_urns", "").split(",") if u]
        if job.checkpoints.get("media_of") == made_from and len(known) == len(media):
            urns = known
        else:
            journal.record("media_of", made_from)
            urns = []
            for i, item in enumerate(media, start=1):
                upload = self._upload_video if item.kind is MediaKind.VIDEO else self._upload_image
                urns.append(await upload(job.account, item, author, i))
                journal.record("media_urns", ",".join(urns))
        for urn in urns:
            if urn.startswith("urn:li:video:"):
                await self._wait_for_video(job.account, urn)
        return [(urn, item.alt_text) for urn, item in zip(urns, media, strict=True)]

    async def _upload_image(self, account: AccountInfo, item: MediaItem, author: str, n: int) -> str:
        data, mime, _ = await load_media(self._client, item.source, item.mime_type)
        response = await self._send(account, "POST", "/rest/images", create=False, restli_method="ACTION",
                                    params={"action": "initializeUpload"},
                                    json={"initializeUploadRequest": {"owner": author}})
        if response.status_code != 200:
            raise linkedin_error(response, create=False, what=f"attachment {n}")
        value = response.json()["value"]
        await self._put(account, str(value["uploadUrl"]), data, mime, n)
        return str(value["image"])

    async def _upload_video(self, account: AccountInfo, item: MediaItem, author: str, n: int) -> str:
        data, _mime, _ = await load_media(self._client, item.source, item.mime_type)
        response = await self._send(account, "POST", "/rest/videos", create=False, restli_method="ACTION",
                                    params={"action": "initializeUpload"},
                                    json={"initializeUploadRequest": {"owner": author, "fileSizeBytes": len(data),
                                                                      "uploadCaptions": False, "uploadThumbnail": False}})
        if response.status_code != 200:
            raise linkedin_error(response, create=False, what=f"attachment {n}")
        value = response.json()["value"]
        etags = []
        for part in value.get("uploadInstructions") or []:
            piece = data[int(part["firstByte"]):int(part["lastByte"]) + 1]
            etags.append(await self._put(account, str(part["uploadUrl"]), piece, "application/octet-stream", n))
        response = await self._send(account, "POST", "/rest/videos", create=False, restli_method="ACTION",
                                    params={"action": "finalizeUpload"},
                                    json={"finalizeUploadRequest": {"video": value["video"], "uploadToken":
                                                                    value.get("uploadToken", ""),
                                                                    "uploadedPartIds": etags}})
        if response.status_code not in (200, 201, 204):
            raise linkedin_error(response, create=False, what=f"attachment {n}")
        return str(value["video"])

    async def _put(self, account: AccountInfo, url: str, data: bytes, mime: str, n: int) -> str:
        try:
            response = await self._client.put(url, content=data, headers={
                "Authorization": self._headers(account)["Authorization"], "Content-Type": mime})
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=False, platform="LinkedIn") from None
        if response.status_code not in (200, 201):
            raise linkedin_error(response, create=False, what=f"attachment {n}")
        return response.headers.get("etag", "")

    async def _wait_for_video(self, account: AccountInfo, urn: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            response = await self._send(account, "GET", f"/rest/videos/{quote(urn, safe='')}", create=False,
                                        restli_method="GET")
            if response.status_code != 200:
                raise linkedin_error(response, create=False, what="the video's status")
            status = str(response.json().get("status") or "")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise PublishError(ErrorKind.PERMANENT, "LinkedIn could not process the video. Check its format "
                                   "(MP4), length (3 s to 30 min) and size.", code="PROCESSING_FAILED")
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "LinkedIn is still processing the video. Outpost will check "
                                   "again in a minute.", retry_after=60.0, code="PROCESSING")
            await asyncio.sleep(self.tuning.poll_interval)

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("post_urn"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["post_urn"],
                                  url=self.post_url(cp["post_urn"]), detail="journaled")
        sent = cp.get("post_sent_at")
        if not sent:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the post was never sent")
        try:
            response = await self._send(job.account, "GET", "/rest/posts", create=False, restli_method="FINDER", params={
                "q": "author", "author": self._author(job.account), "count": "10", "sortBy": "LAST_MODIFIED"})
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if response.status_code != 200:
            return Reconciliation(ReconcileStatus.UNKNOWN, detail="LinkedIn does not let this app read your posts "
                                  f"(HTTP {response.status_code}); check your profile.")
        since = datetime.fromisoformat(sent) - MATCH_WINDOW
        wanted = escape_little_text(job.content.text)
        for item in response.json().get("elements") or []:
            created = datetime.fromtimestamp(int(item.get("createdAt") or 0) / 1000, UTC)
            if created >= since and str(item.get("commentary") or "") == wanted:
                urn = str(item["id"])
                return Reconciliation(ReconcileStatus.PUBLISHED, external_id=urn, url=self.post_url(urn),
                                      detail="found among recent posts")
        return Reconciliation(ReconcileStatus.UNKNOWN, detail="not among the account's recent posts yet")

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
