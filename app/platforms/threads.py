"""Threads adapter (platforms.md §1): containers for text, image, video and carousel (2-20), a
bounded status wait, `threads_publish` retried while Meta answers 24/4279009 ("not ready yet"),
replies for the first comment and thread parts, the publishing quota read first, and the
60-day token refreshed once it is over 24 hours old.

The container id is journaled as soon as Threads returns it; `reconcile` asks the container's
status: PUBLISHED means the post exists (its id is then found among the account's recent posts).
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
from app.platforms.meta import graph_response_error, parse_graph_error

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://graph.threads.net"
VERSION = "v1.0"
TOKEN_LIFETIME = timedelta(days=60)
REFRESH_MIN_AGE = timedelta(hours=24)  # Threads refuses to refresh a younger token
REFRESH_AFTER = timedelta(days=7)  # refresh weekly, long before the 60 days run out


class _Expired(Exception):
    """The container expired (24 h) before it was published: make a new one."""


def token_values(token: str, issued_at: datetime, expires_in: float | None) -> dict[str, str]:
    lifetime = timedelta(seconds=expires_in) if expires_in else TOKEN_LIFETIME
    register_secret(token)
    return {"access_token": token, "issued_at": issued_at.isoformat(), "expires_at": (issued_at + lifetime).isoformat()}


def _made_from(content: PostContent) -> str:
    return content_hash(content.text, *((m.source, m.kind.value, m.alt_text) for m in content.media))


class ThreadsAdapter:
    platform = Platform.THREADS

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
        rules = rules_for(Platform.THREADS)
        # With a media host, files on this computer are uploaded there first (app.platforms.mediahost).
        return replace(rules, media_must_be_public_url=False) if self.media_host_enabled(account) else rules

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        if self.media_host_enabled(account):
            problems += [Problem("media", message, platform=self.platform)
                         for message in local_media_problems([m.source for m in content.media])]
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
        try:
            if method == "GET":
                return await self._client.get(f"/{VERSION}/{path}", params=params,
                                              headers={"Authorization": f"Bearer {token}"})
            return await self._client.post(f"/{VERSION}/{path}", data=params,
                                           headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=create, platform="Threads") from None

    async def _json(self, account: AccountInfo, method: str, path: str, *, create: bool = False,
                    params: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self._call(account, method, path, create=create, params=params)
        if response.status_code != 200:
            raise graph_response_error(response, create=create, platform="Threads")
        data: dict[str, Any] = response.json()
        return data

    # ---- the token ---------------------------------------------------------------------
    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Refresh the long-lived token once it is over a week old (never under 24 h: Threads refuses)."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            now = self.context.clock()
            issued = datetime.fromisoformat(values.get("issued_at") or now.isoformat())
            expires = datetime.fromisoformat(values.get("expires_at") or (issued + TOKEN_LIFETIME).isoformat())
            if now >= expires:
                raise PublishError(ErrorKind.AUTH, "The Threads sign-in expired (it lasts 60 days unless Outpost "
                                   "renews it). Reconnect the account.", code="token_expired")
            age = now - issued
            if age < REFRESH_MIN_AGE or (age < REFRESH_AFTER and expires - now > TOKEN_LIFETIME - REFRESH_AFTER):
                return
            try:
                response = await self._client.get("/refresh_access_token", params={
                    "grant_type": "th_refresh_token", "access_token": values["access_token"]})
            except httpx.HTTPError as exc:
                log.warning("Could not renew the Threads token (%s); the current one still works", type(exc).__name__)
                return
            if response.status_code != 200:
                error = graph_response_error(response, create=False, platform="Threads")
                if error.code == "190":  # the token itself is dead; anything else leaves it usable
                    raise error
                log.warning("Threads refused to renew the token: %s", error.message)
                return
            body = response.json()
            self.context.secrets.put(account.id, {**values, **token_values(
                str(body["access_token"]), now, body.get("expires_in"))})

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        await self.refresh_credentials(account)
        if any(not m.is_url for m in job.content.media) and self.media_host_enabled(account):
            urls = await mediahost.public_addresses(job.content.media, job.checkpoints, journal,
                                                    self.context.data_dir, self.tuning)
            hosted = tuple(replace(m, source=url) for m, url in zip(job.content.media, urls, strict=True))
            job = replace(job, content=replace(job.content, media=hosted))
        result = await self._publish_content(job, journal)
        await mediahost.delete_hosted(self._steps.checkpoints(job), self.context.data_dir, self.tuning)
        return result

    async def _publish_content(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        if job.checkpoints.get("media_id"):  # published by an attempt whose success was not recorded
            return PublishResult(external_id=job.checkpoints["media_id"])
        container, status = await self._earlier_container(job)
        if status == "PUBLISHED":
            # An earlier attempt's answer was lost but the post went out: never publish it twice.
            found = await self._find_recent(job)
            media_id, url = found or (container or "", "")
            journal.record("media_id", media_id)
            return PublishResult(external_id=media_id, url=url,
                                 warnings=("An earlier attempt had already published this post.",))
        await self._check_quota(account)
        made_from = _made_from(job.content)
        if status not in ("FINISHED", "IN_PROGRESS") or job.checkpoints.get("container_of") != made_from:
            container = None
        if container is None:
            container = await self._create_post_container(account, job.content)
            journal.record("container_of", made_from)
            journal.record("container_id", container)
        media_id = await self._publish(account, job.content, container, journal)
        journal.record("media_id", media_id)
        url = await self._permalink(account, media_id)
        warnings = await self._replies(job, media_id)
        return PublishResult(external_id=media_id, url=url, warnings=tuple(warnings))

    async def _check_quota(self, account: AccountInfo) -> None:
        try:
            body = await self._json(account, "GET", f"{self._uid(account)}/threads_publishing_limit",
                                    params={"fields": "quota_usage,config"})
        except PublishError as exc:
            if exc.kind is ErrorKind.AUTH:
                raise
            log.warning("Could not read the Threads publishing quota: %s", exc.message)
            return
        data = (body.get("data") or [{}])[0]
        used, total = data.get("quota_usage"), (data.get("config") or {}).get("quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            raise PublishError(ErrorKind.RATE_LIMIT, f"Threads allows {total} posts a day from apps, and this "
                               f"account has used them all. Outpost will try again later.",
                               retry_after=3600.0, code="quota")

    async def _earlier_container(self, job: PublishJob) -> tuple[str | None, str]:
        """The container an earlier attempt journaled, and its status: reused while FINISHED or
        IN_PROGRESS (P7); PUBLISHED means that attempt's post exists."""
        container = job.checkpoints.get("container_id")
        if not container:
            return None, ""
        status, _ = await self._status(job.account, container)
        return container, status

    async def _status(self, account: AccountInfo, container: str) -> tuple[str, str]:
        body = await self._json(account, "GET", container, params={"fields": "status,error_message"})
        return str(body.get("status") or ""), str(body.get("error_message") or "")

    async def _create_container(self, account: AccountInfo, **params: str) -> str:
        body = await self._json(account, "POST", f"{self._uid(account)}/threads", params=params)
        return str(body["id"])

    @staticmethod
    def _media_params(item: MediaItem) -> dict[str, str]:
        if not item.is_url:
            raise PublishError(ErrorKind.PERMANENT, "Threads fetches media from a public web address; this "
                               "attachment is a file on this computer.", code="media_not_public")
        if item.kind is MediaKind.VIDEO:
            params = {"media_type": "VIDEO", "video_url": item.source}
        else:
            params = {"media_type": "IMAGE", "image_url": item.source}
        if item.alt_text:
            params["alt_text"] = item.alt_text
        return params

    async def _create_post_container(self, account: AccountInfo, content: PostContent,
                                     reply_to: str | None = None, text: str | None = None) -> str:
        text = content.text if text is None else text
        extra = {"reply_to_id": reply_to} if reply_to else {}
        media = content.media if reply_to is None else ()
        if not media:
            return await self._create_container(account, media_type="TEXT", text=text, **extra)
        if len(media) == 1:
            return await self._create_container(account, text=text, **self._media_params(media[0]), **extra)
        children = []
        for item in media:
            children.append(await self._create_container(account, is_carousel_item="true", **self._media_params(item)))
        for child in children:
            await self._wait_until_ready(account, child)
        return await self._create_container(account, media_type="CAROUSEL", children=",".join(children),
                                            text=text, **extra)

    async def _wait_until_ready(self, account: AccountInfo, container: str) -> None:
        """Poll `status` until FINISHED, for at most `max_processing_wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            status, message = await self._status(account, container)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise PublishError(ErrorKind.PERMANENT, f"Threads could not process the media ({message or 'ERROR'}). "
                                   "Check the file's format and size.", code=message or "ERROR")
            if status == "EXPIRED":
                raise _Expired(container)
            if loop.time() >= deadline:
                raise PublishError(ErrorKind.TRANSIENT, "Threads is still processing the media. Outpost will try "
                                   "again in a few minutes.", retry_after=120.0, code="IN_PROGRESS")
            await asyncio.sleep(self.tuning.poll_interval)

    async def _publish(self, account: AccountInfo, content: PostContent, container: str, journal: StepJournal | None,
                       reply_to: str | None = None, text: str | None = None) -> str:
        """`threads_publish`, retried with backoff while Meta answers 24/4279009 (not ready yet).

        A container that expired is replaced once by a new one; the stale id is never published.
        """
        recreated = False
        attempt = 0
        while True:
            try:
                await self._wait_until_ready(account, container)
            except _Expired:
                if recreated:
                    raise PublishError(ErrorKind.TRANSIENT, "Threads let the post expire twice before publishing. "
                                       "Outpost will try again.", code="EXPIRED") from None
                recreated = True
                container = await self._create_post_container(account, content, reply_to=reply_to, text=text)
                if journal is not None:
                    journal.record("container_id", container)
                continue
            response = await self._call(account, "POST", f"{self._uid(account)}/threads_publish", create=True,
                                        params={"creation_id": container})
            if response.status_code == 200:
                return str(response.json()["id"])
            error = parse_graph_error(response.content)
            if error is not None and error.not_ready and attempt < self.tuning.not_ready_retries:
                await asyncio.sleep(self.tuning.backoff_base * (2**attempt))
                attempt += 1
                continue
            raise graph_response_error(response, create=True, platform="Threads")

    async def _permalink(self, account: AccountInfo, media_id: str) -> str:
        try:
            body = await self._json(account, "GET", media_id, params={"fields": "permalink"})
        except PublishError as exc:
            log.info("Could not read the Threads permalink: %s", exc.message)
            return ""
        return str(body.get("permalink") or "")

    async def _replies(self, job: PublishJob, media_id: str) -> list[str]:
        warnings: list[str] = []
        parent = media_id
        account, content = job.account, job.content
        for n, part in enumerate(content.thread, start=2):
            try:
                container = await self._create_post_container(account, content, reply_to=parent, text=part)
                parent = await self._publish(account, content, container, None, reply_to=parent, text=part)
            except PublishError as exc:
                warnings.append(f"Part {n} of the thread could not be posted: {exc.message}")
                break
        if content.first_comment:
            try:
                container = await self._create_post_container(account, content, reply_to=media_id,
                                                              text=content.first_comment)
                await self._publish(account, content, container, None, reply_to=media_id, text=content.first_comment)
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        return warnings

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
        if found is None:
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=container,
                                  detail="Threads says it was published; its post id was not found")
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id=found[0], url=found[1],
                              detail="found through the container's status")

    async def _find_recent(self, job: PublishJob) -> tuple[str, str] | None:
        try:
            body = await self._json(job.account, "GET", f"{self._uid(job.account)}/threads",
                                    params={"fields": "id,text,permalink,timestamp", "limit": "25"})
        except PublishError:
            return None
        for item in body.get("data") or []:
            if item.get("text") == job.content.text:
                return str(item["id"]), str(item.get("permalink") or "")
        return None

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
