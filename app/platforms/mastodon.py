"""Mastodon adapter (platforms.md §3): any server, media upload v2 with its 202-then-poll flow,
statuses with an Idempotency-Key, replies for the first comment and thread parts, and native
scheduling with `scheduled_at`.

Reconciliation replays the create with the same key and the same payload (reliability.md P4.1):
Mastodon answers with the status it already made instead of making a second one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.language import language_tags
from app.core.models import AccountInfo, ErrorKind, Platform, PostContent, Problem
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
    status_error,
)

log = logging.getLogger(__name__)

NATIVE_MIN_LEAD = timedelta(minutes=5)
IDEMPOTENCY_WINDOW = timedelta(minutes=55)  # Mastodon keeps a key about an hour


def _hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def mastodon_error(response: httpx.Response, *, create: bool, what: str = "") -> PublishError:
    """A PublishError from a Mastodon error answer (`{"error": "..."}`)."""
    try:
        body = response.json()
        message = str(body.get("error") or "") if isinstance(body, dict) else ""
    except ValueError:
        message = body_snippet(response)
    status = response.status_code
    prefix = f"Mastodon refused {what}: " if what else "Mastodon: "
    if status == 401:
        return PublishError(
            ErrorKind.AUTH, "Mastodon no longer accepts this account's sign-in (the token was revoked or the "
            "app removed). Reconnect the account.", http_status=401, code="invalid_token",
        )
    if status in (400, 403, 404, 413, 422):
        return PublishError(ErrorKind.PERMANENT, prefix + (message or f"HTTP {status}"), http_status=status,
                            code=f"http_{status}")
    return status_error(response, create=create, platform="Mastodon", message=message)


class MastodonAdapter:
    platform = Platform.MASTODON

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.MASTODON, dict(account.settings))

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
        return problems

    # ---- plumbing ----------------------------------------------------------------------
    def base_url(self, account: AccountInfo) -> str:
        base = self.context.api_base.get(self.platform.value) or account.server
        if not base:
            raise PublishError(ErrorKind.AUTH, "This Mastodon account has no server address. Reconnect it.",
                               code="no_server")
        return base.rstrip("/")

    def _client(self, account: AccountInfo) -> httpx.AsyncClient:
        base = self.base_url(account)
        if base not in self._clients:
            self._clients[base] = create_client(self.tuning, base_url=base)
        return self._clients[base]

    def _auth(self, account: AccountInfo) -> dict[str, str]:
        return {"Authorization": f"Bearer {stored_sign_in(self.context, account)['access_token']}"}

    async def _send(
        self, account: AccountInfo, method: str, path: str, *, create: bool, **kwargs: Any,
    ) -> httpx.Response:
        client = self._client(account)
        headers = {**self._auth(account), **kwargs.pop("headers", {})}
        try:
            return await client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=create, platform="Mastodon") from None

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        native_at = self._native_instant(job)
        media_ids = await self._media_ids(job, journal)
        if native_at is not None:
            journal.record("scheduled_at", native_at.isoformat())
        payload = self._payload(job.content.text, media_ids, native_at, language=self.language(job.account))
        key = self._key_for(job, payload)
        journal.record("idempotency_key", key)
        journal.record("payload_hash", _hash(payload))
        journal.record("status_sent_at", self.context.clock().isoformat())
        response = await self._send(
            account, "POST", "/api/v1/statuses", create=True, json=payload, headers={"Idempotency-Key": key},
        )
        if response.status_code == 422 and native_at is not None:
            raise self._native_refused(response, job)
        if response.status_code != 200:
            raise mastodon_error(response, create=True, what="the post")
        body = response.json()
        if native_at is not None:
            notes: tuple[str, ...] = ()
            if job.content.first_comment or job.content.thread:
                notes = ("Mastodon schedules the post itself, so the first comment and thread parts are not posted.",)
            return PublishResult(external_id=f"scheduled:{body['id']}", natively_scheduled=True, warnings=notes)
        status_id = str(body["id"])
        journal.record("status_id", status_id)
        warnings = await self._replies(job, status_id)
        return PublishResult(external_id=status_id, url=str(body.get("url") or ""), warnings=tuple(warnings))

    def _key_for(self, job: PublishJob, payload: dict[str, Any]) -> str:
        """The key of an earlier attempt with the same payload, while Mastodon still remembers it.

        A retry after an unclear answer then gets the status that attempt made, never a second one;
        a different payload always gets the new attempt's key (reliability.md P8).
        """
        cp = job.checkpoints
        sent = cp.get("status_sent_at")
        if cp.get("idempotency_key") and cp.get("payload_hash") == _hash(payload) and sent and \
                self.context.clock() - datetime.fromisoformat(sent) < IDEMPOTENCY_WINDOW:
            return cp["idempotency_key"]
        return job.idempotency_key

    def _native_instant(self, job: PublishJob) -> datetime | None:
        recorded = job.checkpoints.get("scheduled_at")
        if recorded:
            return datetime.fromisoformat(recorded)
        at = job.native_schedule_at
        if at is not None and at - self.context.clock() > NATIVE_MIN_LEAD:
            return at
        return None

    def _native_refused(self, response: httpx.Response, job: PublishJob) -> PublishError:
        """Mastodon refused the hand-off (too soon, 25 a day, 300 in all): Outpost publishes it itself.

        Raised as RATE_LIMIT with `retry_after` up to the due time: nothing was created and the
        post stays under Outpost's own scheduler, which publishes it directly when it is due.
        """
        reason = mastodon_error(response, create=True).message
        due = job.native_schedule_at or job.scheduled_at
        wait = max(0.0, (due - self.context.clock()).total_seconds())
        return PublishError(
            ErrorKind.RATE_LIMIT,
            f"Mastodon would not schedule this post itself ({reason}). Outpost will publish it at the "
            f"scheduled time instead; keep Outpost running then.",
            http_status=422, retry_after=wait, code="native_schedule_refused",
        )

    def language(self, account: AccountInfo) -> str:
        """The post's language as Mastodon takes it (ISO 639: `de`, not `de-DE`): the account's own
        "language" setting, else Outpost's (Settings, default the computer's); "" when unknown."""
        own = account.settings.get("language")
        tags = language_tags(own if isinstance(own, str) and own.strip() else self.context.post_language())
        return tags[0].split("-")[0] if tags else ""

    @staticmethod
    def _payload(text: str, media_ids: list[str], scheduled_at: datetime | None,
                 in_reply_to: str | None = None, language: str = "") -> dict[str, Any]:
        payload: dict[str, Any] = {"status": text, "visibility": "public"}
        if language:
            payload["language"] = language
        if media_ids:
            payload["media_ids"] = media_ids
        if in_reply_to:
            payload["in_reply_to_id"] = in_reply_to
        if scheduled_at is not None:
            payload["scheduled_at"] = scheduled_at.isoformat()
        return payload

    async def _media_ids(self, job: PublishJob, journal: StepJournal) -> list[str]:
        """Upload each attachment once; reuse ids journaled by an earlier attempt (P7)."""
        media = job.content.media
        if not media:
            return []
        made_from = content_hash(*((m.source, m.alt_text) for m in media))
        known = [m for m in job.checkpoints.get("media_ids", "").split(",") if m]
        same = job.checkpoints.get("media_of") == made_from
        ids = known if same and len(known) == len(media) else []
        if not ids:
            journal.record("media_of", made_from)
            client = self._client(job.account)
            for i, item in enumerate(media, start=1):
                data, mime, name = await load_media(client, item.source, item.mime_type)
                response = await self._send(
                    job.account, "POST", "/api/v2/media", create=False,
                    files={"file": (name, data, mime)}, data={"description": item.alt_text} if item.alt_text else {},
                )
                if response.status_code not in (200, 202):
                    raise mastodon_error(response, create=False, what=f"attachment {i}")
                ids.append(str(response.json()["id"]))
                journal.record("media_ids", ",".join(ids))
        for media_id in ids:
            await self._wait_for_media(job.account, media_id)
        return ids

    async def _wait_for_media(self, account: AccountInfo, media_id: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tuning.max_processing_wait
        while True:
            response = await self._send(account, "GET", f"/api/v1/media/{media_id}", create=False)
            if response.status_code == 200:
                return
            if response.status_code != 206:
                raise mastodon_error(response, create=False, what="an attachment")
            if loop.time() >= deadline:
                raise PublishError(
                    ErrorKind.TRANSIENT, "Mastodon is still processing an attachment. Outpost will try again.",
                    retry_after=60.0, code="media_processing",
                )
            await asyncio.sleep(self.tuning.poll_interval)

    async def _replies(self, job: PublishJob, status_id: str) -> list[str]:
        """Thread parts (each replying to the previous) and the first comment (replying to the post)."""
        warnings: list[str] = []
        parent = status_id
        for n, part in enumerate(job.content.thread, start=2):
            try:
                parent = await self._reply(job, part, parent, f"{job.idempotency_key}:part{n}")
            except PublishError as exc:
                warnings.append(f"Part {n} of the thread could not be posted: {exc.message}")
                break
        if job.content.first_comment:
            try:
                await self._reply(job, job.content.first_comment, status_id, f"{job.idempotency_key}:comment")
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        return warnings

    async def _reply(self, job: PublishJob, text: str, parent: str, key: str) -> str:
        response = await self._send(
            job.account, "POST", "/api/v1/statuses", create=True,
            json=self._payload(text, [], None, in_reply_to=parent, language=self.language(job.account)),
            headers={"Idempotency-Key": key},
        )
        if response.status_code != 200:
            raise mastodon_error(response, create=True, what="the reply")
        return str(response.json()["id"])

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("status_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["status_id"], detail="journaled")
        sent_at = cp.get("status_sent_at")
        if not sent_at:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the post was never sent")
        if self.context.clock() - datetime.fromisoformat(sent_at) > IDEMPOTENCY_WINDOW:
            return Reconciliation(
                ReconcileStatus.UNKNOWN,
                detail="Mastodon only remembers a post's key for about an hour; check the account before posting again.",
            )
        native_at = datetime.fromisoformat(cp["scheduled_at"]) if cp.get("scheduled_at") else None
        media_ids = [m for m in cp.get("media_ids", "").split(",") if m]
        payload = self._payload(job.content.text, media_ids, native_at, language=self.language(job.account))
        try:
            response = await self._send(
                job.account, "POST", "/api/v1/statuses", create=True, json=payload,
                headers={"Idempotency-Key": cp.get("idempotency_key") or job.idempotency_key},
            )
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if response.status_code != 200:
            return Reconciliation.check_failed(mastodon_error(response, create=True))
        body = response.json()
        if native_at is not None:
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=f"scheduled:{body['id']}",
                                  detail="handed to Mastodon's scheduler")
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id=str(body["id"]), url=str(body.get("url") or ""),
                              detail="replayed with the same idempotency key")

    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Mastodon tokens do not expire and have no refresh; a revoked one surfaces as AUTH on use."""

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
