"""YouTube adapter (platforms.md §10): one video per post through a resumable upload session
(POST -> `Location` -> PUT), resumed after an interruption by asking the session how much
arrived (`Content-Range: bytes */<total>` -> 308 + `Range`), title, description and privacy,
native scheduling with `status.publishAt` (private until then), a first comment, quota errors
held until YouTube's quota day resets, and Google access tokens refreshed from the refresh token.

The session address is journaled before a byte is sent; `reconcile` asks it whether the upload
completed (reliability.md §1.4). A second session is never started while the first can resume.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaKind, Platform, PostContent, Problem
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
)

log = logging.getLogger(__name__)

API_BASE = "https://www.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address, not a secret)
NAME = "YouTube"
TITLE_LIMIT = 100
DESCRIPTION_BYTES = 5000  # characters or bytes is unverified: count bytes to be safe
REFRESH_MARGIN = timedelta(minutes=5)
PACIFIC = ZoneInfo("America/Los_Angeles")  # the quota day resets at midnight Pacific Time
CHUNK = 1024 * 1024
MAX_RESUMES = 5
PRIVACY = ("public", "unlisted", "private")


def title_for(content: PostContent) -> str:
    """The post's own title when it has one, else the first line of its text."""
    title = str(getattr(content, "title", "") or "").strip()
    if title:
        return title
    return (content.text.strip().splitlines() or [""])[0].strip()


def description_for(content: PostContent) -> str:
    """The text under the title: the whole text when the post has a title, else what follows line one."""
    if str(getattr(content, "title", "") or "").strip():
        return content.text.strip()
    lines = content.text.strip().splitlines()
    return "\n".join(lines[1:]).strip()


def seconds_until_quota_reset(now: datetime) -> float:
    local = now.astimezone(PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=PACIFIC) + timedelta(days=1)
    return max(60.0, (midnight - local).total_seconds() + 60.0)


def token_values(body: dict[str, Any], now: datetime, previous: dict[str, str] | None = None) -> dict[str, str]:
    """Secrets after a token answer. Google omits the refresh token on refresh: keep the stored one."""
    values = dict(previous or {})
    values["access_token"] = str(body["access_token"])
    values["expires_at"] = (now + timedelta(seconds=float(body.get("expires_in") or 3600))).isoformat()
    if body.get("refresh_token"):
        values["refresh_token"] = str(body["refresh_token"])
    for key in ("access_token", "refresh_token", "client_secret"):
        if values.get(key):
            register_secret(values[key])
    return values


def google_error(response: httpx.Response, *, create: bool, now: datetime, what: str = "") -> PublishError:
    """Outpost's ErrorKind for a Google API error answer (platforms.md §10, "Errors")."""
    status = response.status_code
    message, reasons = "", []
    try:
        err = response.json().get("error") or {}
        if isinstance(err, dict):
            message = str(err.get("message") or "")
            reasons = [str(e.get("reason") or "") for e in err.get("errors") or [] if isinstance(e, dict)]
        else:
            message = str(err)
    except (ValueError, AttributeError):
        message = body_snippet(response)
    reason = reasons[0] if reasons else ""
    prefix = f"YouTube refused {what}: " if what else "YouTube: "
    detail = message or f"HTTP {status}"
    if reason in ("quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"):
        wait = seconds_until_quota_reset(now) if reason != "userRateLimitExceeded" else 60.0
        return PublishError(ErrorKind.RATE_LIMIT, f"YouTube's daily API quota for your project is used up ({reason}). "
                            "Outpost will try again after it resets at midnight Pacific Time.",
                            http_status=status, retry_after=wait, code=reason)
    if reason == "uploadLimitExceeded":
        return PublishError(ErrorKind.RATE_LIMIT, "This channel reached YouTube's daily upload limit. Outpost will "
                            "try again in 24 hours.", http_status=status, retry_after=86400.0, code=reason)
    if status == 401 or reason in ("authError", "insufficientPermissions"):
        return PublishError(ErrorKind.AUTH, f"YouTube no longer accepts this account's sign-in or permissions "
                            f"({detail}). Reconnect the account.", http_status=status, code=reason or "unauthorized")
    if status == 429:
        return PublishError(ErrorKind.RATE_LIMIT, f"YouTube asks Outpost to slow down. {detail}", http_status=status,
                            retry_after=60.0, code="rate_limited")
    if status >= 500:
        kind = ErrorKind.UNKNOWN if create else ErrorKind.TRANSIENT
        return PublishError(kind, f"YouTube had a server error (HTTP {status}). Outpost will check and try again.",
                            http_status=status, code=f"http_{status}")
    return PublishError(ErrorKind.PERMANENT, prefix + detail, http_status=status, code=reason or f"http_{status}")


def _existing_file(source: str) -> Path | None:
    path = Path(source).expanduser()
    return path if path.is_file() else None


class _Source:
    """The video's bytes: a local file read in pieces (videos are large), or a downloaded address."""

    def __init__(self, path: Path | None, data: bytes | None, mime: str) -> None:
        self.path, self.data, self.mime = path, data, mime
        self.size = path.stat().st_size if path is not None else len(data or b"")

    async def chunks(self, start: int) -> AsyncIterator[bytes]:
        if self.data is not None:
            for i in range(start, self.size, CHUNK):
                yield self.data[i:i + CHUNK]
            return
        assert self.path is not None
        with self.path.open("rb") as handle:
            handle.seek(start)
            while True:
                piece = await asyncio.to_thread(handle.read, CHUNK)
                if not piece:
                    return
                yield piece


class YouTubeAdapter:
    platform = Platform.YOUTUBE

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.YOUTUBE)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        problems = [p for p in problems if not (p.field == "text" and "Write some text" in p.message)]

        def err(field_name: str, message: str) -> None:
            problems.append(Problem(field_name, message, platform=self.platform))

        title = title_for(content)
        where = "title" if str(content.title or "").strip() else "text"  # the field the title came from
        if not title:
            err("text", "A YouTube video needs a title: give the post a title or start its text with one.")
        elif len(title) > TITLE_LIMIT:
            err(where, f"YouTube titles are at most {TITLE_LIMIT} characters; this one has {len(title)} "
                       "(the title is the post's title, or the first line of its text).")
        if "<" in title or ">" in title:
            err(where, "YouTube titles cannot contain < or >.")
        size = len(description_for(content).encode("utf-8"))
        if size > DESCRIPTION_BYTES:
            err("text", f"YouTube descriptions are at most {DESCRIPTION_BYTES} bytes; this one has {size}.")
        for message in local_media_problems([m.source for m in content.media]):
            err("media", message)
        privacy = account.settings.get("privacy")
        if privacy is not None and privacy not in PRIVACY:
            err("account", f"YouTube privacy must be one of {', '.join(PRIVACY)}.")
        return problems

    # ---- plumbing ----------------------------------------------------------------------
    @property
    def _client(self) -> httpx.AsyncClient:
        if self._client_ is None:
            self._client_ = create_client(self.tuning)
        return self._client_

    @property
    def _api(self) -> str:
        return (self.context.api_base.get(self.platform.value) or API_BASE).rstrip("/")

    @property
    def _token_url(self) -> str:
        override = self.context.api_base.get(self.platform.value)
        return f"{override.rstrip('/')}/token" if override else TOKEN_URL

    def _secrets(self, account: AccountInfo) -> dict[str, str]:
        return stored_sign_in(self.context, account)

    async def _send(self, account: AccountInfo, method: str, url: str, *, create: bool, what: str = "",
                    **kwargs: Any) -> httpx.Response:
        """One call with the account's token; a 401 refreshes the token once and repeats the call."""
        body_factory = kwargs.pop("body_factory", None)  # a fresh byte stream for each try
        for attempt in range(2):
            token = self._secrets(account)["access_token"]
            headers = {"Authorization": f"Bearer {token}", **kwargs.get("headers", {})}
            if body_factory is not None:
                kwargs["content"] = body_factory()
            try:
                response = await self._client.request(method, url, **{**kwargs, "headers": headers})
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=create, platform=NAME) from None
            if response.status_code != 401 or attempt:
                return response
            await self.refresh_credentials(account, force=True)
        return response

    # ---- the token ---------------------------------------------------------------------
    async def refresh_credentials(self, account: AccountInfo, *, force: bool = False) -> None:
        """Get a new access token from the refresh token when the current one is (nearly) expired."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            now = self.context.clock()
            expires = values.get("expires_at")
            if not force and expires and datetime.fromisoformat(expires) - now > REFRESH_MARGIN:
                return
            if not values.get("refresh_token") or not values.get("client_id"):
                raise PublishError(ErrorKind.AUTH, "Outpost cannot renew the YouTube sign-in (no refresh token). "
                                   "Reconnect the account.", code="no_refresh_token")
            try:
                response = await self._client.post(self._token_url, data={
                    "grant_type": "refresh_token", "refresh_token": values["refresh_token"],
                    "client_id": values["client_id"], "client_secret": values.get("client_secret", ""),
                })
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=False, platform="Google sign-in") from None
            if response.status_code != 200:
                try:
                    body = response.json()
                except ValueError:
                    body = {}
                if response.status_code in (400, 401) and body.get("error") in ("invalid_grant", "invalid_client",
                                                                                 "unauthorized_client"):
                    raise PublishError(
                        ErrorKind.AUTH, "Google no longer accepts this YouTube sign-in (it was revoked, unused for "
                        "6 months, or your Google Cloud app is in Testing, where sign-ins last 7 days). Reconnect "
                        "the account.", http_status=response.status_code, code=str(body.get("error")))
                raise PublishError(ErrorKind.TRANSIENT, f"Google could not renew the sign-in (HTTP "
                                   f"{response.status_code}). Outpost will try again.",
                                   http_status=response.status_code, code="refresh_failed")
            # Persist before use (reliability.md P9).
            self.context.secrets.put(account.id, token_values(response.json(), now, values))

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        await self.refresh_credentials(account)
        cp = job.checkpoints
        if cp.get("video_id"):  # an earlier attempt's upload completed but its success was not recorded
            return PublishResult(external_id=cp["video_id"], url=self._watch_url(cp["video_id"]),
                                 natively_scheduled=bool(cp.get("publish_at")))
        source = await self._source(job)
        publish_at = self._native_instant(job)
        metadata = self._metadata(job.content, account, publish_at)
        made_from = content_hash(json.dumps(metadata, sort_keys=True), *(m.source for m in job.content.media),
                                 source.size)
        session = cp.get("upload_session") if cp.get("upload_of") == made_from else None
        video: dict[str, Any] | None = None
        offset = 0
        if session:
            video, offset = await self._session_status(account, session, source.size, create=True)
            if video is None and offset < 0:
                session = None  # the session is gone; no video came of it
        if video is None and not session:
            session = await self._start_session(account, metadata, source)
            journal.record("upload_of", made_from)
            journal.record("upload_session", session)
            journal.record("upload_size", str(source.size))
            journal.record("publish_at", publish_at.isoformat() if publish_at else "")
            offset = 0
        if video is None:
            assert session is not None
            video = await self._upload(account, session, source, max(offset, 0))
        video_id = str(video["id"])
        journal.record("video_id", video_id)
        return PublishResult(external_id=video_id, url=self._watch_url(video_id),
                             natively_scheduled=publish_at is not None,
                             warnings=tuple(await self._after_upload(job, video, publish_at)))

    def _native_instant(self, job: PublishJob) -> datetime | None:
        at = job.native_schedule_at
        lead = self.rules(job.account).native_scheduling_min_lead
        if at is not None and at - self.context.clock() >= lead:
            return at
        return None

    def _metadata(self, content: PostContent, account: AccountInfo, publish_at: datetime | None) -> dict[str, Any]:
        privacy = str(account.settings.get("privacy") or "public")
        status: dict[str, Any] = {"privacyStatus": privacy, "selfDeclaredMadeForKids":
                                  bool(account.settings.get("made_for_kids", False))}
        if publish_at is not None:
            # publishAt works only on private videos; YouTube makes it public at that instant.
            status = {**status, "privacyStatus": "private",
                      "publishAt": publish_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        snippet: dict[str, Any] = {"title": title_for(content), "description": description_for(content),
                                   "categoryId": str(account.settings.get("category_id") or "22")}
        return {"snippet": snippet, "status": status}

    async def _source(self, job: PublishJob) -> _Source:
        videos = [m for m in job.content.media if m.kind is MediaKind.VIDEO]
        if len(videos) != 1:
            raise PublishError(ErrorKind.PERMANENT, "A YouTube post needs exactly one video.", code="no_video")
        item = videos[0]
        if item.is_url:
            data, mime, _ = await load_media(self._client, item.source, item.mime_type)
            return _Source(None, data, mime)
        path = await asyncio.to_thread(_existing_file, item.source)
        if path is None:
            raise PublishError(ErrorKind.PERMANENT, f"The video {Path(item.source).name} was not found. Re-attach it.",
                               code="media_missing")
        return _Source(path, None, item.mime_type or "video/*")

    async def _start_session(self, account: AccountInfo, metadata: dict[str, Any], source: _Source) -> str:
        """Open a resumable session. Nothing is published until its last byte arrives."""
        response = await self._send(
            account, "POST", f"{self._api}/upload/youtube/v3/videos", create=False, what="the upload",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={"Content-Type": "application/json; charset=UTF-8",
                     "X-Upload-Content-Length": str(source.size), "X-Upload-Content-Type": source.mime},
            content=json.dumps(metadata).encode("utf-8"),
        )
        if response.status_code != 200 or not response.headers.get("location"):
            raise google_error(response, create=False, now=self.context.clock(), what="the upload")
        return str(response.headers["location"])

    async def _upload(self, account: AccountInfo, session: str, source: _Source, offset: int) -> dict[str, Any]:
        """PUT the bytes from `offset`; after a dropped connection or a 5xx ask the session and resume."""
        resumes = 0
        while True:
            try:
                response = await self._put_bytes(account, session, source, offset)
            except PublishError as exc:
                if exc.kind not in (ErrorKind.UNKNOWN, ErrorKind.TRANSIENT):
                    raise
                response = None
                log.info("The YouTube upload was interrupted (%s); asking how much arrived", exc.code)
            if response is not None and response.status_code in (200, 201):
                body: dict[str, Any] = response.json()
                return body
            if response is not None and response.status_code < 500 and response.status_code != 308:
                raise google_error(response, create=True, now=self.context.clock(), what="the video")
            if resumes >= MAX_RESUMES:
                raise PublishError(ErrorKind.TRANSIENT, "The YouTube upload kept being interrupted. Outpost will "
                                   "resume it later from where it stopped.", code="upload_interrupted")
            resumes += 1
            await asyncio.sleep(self.tuning.backoff_base * resumes)
            try:
                video, offset = await self._session_status(account, session, source.size, create=True)
            except PublishError as exc:
                if exc.kind not in (ErrorKind.UNKNOWN, ErrorKind.TRANSIENT):
                    raise
                raise PublishError(ErrorKind.UNKNOWN, "The YouTube upload was interrupted and YouTube could not "
                                   "say how much arrived; Outpost will ask again before doing anything else.",
                                   http_status=exc.http_status, code="upload_status_unknown") from None
            if video is not None:
                return video
            if offset < 0:
                raise PublishError(ErrorKind.TRANSIENT, "YouTube dropped the upload session before it finished. "
                                   "Outpost will start the upload again.", code="session_gone")

    async def _put_bytes(self, account: AccountInfo, session: str, source: _Source, offset: int) -> httpx.Response:
        total = source.size
        headers = {"Content-Type": source.mime, "Content-Length": str(total - offset)}
        if offset:
            headers["Content-Range"] = f"bytes {offset}-{total - 1}/{total}"
        return await self._send(account, "PUT", session, create=True, headers=headers,
                                body_factory=lambda: source.chunks(offset))

    async def _session_status(self, account: AccountInfo, session: str, total: int,
                              *, create: bool) -> tuple[dict[str, Any] | None, int]:
        """(the video, -) when the upload completed; (None, next offset) while incomplete;
        (None, -1) when the session no longer exists."""
        response = await self._send(account, "PUT", session, create=False,
                                    headers={"Content-Range": f"bytes */{total}", "Content-Length": "0"})
        if response.status_code in (200, 201):
            body: dict[str, Any] = response.json()
            return body, total
        if response.status_code == 308:
            received = response.headers.get("range", "")
            try:
                return None, int(received.rsplit("-", 1)[1]) + 1 if received else 0
            except (IndexError, ValueError):
                return None, 0
        if response.status_code in (404, 410):
            return None, -1
        raise google_error(response, create=False, now=self.context.clock(), what="the upload's status")

    async def _after_upload(self, job: PublishJob, video: dict[str, Any], publish_at: datetime | None) -> list[str]:
        warnings: list[str] = []
        wanted = "private" if publish_at else str(job.account.settings.get("privacy") or "public")
        got = str((video.get("status") or {}).get("privacyStatus") or wanted)
        if got != wanted:
            warnings.append(f"YouTube made the video {got}, not {wanted}: uploads from Google Cloud projects that "
                            "have not passed YouTube's audit stay private. Change it in YouTube Studio.")
        if job.content.first_comment:
            if publish_at is not None:
                warnings.append("YouTube publishes this video itself later, so the first comment is not posted.")
            else:
                try:
                    await self._comment(job.account, str(video["id"]), job.content.first_comment)
                except PublishError as exc:
                    warnings.append(f"The first comment could not be posted: {exc.message}")
        return warnings

    async def _comment(self, account: AccountInfo, video_id: str, text: str) -> None:
        body = {"snippet": {"videoId": video_id, "topLevelComment": {"snippet": {"textOriginal": text}}}}
        response = await self._send(account, "POST", f"{self._api}/youtube/v3/commentThreads", create=True,
                                    params={"part": "snippet"}, json=body)
        if response.status_code != 200:
            raise google_error(response, create=True, now=self.context.clock(), what="the comment")

    @staticmethod
    def _watch_url(video_id: str) -> str:
        return f"https://www.youtube.com/watch?v={video_id}"

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("video_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["video_id"],
                                  url=self._watch_url(cp["video_id"]), detail="journaled")
        session = cp.get("upload_session")
        if not session:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="no upload was started")
        try:
            await self.refresh_credentials(job.account)
            total = int(cp["upload_size"]) if cp.get("upload_size") else await self._expected_size(job)
            video, offset = await self._session_status(job.account, session, total, create=False)
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if video is not None:
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=str(video["id"]),
                                  url=self._watch_url(str(video["id"])), detail="the upload session completed")
        if offset >= 0:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail=f"the upload stopped at byte {offset}; it "
                                  "resumes from there")
        return Reconciliation(ReconcileStatus.UNKNOWN, detail="YouTube no longer knows the upload session; check "
                              "the channel's videos before publishing again")

    async def _expected_size(self, job: PublishJob) -> int:
        source = await self._source(job)
        return source.size

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
