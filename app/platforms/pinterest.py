"""Pinterest adapter (platforms.md §8): image pins (a file on this computer goes as base64, a web
address as a URL), carousels of 2-5 images, and video pins through `/v5/media` (register, upload
to the address Pinterest gives, wait until `succeeded`), all on the account's chosen board.
Access tokens are renewed with the refresh token (HTTP Basic app credentials) before they end.

Pinterest has no idempotency key; `reconcile` looks for the pin among the board's recent pins
(same description, created after the attempt began) and otherwise says UNKNOWN.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta
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

DEFAULT_BASE = "https://api.pinterest.com"
REFRESH_MARGIN = timedelta(days=1)
MATCH_WINDOW = timedelta(minutes=30)
BASE64_TYPES = ("image/jpeg", "image/png")
TITLE_LIMIT = 100


def token_values(body: dict[str, Any], now: datetime, app_id: str, app_secret: str,
                 old_refresh: str = "") -> dict[str, str]:
    access = str(body["access_token"])
    refresh = str(body.get("refresh_token") or old_refresh)
    register_secret(access)
    register_secret(refresh)
    return {"access_token": access, "refresh_token": refresh, "client_id": app_id, "client_secret": app_secret,
            "expires_at": (now + timedelta(seconds=float(body.get("expires_in") or 30 * 86400))).isoformat()}


def basic_auth(app_id: str, app_secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{app_id}:{app_secret}".encode()).decode()}


def pinterest_error(response: httpx.Response, *, create: bool, what: str = "the pin") -> PublishError:
    try:
        body = response.json()
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
    except ValueError:
        message = body_snippet(response)
    status = response.status_code
    if status == 401:
        return PublishError(ErrorKind.AUTH, "Pinterest no longer accepts this account's sign-in. Reconnect the account.",
                            http_status=401, code="unauthorized")
    if status == 429:
        wait = retry_after_from(response.headers)
        return PublishError(ErrorKind.RATE_LIMIT, f"Pinterest asks Outpost to slow down ({message or 'HTTP 429'}). "
                            "Outpost tries again later.", http_status=429,
                            retry_after=max(wait, 1.0) if wait is not None else 60.0, code="rate_limited")
    if 400 <= status < 500:
        return PublishError(ErrorKind.PERMANENT, f"Pinterest refused {what}: {message or f'HTTP {status}'}",
                            http_status=status, code=f"http_{status}")
    return status_error(response, create=create, platform="Pinterest", message=message)


class PinterestAdapter:
    platform = Platform.PINTEREST

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.PINTEREST)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
        for i, item in enumerate(content.media, start=1):
            if not item.is_url and item.kind is not MediaKind.VIDEO and item.mime_type \
                    and item.mime_type not in BASE64_TYPES:
                problems.append(Problem("media", f"Attachment {i}: Pinterest takes JPEG or PNG files from this "
                                        "computer.", platform=self.platform, account_id=account.id))
        if len(content.title) > TITLE_LIMIT:
            problems.append(Problem("title", f"Pinterest allows a {TITLE_LIMIT}-character pin title; this one has "
                                    f"{len(content.title)}.", platform=self.platform, account_id=account.id))
        if not account.settings.get("board_id"):
            problems.append(Problem("account", "Choose a Pinterest board for this account (reconnect it to pick one).",
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
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            if values["access_token"] != used_access:
                return
            form = {"grant_type": "refresh_token", "refresh_token": values.get("refresh_token", "")}
            if account.settings.get("continuous_refresh"):  # apps created before 2025-09-25
                form["continuous_refresh"] = "true"
            try:
                response = await self._client.post("/v5/oauth/token", data=form, headers=basic_auth(
                    values.get("client_id", ""), values.get("client_secret", "")))
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=False, platform="Pinterest") from None
            if response.status_code != 200:
                if response.status_code in (400, 401):
                    raise PublishError(ErrorKind.AUTH, "Pinterest refused to renew the sign-in. Reconnect the account.",
                                       http_status=response.status_code, code="refresh_refused")
                raise pinterest_error(response, create=False, what="the token renewal")
            self.context.secrets.put(account.id, {**values, **token_values(
                response.json(), self.context.clock(), values.get("client_id", ""), values.get("client_secret", ""),
                values.get("refresh_token", ""))})

    async def refresh_credentials(self, account: AccountInfo) -> None:
        values = self._secrets(account)
        expires = values.get("expires_at")
        if expires and datetime.fromisoformat(expires) - self.context.clock() < REFRESH_MARGIN:
            await self._renew(account, values["access_token"])

    async def _send(self, account: AccountInfo, method: str, path: str, *, create: bool, **kwargs: Any) -> httpx.Response:
        response: httpx.Response | None = None
        for attempt in range(2):
            token = self._secrets(account)["access_token"]
            try:
                response = await self._client.request(method, path, headers={"Authorization": f"Bearer {token}"},
                                                       **kwargs)
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=create, platform="Pinterest") from None
            if response.status_code == 401 and attempt == 0:
                await self._renew(account, token)
                continue
            break
        assert response is not None
        return response

    def _board(self, account: AccountInfo) -> str:
        board = str(account.settings.get("board_id") or "")
        if not board:
            raise PublishError(ErrorKind.PERMANENT, "This Pinterest account has no board chosen. Reconnect it and "
                               "pick a board.", code="no_board")
        return board

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account, cp = job.account, job.checkpoints
        journal = self._steps.wrap(job, journal)
        if cp.get("pin_id"):
            return PublishResult(cp["pin_id"], self.pin_url(cp["pin_id"]),
                                 warnings=("An earlier attempt had already published this pin.",))
        await self.refresh_credentials(account)
        board = self._board(account)
        source = await self._media_source(job, journal)
        body: dict[str, Any] = {"board_id": board, "description": job.content.text, "media_source": source}
        if job.content.title:
            body["title"] = job.content.title
        media = job.content.media
        if len(media) == 1 and media[0].alt_text and media[0].kind is not MediaKind.VIDEO:
            body["alt_text"] = media[0].alt_text[:500]
        journal.record("pin_sent_at", self.context.clock().isoformat())
        response = await self._send(account, "POST", "/v5/pins", create=True, json=body)
        if response.status_code not in (200, 201):
            raise pinterest_error(response, create=True)
        pin_id = str(response.json()["id"])
        journal.record("pin_id", pin_id)
        notes = ("Pinterest does not post comments from apps; the first comment was not posted.",) \
            if job.content.first_comment else ()
        return PublishResult(pin_id, self.pin_url(pin_id), warnings=notes)

    @staticmethod
    def pin_url(pin_id: str) -> str:
        return f"https://www.pinterest.com/pin/{pin_id}/"

    async def _media_source(self, job: PublishJob, journal: StepJournal) -> dict[str, Any]:
        media = job.content.media
        if not media:
            raise PublishError(ErrorKind.PERMANENT, "A pin needs an image or a video.", code="needs_media")
        if media[0].kind is MediaKind.VIDEO:
            media_id = await self._video(job, journal, media[0])
            return {"source_type": "video_id", "media_id": media_id, "cover_image_key_frame_time": 0}
        if all(m.is_url for m in media):
            if len(media) == 1:
                return {"source_type": "image_url", "url": media[0].source}
            return {"source_type": "multiple_image_urls", "items": [{"url": m.source} for m in media]}
        items = []
        for i, item in enumerate(media, start=1):
            data, mime, _ = await load_media(self._client, item.source, item.mime_type)
            if mime not in BASE64_TYPES:
                raise PublishError(ErrorKind.PERMANENT, f"Attachment {i} is {mime}; Pinterest takes JPEG or PNG "
                                   "files from this computer.", code="media_type")
            items.append({"content_type": mime, "data": base64.b64encode(data).decode("ascii")})
        if len(items) == 1:
            return {"source_type": "image_base64", **items[0]}
        return {"source_type": "multiple_image_base64", "items": items}

    async def _video(self, job: PublishJob, journal: StepJournal, item: MediaItem) -> str:
        """Register, upload and wait for a video; reuse the media id of an earlier attempt (P7)."""
        account, cp = job.account, job.checkpoints
        made_from = content_hash(item.source)
        media_id = cp.get("media_id", "") if cp.get("media_of") == made_from else ""
        if not media_id:
            data, mime, name = await load_media(self._client, item.source, item.mime_type)
            response = await self._send(account, "POST", "/v5/media", create=False, json={"media_type": "video"})
            if response.status_code not in (200, 201):
                raise pinterest_error(response, create=False, what="the video")
            upload = response.json()
            media_id = str(upload["media_id"])
            try:  # the upload address is a storage bucket: Pinterest's own token is not sent there
                s3 = await self._client.post(str(upload["upload_url"]), data=dict(upload.get("upload_parameters") or {}),
                                             files={"file": (name, data, mime)})
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=False, platform="Pinterest") from None
            if s3.status_code not in (200, 201, 204):
                raise PublishError(ErrorKind.TRANSIENT, f"Pinterest's upload storage refused the video (HTTP "
                                   f"{s3.status_code}). Outpost will try again.", http_status=s3.status_code,
                                   code="upload_refused")
            journal.record("media_of", made_from)
            journal.record("media_id", media_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            response = await self._send(account, "GET", f"/v5/media/{media_id}", create=False)
            if response.status_code != 200:
                raise pinterest_error(response, create=False, what="the video's status")
            status = str(response.json().get("status") or "")
            if status == "succeeded":
                return media_id
            if status == "failed":
                raise PublishError(ErrorKind.PERMANENT, "Pinterest could not process the video. Check its format "
                                   "and length.", code="media_failed")
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "Pinterest is still processing the video. Outpost will "
                                   "check again in a minute.", retry_after=60.0, code="media_processing")
            await asyncio.sleep(self.tuning.poll_interval)

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("pin_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["pin_id"], url=self.pin_url(cp["pin_id"]),
                                  detail="journaled")
        sent = cp.get("pin_sent_at")
        if not sent:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the pin was never sent")
        try:
            response = await self._send(job.account, "GET", f"/v5/boards/{self._board(job.account)}/pins",
                                        create=False, params={"page_size": "25"})
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if response.status_code != 200:
            return Reconciliation.check_failed(pinterest_error(response, create=False))
        since = datetime.fromisoformat(sent) - MATCH_WINDOW
        for item in response.json().get("items") or []:
            created = datetime.fromisoformat(str(item.get("created_at") or "1970-01-01T00:00:00"))
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            if created >= since and str(item.get("description") or "") == job.content.text:
                pin_id = str(item["id"])
                return Reconciliation(ReconcileStatus.PUBLISHED, external_id=pin_id, url=self.pin_url(pin_id),
                                      detail="found among the board's pins")
        return Reconciliation(ReconcileStatus.UNKNOWN, detail="not among the board's recent pins")

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
