"""Instagram adapter (platforms.md §7, Instagram API with Instagram Login): image, carousel (2-10)
and reel through containers, a bounded `status_code` wait, `media_publish` retried while Meta
answers 9007/2207027 ("not ready yet"), the publishing quota read first, a first comment, and
the 60-day token refreshed once it is over 24 hours old.

Instagram fetches media from public addresses only. Local files go to the person's media host
(app.platforms.mediahost) first; each uploaded address is journaled, and deleted after publishing.
The container id is journaled as soon as Instagram returns it; `reconcile` asks its `status_code`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent, Problem
from app.core.redact import register_secret
from app.core.rules import PlatformRules, rules_for, validate_content
from app.platforms import mediahost
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
    classify,
    content_hash,
    create_client,
    local_media_problems,
)
from app.platforms.mediahost import SETTING_HINT
from app.platforms.meta import meta_response_error, parse_graph_error, usage_wait

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://graph.instagram.com"
VERSION = "v26.0"  # what facebook-business 26 describes; v21.0 expires 2027-01-21 (Graph API changelog)
TOKEN_LIFETIME = timedelta(days=60)
REFRESH_MIN_AGE = timedelta(hours=24)  # Instagram refuses to refresh a younger token
REFRESH_AFTER = timedelta(days=7)
NAME = "Instagram"


class _Expired(Exception):
    """The container expired (24 h) before it was published: make a new one."""


def token_values(token: str, issued_at: datetime, expires_in: float | None) -> dict[str, str]:
    lifetime = timedelta(seconds=expires_in) if expires_in else TOKEN_LIFETIME
    register_secret(token)
    return {"access_token": token, "issued_at": issued_at.isoformat(), "expires_at": (issued_at + lifetime).isoformat()}


def _made_from(content: PostContent) -> str:
    return content_hash(content.text, *((m.source, m.kind.value, m.alt_text) for m in content.media))


def _local_message(i: int) -> str:
    return (f"Attachment {i}: Instagram fetches media from a public web address and this is a file on this "
            f"computer. Set up a media host in {SETTING_HINT} so Outpost can put it online for Instagram, "
            f"or use an https:// address.")


def instagram_error(response: httpx.Response, *, create: bool) -> PublishError:
    """Meta's classification, plus Instagram's own subcodes (platforms.md §7, "Errors")."""
    error = meta_response_error(response, create=create, platform=NAME)
    graph = parse_graph_error(response.content)
    sub = graph.subcode if graph is not None else None
    if sub == 2207042:  # the daily publishing limit, reached between the quota read and the publish
        return PublishError(ErrorKind.RATE_LIMIT, "Instagram's daily limit of posts from apps is reached for this "
                            "account. Outpost will try again later.", http_status=response.status_code,
                            retry_after=3600.0, code="2207042")
    if sub == 2207003:  # Instagram timed out downloading the media: nothing was created
        return PublishError(ErrorKind.TRANSIENT, "Instagram could not download the media in time. Outpost will "
                            "try again.", http_status=response.status_code, retry_after=60.0, code="2207003")
    if sub == 2207052:
        return PublishError(ErrorKind.PERMANENT, f"Instagram could not fetch the media from its address. Make sure "
                            f"it is public (check the media host in {SETTING_HINT}). ({error.message})",
                            http_status=response.status_code, code="2207052")
    return error


class InstagramAdapter:
    platform = Platform.INSTAGRAM

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def media_host_enabled(self, account: AccountInfo) -> bool:
        return mediahost.enabled_for(self.context.data_dir, account)

    def rules(self, account: AccountInfo) -> PlatformRules:
        rules = rules_for(Platform.INSTAGRAM)
        return replace(rules, media_must_be_public_url=False) if self.media_host_enabled(account) else rules

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        hosted = self.media_host_enabled(account)
        problems = validate_content(content, replace(self.rules(account), media_must_be_public_url=False))
        for i, item in enumerate(content.media, start=1):
            if not item.is_url and not hosted:
                problems.append(Problem("media", _local_message(i), platform=self.platform))
        if hosted:
            for message in local_media_problems([m.source for m in content.media]):
                problems.append(Problem("media", message, platform=self.platform))
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

    @staticmethod
    def _uid(account: AccountInfo) -> str:
        uid = account.settings.get("user_id")
        return str(uid) if uid else "me"

    async def _call(self, account: AccountInfo, method: str, path: str, *, create: bool,
                    params: dict[str, str] | None = None) -> httpx.Response:
        token = self._secrets(account)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        try:
            if method == "GET":
                return await self._client.get(f"/{VERSION}/{path}", params=params, headers=headers)
            return await self._client.post(f"/{VERSION}/{path}", data=params, headers=headers)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=create, platform=NAME) from None

    async def _json(self, account: AccountInfo, method: str, path: str, *, create: bool = False,
                    params: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self._call(account, method, path, create=create, params=params)
        if response.status_code != 200:
            raise instagram_error(response, create=create)
        data: dict[str, Any] = response.json()
        return data

    # ---- the token ---------------------------------------------------------------------
    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Refresh the long-lived token once it is over a week old (never under 24 h: Instagram refuses)."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            now = self.context.clock()
            issued = datetime.fromisoformat(values.get("issued_at") or now.isoformat())
            expires = datetime.fromisoformat(values.get("expires_at") or (issued + TOKEN_LIFETIME).isoformat())
            if now >= expires:
                raise PublishError(ErrorKind.AUTH, "The Instagram sign-in expired (it lasts 60 days unless Outpost "
                                   "renews it). Reconnect the account.", code="token_expired")
            age = now - issued
            if age < REFRESH_MIN_AGE or (age < REFRESH_AFTER and expires - now > TOKEN_LIFETIME - REFRESH_AFTER):
                return
            try:
                response = await self._client.get("/refresh_access_token", params={
                    "grant_type": "ig_refresh_token", "access_token": values["access_token"]})
            except httpx.HTTPError as exc:
                log.warning("Could not renew the Instagram token (%s); the current one still works", type(exc).__name__)
                return
            if response.status_code != 200:
                error = meta_response_error(response, create=False, platform=NAME)
                if error.code == "190":
                    raise error
                log.warning("Instagram refused to renew the token: %s", error.message)
                return
            body = response.json()
            self.context.secrets.put(account.id, {**values, **token_values(
                str(body["access_token"]), now, body.get("expires_in"))})

    def _reminder(self, account: AccountInfo) -> list[str]:
        """Renewals keep failing and the token runs out within a week: say so while it still works."""
        expires = self._secrets(account).get("expires_at")
        if expires and datetime.fromisoformat(expires) - self.context.clock() < timedelta(days=7):
            return [f"Outpost could not renew the Instagram sign-in for {account.label}; it ends on {expires[:10]}. "
                    "Reconnect the account before then."]
        return []

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        await self.refresh_credentials(account)
        if job.checkpoints.get("media_id"):  # published by an attempt whose success was not recorded
            return PublishResult(external_id=job.checkpoints["media_id"])
        container, status = await self._earlier_container(job)
        if status == "PUBLISHED":
            found = await self._find_recent(job)
            media_id, url = found or (container or "", "")
            journal.record("media_id", media_id)
            await self._delete_hosted(job)
            return PublishResult(external_id=media_id, url=url,
                                 warnings=("An earlier attempt had already published this post.",))
        await self._check_quota(account)
        made_from = _made_from(job.content)
        if status not in ("FINISHED", "IN_PROGRESS") or job.checkpoints.get("container_of") != made_from:
            container = None
        sources = await self._public_sources(job, journal)
        if container is None:
            container = await self._create_post_container(account, job.content, sources)
            journal.record("container_of", made_from)
            journal.record("container_id", container)
        media_id = await self._publish(account, job.content, sources, container, journal)
        journal.record("media_id", media_id)
        url = await self._permalink(account, media_id)
        warnings = self._reminder(account)
        if job.content.first_comment:
            try:
                await self._json(account, "POST", f"{media_id}/comments", create=True,
                                 params={"message": job.content.first_comment})
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        await self._delete_hosted(job)
        return PublishResult(external_id=media_id, url=url, warnings=tuple(warnings))

    async def _check_quota(self, account: AccountInfo) -> None:
        """Read `content_publishing_limit` (50, 100 or 25 a day: read at runtime) and the usage headers."""
        try:
            response = await self._call(account, "GET", f"{self._uid(account)}/content_publishing_limit",
                                        create=False, params={"fields": "quota_usage,config"})
        except PublishError as exc:
            log.warning("Could not read the Instagram publishing quota: %s", exc.message)
            return
        wait, exhausted = usage_wait(response.headers)
        if exhausted:
            raise PublishError(ErrorKind.RATE_LIMIT, "Instagram says Outpost has used its call budget for now. "
                               "Outpost will try again later.", retry_after=wait or 600.0, code="app_usage")
        if response.status_code != 200:
            error = meta_response_error(response, create=False, platform=NAME)
            if error.kind in (ErrorKind.AUTH, ErrorKind.RATE_LIMIT):
                raise error
            log.warning("Could not read the Instagram publishing quota: %s", error.message)
            return
        data = (response.json().get("data") or [{}])[0]
        used, total = data.get("quota_usage"), (data.get("config") or {}).get("quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            raise PublishError(ErrorKind.RATE_LIMIT, f"Instagram allows {total} posts a day from apps, and this "
                               f"account has used them all. Outpost will try again later.",
                               retry_after=3600.0, code="quota")

    async def _earlier_container(self, job: PublishJob) -> tuple[str | None, str]:
        container = job.checkpoints.get("container_id")
        if not container:
            return None, ""
        status, _ = await self._status(job.account, container)
        return container, status

    async def _status(self, account: AccountInfo, container: str) -> tuple[str, str]:
        body = await self._json(account, "GET", container, params={"fields": "status_code,status"})
        return str(body.get("status_code") or ""), str(body.get("status") or "")

    # ---- media on a public address -----------------------------------------------------
    async def _public_sources(self, job: PublishJob, journal: StepJournal) -> list[str]:
        """Each attachment's public address; local files are put on the media host once (P7)."""
        local = [i for i, m in enumerate(job.content.media, start=1) if not m.is_url]
        if local and not self.media_host_enabled(job.account):
            raise PublishError(ErrorKind.PERMANENT, _local_message(local[0]), code="media_not_public")
        return await mediahost.public_addresses(job.content.media, job.checkpoints, journal, self.context.data_dir,
                                                self.tuning)

    async def _delete_hosted(self, job: PublishJob) -> None:
        await mediahost.delete_hosted(self._steps.checkpoints(job), self.context.data_dir, self.tuning)

    # ---- containers --------------------------------------------------------------------
    async def _create_container(self, account: AccountInfo, **params: str) -> str:
        body = await self._json(account, "POST", f"{self._uid(account)}/media", params=params)
        return str(body["id"])

    @staticmethod
    def _media_params(item: MediaItem, url: str, *, child: bool) -> dict[str, str]:
        if item.kind is MediaKind.VIDEO:
            return {"media_type": "VIDEO" if child else "REELS", "video_url": url}
        params = {"image_url": url}
        if item.alt_text:
            params["alt_text"] = item.alt_text
        return params

    async def _create_post_container(self, account: AccountInfo, content: PostContent, sources: list[str]) -> str:
        media = content.media
        if len(media) == 1:
            params = self._media_params(media[0], sources[0], child=False)
            if media[0].kind is MediaKind.VIDEO:
                params["share_to_feed"] = "true"
            return await self._create_container(account, caption=content.text, **params)
        children = []
        for item, url in zip(media, sources, strict=True):
            children.append(await self._create_container(account, is_carousel_item="true",
                                                         **self._media_params(item, url, child=True)))
        for child in children:
            await self._wait_until_ready(account, child)
        return await self._create_container(account, media_type="CAROUSEL", children=",".join(children),
                                            caption=content.text)

    async def _wait_until_ready(self, account: AccountInfo, container: str) -> None:
        """Poll `status_code` until FINISHED, for at most `max_processing_wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            status, detail = await self._status(account, container)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise PublishError(ErrorKind.PERMANENT, f"Instagram could not process the media "
                                   f"({detail or 'ERROR'}). Check the file's format, size and aspect ratio.",
                                   code="ERROR")
            if status == "EXPIRED":
                raise _Expired(container)
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "Instagram is still processing the media. Outpost will "
                                   "try again in a few minutes.", retry_after=120.0, code="IN_PROGRESS")
            await asyncio.sleep(self.tuning.poll_interval)

    async def _publish(self, account: AccountInfo, content: PostContent, sources: list[str], container: str,
                       journal: StepJournal) -> str:
        """`media_publish`, retried with backoff while Meta answers 9007/2207027 (not ready yet).

        A container that expired is replaced once by a new one; the stale id is never published.
        """
        recreated = False
        attempt = 0
        while True:
            try:
                await self._wait_until_ready(account, container)
            except _Expired:
                if recreated:
                    raise PublishError(ErrorKind.TRANSIENT, "Instagram let the post expire twice before "
                                       "publishing. Outpost will try again.", code="EXPIRED") from None
                recreated = True
                container = await self._create_post_container(account, content, sources)
                journal.record("container_id", container)
                continue
            response = await self._call(account, "POST", f"{self._uid(account)}/media_publish", create=True,
                                        params={"creation_id": container})
            if response.status_code == 200:
                return str(response.json()["id"])
            error = parse_graph_error(response.content)
            if error is not None and error.not_ready and attempt < self.tuning.not_ready_retries:
                await asyncio.sleep(self.tuning.backoff_base * (2**attempt))
                attempt += 1
                continue
            raise instagram_error(response, create=True)

    async def _permalink(self, account: AccountInfo, media_id: str) -> str:
        try:
            body = await self._json(account, "GET", media_id, params={"fields": "permalink"})
        except PublishError as exc:
            log.info("Could not read the Instagram permalink: %s", exc.message)
            return ""
        return str(body.get("permalink") or "")

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("media_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["media_id"], detail="journaled")
        container = cp.get("container_id")
        if not container:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="no container was created")
        try:
            status, _ = await self._status(job.account, container)
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if status in ("FINISHED", "IN_PROGRESS", "EXPIRED", "ERROR"):
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail=f"the container is {status}")
        if status != "PUBLISHED":
            return Reconciliation(ReconcileStatus.UNKNOWN, detail=f"unexpected container status {status!r}")
        found = await self._find_recent(job)
        await self._delete_hosted(job)
        if found is None:
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=container,
                                  detail="Instagram says it was published; its media id was not found")
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id=found[0], url=found[1],
                              detail="found through the container's status_code")

    async def _find_recent(self, job: PublishJob) -> tuple[str, str] | None:
        try:
            body = await self._json(job.account, "GET", f"{self._uid(job.account)}/media",
                                    params={"fields": "id,caption,permalink,timestamp", "limit": "25"})
        except PublishError:
            return None
        for item in body.get("data") or []:
            if (item.get("caption") or "") == job.content.text:
                return str(item["id"]), str(item.get("permalink") or "")
        return None

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
