"""TikTok adapter (platforms.md §9): one video per post through the Content Posting API. Direct
Post (or the creator's inbox) is initialised after reading creator_info, the file goes up in
sequential `PUT` chunks with Content-Range, and the post is followed with `status/fetch` until
TikTok says PUBLISH_COMPLETE (or SEND_TO_USER_INBOX, or FAILED).

Apps TikTok has not audited may only post privately (SELF_ONLY), to private accounts; Outpost
then posts SELF_ONLY and says so in the result, so nobody wonders why the video is hidden.

The `publish_id` is journaled as soon as TikTok returns it, and the finished upload too:
`reconcile` asks `status/fetch` about that id, and a retry after slow processing only waits
again, never uploads a second copy (reliability.md P4, P7). Refresh tokens rotate: the new pair
is stored before it is used (P9).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, Platform, PostContent, Problem, Severity
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

DEFAULT_BASE = "https://open.tiktokapis.com"
MB = 1024 * 1024
REFRESH_MARGIN = timedelta(minutes=10)
PRIVATE = "SELF_ONLY"
UNAUDITED_NOTE = ("TikTok keeps posts from apps it has not audited private: this video is visible only to you "
                  "(SELF_ONLY). After your TikTok app passes TikTok's audit, mark it as audited in the account's "
                  "settings to post publicly.")
_DONE = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")
_DAILY_CAPS = ("spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap")


def token_values(body: dict[str, Any], now: datetime, client_key: str, client_secret: str) -> dict[str, str]:
    """The keyring entry for a TikTok token answer; the app's key and secret travel with it for refreshes."""
    access, refresh = str(body["access_token"]), str(body.get("refresh_token") or "")
    register_secret(access)
    register_secret(refresh)
    values = {"access_token": access, "refresh_token": refresh, "client_key": client_key,
              "client_secret": client_secret, "open_id": str(body.get("open_id") or ""),
              "expires_at": (now + timedelta(seconds=float(body.get("expires_in") or 7200))).isoformat()}
    if body.get("refresh_expires_in"):
        values["refresh_expires_at"] = (now + timedelta(seconds=float(body["refresh_expires_in"]))).isoformat()
    return values


def _until_next_utc_day(now: datetime) -> float:
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", body_snippet(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(body, dict):  # the OAuth endpoints answer {"error": "...", "error_description": "..."}
        return str(error or ""), str(body.get("error_description") or "")
    return "", ""


def tiktok_error(response: httpx.Response, *, create: bool, what: str = "the video") -> PublishError:
    """A PublishError from TikTok's envelope (platforms.md §9, "Errors")."""
    code, message = _error(response)
    status = response.status_code
    if code in _DAILY_CAPS:
        return PublishError(ErrorKind.RATE_LIMIT, f"TikTok limits how often this account can post ({code}). Outpost "
                            "tries again tomorrow.", http_status=status,
                            retry_after=_until_next_utc_day(datetime.now(UTC)), code=code)
    if code == "rate_limit_exceeded" or status == 429:
        wait = retry_after_from(response.headers)
        return PublishError(ErrorKind.RATE_LIMIT, "TikTok asks Outpost to slow down (it allows 6 new posts a "
                            "minute per account). Outpost tries again shortly.", http_status=status,
                            retry_after=max(wait, 1.0) if wait is not None else 60.0, code="rate_limit_exceeded")
    if code in ("access_token_invalid", "scope_not_authorized", "scope_permission_missed") or status == 401:
        return PublishError(ErrorKind.AUTH, f"TikTok no longer accepts this account's sign-in ({code or status}). "
                            "Reconnect the account and allow posting videos.", http_status=status,
                            code=code or "unauthorized")
    if code == "unaudited_client_can_only_post_to_private_accounts":
        return PublishError(ErrorKind.PERMANENT, "TikTok lets apps it has not audited post only to private accounts. "
                            "Make your TikTok account private, or have your TikTok app audited, then publish again.",
                            http_status=status, code=code)
    if status >= 500 or code == "internal_error":
        return status_error(response, create=create, platform="TikTok", message=message, code=code or None)
    return PublishError(ErrorKind.PERMANENT, f"TikTok refused {what}: {message or code or f'HTTP {status}'}",
                        http_status=status, code=code or f"http_{status}")


# The Content-Type values TikTok's upload takes (Content Posting API reference, "Upload": video/mp4,
# video/quicktime, video/webm), and other names the same containers go by on a computer.
UPLOAD_TYPES = {"video/mp4": "video/mp4", "video/x-m4v": "video/mp4", "video/m4v": "video/mp4",
                "video/quicktime": "video/quicktime", "video/webm": "video/webm"}


def upload_type(mime: str) -> str | None:
    """The Content-Type to upload this video with, or None when TikTok does not take it."""
    return UPLOAD_TYPES.get(mime.lower())


class TikTokAdapter:
    platform = Platform.TIKTOK
    chunk_size = 10 * MB  # TikTok takes 5-64 MB chunks; the last one carries the remainder
    min_chunk = 5 * MB  # a smaller file goes up whole

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.TIKTOK)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
        for item in content.media:
            if item.mime_type and not item.is_url and upload_type(item.mime_type) is None:
                problems.append(Problem("media", f"The video is a {item.mime_type} file; TikTok takes MP4, MOV or "
                                        "WebM. Convert it to MP4.", platform=self.platform, account_id=account.id))
        if not account.settings.get("audited"):
            problems.append(Problem("account", "TikTok will keep this video private (only you can see it) until your "
                                    "TikTok app passes TikTok's audit.", Severity.WARNING, account_id=account.id,
                                    platform=self.platform))
        return problems

    def plan_chunks(self, size: int) -> tuple[int, int]:
        """(chunk_size, total_chunk_count) by TikTok's rule: floor(size / chunk); the last takes the rest."""
        if size < self.min_chunk:
            return size, 1
        chunk = max(self.min_chunk, min(self.chunk_size, 64 * MB))
        return chunk, max(1, size // chunk)

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
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            if values["access_token"] != used_access:
                return  # another caller already renewed it
            ends = values.get("refresh_expires_at")
            if not values.get("refresh_token") or (ends and datetime.fromisoformat(ends) <= self.context.clock()):
                raise PublishError(ErrorKind.AUTH, "TikTok's sign-in has run out. Reconnect the account.",
                                   code="refresh_expired")
            try:
                response = await self._client.post("/v2/oauth/token/", data={
                    "client_key": values.get("client_key", ""), "client_secret": values.get("client_secret", ""),
                    "grant_type": "refresh_token", "refresh_token": values["refresh_token"]})
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=False, platform="TikTok") from None
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            if response.status_code != 200 or not body.get("access_token"):
                if response.status_code >= 500:
                    raise tiktok_error(response, create=False, what="the token renewal")
                raise PublishError(ErrorKind.AUTH, "TikTok refused to renew the sign-in "
                                   f"({_error(response)[0] or response.status_code}). Reconnect the account.",
                                   http_status=response.status_code, code="refresh_refused")
            updated = {**values, **token_values(body, self.context.clock(), values.get("client_key", ""),
                                                values.get("client_secret", ""))}
            self.context.secrets.put(account.id, updated)  # the rotated refresh token is stored first (P9)

    async def refresh_credentials(self, account: AccountInfo) -> None:
        values = self._secrets(account)
        expires = values.get("expires_at")
        if expires and datetime.fromisoformat(expires) - self.context.clock() < REFRESH_MARGIN:
            await self._renew(account, values["access_token"])

    async def _api(self, account: AccountInfo, path: str, body: dict[str, Any] | None = None, *,
                   create: bool = False, what: str = "the video") -> dict[str, Any]:
        """POST a JSON body (GET without one); one renewal on 401; the `data` of a successful answer."""
        response: httpx.Response | None = None
        for attempt in range(2):
            token = self._secrets(account)["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            try:
                if body is None:
                    response = await self._client.get(path, headers=headers)
                else:
                    response = await self._client.post(path, headers=headers, json=body)
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=create, platform="TikTok") from None
            if response.status_code == 401 and attempt == 0:
                await self._renew(account, token)
                continue
            break
        assert response is not None
        code, _ = _error(response)
        if response.status_code != 200 or code not in ("ok", ""):
            raise tiktok_error(response, create=create, what=what)
        data: dict[str, Any] = response.json().get("data") or {}
        return data

    # ---- publishing --------------------------------------------------------------------
    def _privacy(self, account: AccountInfo, options: list[str]) -> tuple[str, tuple[str, ...]]:
        if not account.settings.get("audited"):
            return PRIVATE, (UNAUDITED_NOTE,)
        wanted = str(account.settings.get("privacy_level") or "PUBLIC_TO_EVERYONE")
        if options and wanted not in options:
            raise PublishError(ErrorKind.PERMANENT, f"TikTok does not offer {wanted} for this account; choose one of "
                               f"{', '.join(options)} in the account's settings.", code="privacy_level_option_mismatch")
        return wanted, ()

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account, cp = job.account, job.checkpoints
        journal = self._steps.wrap(job, journal)
        notes: tuple[str, ...] = (UNAUDITED_NOTE,) if cp.get("privacy") == PRIVATE and \
            not account.settings.get("audited") else ()
        if cp.get("post_done"):
            return PublishResult(cp["post_done"], self.post_url(account, cp["post_done"]), warnings=notes)
        await self.refresh_credentials(account)
        inbox = account.settings.get("post_mode") == "inbox"
        made_from = content_hash(job.content.text, *((m.source, m.kind.value) for m in job.content.media),
                                 inbox, account.settings.get("audited"), account.settings.get("privacy_level"))
        publish_id = cp.get("publish_id", "")
        if not (publish_id and cp.get("uploaded_of") == made_from):
            publish_id, notes = await self._send_video(job, journal, inbox)
            journal.record("uploaded_of", made_from)
        return await self._finish(job, journal, publish_id, notes)

    async def _send_video(self, job: PublishJob, journal: StepJournal, inbox: bool) -> tuple[str, tuple[str, ...]]:
        account = job.account
        if len(job.content.media) != 1:
            raise PublishError(ErrorKind.PERMANENT, "TikTok posts need exactly one video.", code="needs_video")
        data, raw_mime, _name = await load_media(self._client, job.content.media[0].source,
                                                 job.content.media[0].mime_type)
        mime = upload_type(raw_mime)
        if mime is None:
            raise PublishError(ErrorKind.PERMANENT, f"The video is a {raw_mime} file; TikTok takes MP4, MOV or WebM. "
                               "Convert it to MP4.", code="media_type")
        chunk, count = self.plan_chunks(len(data))
        source = {"source": "FILE_UPLOAD", "video_size": len(data), "chunk_size": chunk, "total_chunk_count": count}
        notes: tuple[str, ...] = ()
        if inbox:
            init = await self._api(account, "/v2/post/publish/inbox/video/init/", {"source_info": source})
        else:
            creator = await self._api(account, "/v2/post/publish/creator_info/query/", {}, what="the account's "
                                      "posting options")
            privacy, notes = self._privacy(account, list(creator.get("privacy_level_options") or []))
            journal.record("privacy", privacy)
            post_info = {"title": job.content.text, "privacy_level": privacy,
                         "disable_comment": bool(creator.get("comment_disabled")),
                         "disable_duet": bool(creator.get("duet_disabled")),
                         "disable_stitch": bool(creator.get("stitch_disabled"))}
            init = await self._api(account, "/v2/post/publish/video/init/", {"post_info": post_info,
                                                                           "source_info": source})
        publish_id, upload_url = str(init["publish_id"]), str(init["upload_url"])
        journal.record("publish_id", publish_id)
        journal.record("video_bytes", str(len(data)))
        for index in range(count):
            first = index * chunk
            last = len(data) - 1 if index == count - 1 else first + chunk - 1
            piece = data[first:last + 1]
            try:
                response = await self._client.put(upload_url, content=piece, headers={
                    "Content-Type": mime, "Content-Range": f"bytes {first}-{last}/{len(data)}"})
            except httpx.HTTPError as exc:
                # Only the last byte can complete the post: an earlier chunk that failed left nothing behind.
                raise classify(exc, request_sent_for_create=index == count - 1, platform="TikTok") from None
            if response.status_code not in (200, 201, 206):
                raise tiktok_error(response, create=index == count - 1, what=f"part {index + 1} of the video")
        return publish_id, notes

    async def _status(self, account: AccountInfo, publish_id: str) -> dict[str, Any]:
        return await self._api(account, "/v2/post/publish/status/fetch/", {"publish_id": publish_id},
                               what="the post's status")

    async def _finish(self, job: PublishJob, journal: StepJournal, publish_id: str,
                      notes: tuple[str, ...]) -> PublishResult:
        """Follow `status/fetch` until TikTok finishes; slow processing is retried later without a re-upload."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            data = await self._status(job.account, publish_id)
            status = str(data.get("status") or "")
            if status in _DONE:
                post_id = self._post_id(data) or publish_id
                journal.record("post_done", post_id)
                if status == "SEND_TO_USER_INBOX":
                    notes = (*notes, "The video is waiting in your TikTok inbox: finish posting it in the TikTok app.")
                return PublishResult(post_id, self.post_url(job.account, post_id), warnings=notes)
            if status == "FAILED":
                reason = str(data.get("fail_reason") or "unknown reason")
                raise PublishError(ErrorKind.PERMANENT, f"TikTok could not publish the video ({reason}). Check its "
                                   "format (MP4, MOV or WebM), length and size.", code=reason)
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "TikTok is still processing the video. Outpost will check "
                                   "again in a minute; it will not upload it twice.", retry_after=60.0,
                                   code="processing")
            await asyncio.sleep(self.tuning.poll_interval)

    @staticmethod
    def _post_id(data: dict[str, Any]) -> str:
        ids = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id") or []
        return str(ids[0]) if isinstance(ids, list) and ids else ""

    def post_url(self, account: AccountInfo, post_id: str) -> str:
        username = str(account.settings.get("username") or "")
        if not username or not post_id.isdigit():
            return ""
        return f"https://www.tiktok.com/@{username}/video/{post_id}"

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("post_done"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["post_done"],
                                  url=self.post_url(job.account, cp["post_done"]), detail="journaled")
        publish_id = cp.get("publish_id")
        if not publish_id:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="TikTok never accepted an upload")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            try:
                data = await self._status(job.account, publish_id)
            except PublishError as exc:
                return Reconciliation.check_failed(exc)
            status = str(data.get("status") or "")
            if status in _DONE:
                post_id = self._post_id(data) or publish_id
                return Reconciliation(ReconcileStatus.PUBLISHED, external_id=post_id,
                                      url=self.post_url(job.account, post_id), detail=f"TikTok says {status}")
            if status == "FAILED":
                return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail=f"TikTok says FAILED "
                                      f"({data.get('fail_reason') or 'no reason'})")
            total = int(cp.get("video_bytes") or 0)
            if status == "PROCESSING_UPLOAD" and total and int(data.get("uploaded_bytes") or 0) < total:
                return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the upload never finished, so TikTok "
                                      "will not publish it")
            if loop.time() >= deadline:
                return Reconciliation(ReconcileStatus.UNKNOWN, detail=f"TikTok is still processing the video "
                                      f"(publish id {publish_id}); check your TikTok profile.")
            await asyncio.sleep(self.tuning.poll_interval)

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
