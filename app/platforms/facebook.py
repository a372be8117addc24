"""Facebook Page adapter (platforms.md §6): text and link posts on the Page feed, one photo or one
video uploaded from a local file (multipart `source`) or an address, several photos as unpublished
photos attached to one feed post, native scheduling with `published=false` +
`scheduled_publish_time` (at least 10 minutes ahead), a first comment, Meta's throttling codes and
usage headers, and a reconnect reminder before a Page token with an expiry runs out.

Facebook has no idempotency key and no container to ask, so the instant a create call is sent is
journaled; `reconcile` looks for the post among the Page's latest posts (reliability.md §1.4).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent, Problem
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
    classify,
    content_hash,
    create_client,
    load_media,
    local_media_problems,
)
from app.platforms.meta import meta_response_error, usage_wait

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://graph.facebook.com"
VIDEO_BASE = "https://graph-video.facebook.com"  # Meta's host for video uploads
VERSION = "v26.0"  # what facebook-business 26 describes; v21.0 expires 2027-01-21 (Graph API changelog)
NAME = "Facebook"
NATIVE_MIN_LEAD = timedelta(minutes=10)
NATIVE_MAX_AHEAD = timedelta(days=29)  # 30 days vs 6 months is unverified: stay inside the shorter one
REMIND_BEFORE = timedelta(days=7)
_URL = re.compile(r"https?://\S+")


def _made_from(content: PostContent, native_at: datetime | None) -> str:
    return content_hash(content.text, native_at, *((m.source, m.kind.value) for m in content.media))


class FacebookAdapter:
    platform = Platform.FACEBOOK

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._client_: httpx.AsyncClient | None = None
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.FACEBOOK)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform))
        return problems

    # ---- plumbing ----------------------------------------------------------------------
    @property
    def _client(self) -> httpx.AsyncClient:
        if self._client_ is None:
            self._client_ = create_client(self.tuning)
        return self._client_

    def _url(self, path: str, *, video: bool = False) -> str:
        override = self.context.api_base.get(self.platform.value)
        base = override or (VIDEO_BASE if video else DEFAULT_BASE)
        return f"{base.rstrip('/')}/{VERSION}/{path}"

    def _secrets(self, account: AccountInfo) -> dict[str, str]:
        return stored_sign_in(self.context, account)

    @staticmethod
    def _page(account: AccountInfo) -> str:
        page = account.settings.get("page_id")
        if not page:
            raise PublishError(ErrorKind.AUTH, "This Facebook account has no Page. Reconnect it and choose a Page.",
                               code="no_page")
        return str(page)

    async def _call(self, account: AccountInfo, method: str, path: str, *, create: bool, video: bool = False,
                    **kwargs: Any) -> dict[str, Any]:
        token = self._secrets(account)["access_token"]
        try:
            response = await self._client.request(method, self._url(path, video=video),
                                                   headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as exc:
            raise classify(exc, request_sent_for_create=create, platform=NAME) from None
        if response.status_code != 200:
            raise meta_response_error(response, create=create, platform=NAME)
        wait, exhausted = usage_wait(response.headers)
        if exhausted and not create:
            raise PublishError(ErrorKind.RATE_LIMIT, "Facebook says Outpost has used this Page's call budget for "
                               "now. Outpost will try again later.", retry_after=wait or 600.0, code="page_usage")
        data: dict[str, Any] = response.json()
        return data

    # ---- the token ---------------------------------------------------------------------
    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Page tokens made from a long-lived sign-in do not expire (unverified) and cannot be
        renewed by the app; one that does expire needs a reconnect, which `publish` reminds of."""
        values = self._secrets(account)
        expires = values.get("expires_at")
        if expires and datetime.fromisoformat(expires) <= self.context.clock():
            raise PublishError(ErrorKind.AUTH, "The Facebook Page sign-in expired. Reconnect the account.",
                               code="token_expired")

    def _reminder(self, account: AccountInfo) -> list[str]:
        expires = self._secrets(account).get("expires_at")
        if expires and datetime.fromisoformat(expires) - self.context.clock() < REMIND_BEFORE:
            return [f"The Facebook sign-in for {account.label} ends on {expires[:10]}; reconnect the account "
                    "before then so posts keep going out."]
        return []

    # ---- publishing --------------------------------------------------------------------
    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        await self.refresh_credentials(account)
        cp = job.checkpoints
        native_at = self._native_instant(job)
        if cp.get("post_id") and cp.get("post_of") == _made_from(job.content, native_at):
            return PublishResult(external_id=cp["post_id"], url=self._post_url(cp["post_id"]),
                                 natively_scheduled=native_at is not None)
        page = self._page(account)
        await self._call(account, "GET", page, create=False, params={"fields": "id,name"})  # token and usage check
        media = job.content.media
        made_from = _made_from(job.content, native_at)
        journal.record("post_of", made_from)
        if not media:
            post_id = await self._create(job, journal, f"{page}/feed", data=self._text_params(job.content, native_at))
        elif len(media) == 1 and media[0].kind is MediaKind.VIDEO:
            post_id = await self._video(job, journal, page, media[0], native_at)
        elif len(media) == 1:
            post_id = await self._photo(job, journal, page, media[0], native_at)
        else:
            photo_ids = await self._unpublished_photos(job, journal, page, native_at)
            data = {**self._schedule_params(native_at), "message": job.content.text,
                    "attached_media": json.dumps([{"media_fbid": p} for p in photo_ids])}
            post_id = await self._create(job, journal, f"{page}/feed", data=data)
        journal.record("post_id", post_id)
        warnings = self._reminder(account)
        if job.content.first_comment:
            if native_at is not None:
                warnings.append("Facebook publishes this post itself later, so the first comment is not posted.")
            else:
                try:
                    await self._call(account, "POST", f"{post_id}/comments", create=True,
                                     data={"message": job.content.first_comment})
                except PublishError as exc:
                    warnings.append(f"The first comment could not be posted: {exc.message}")
        return PublishResult(external_id=post_id, url=self._post_url(post_id),
                             natively_scheduled=native_at is not None, warnings=tuple(warnings))

    def _native_instant(self, job: PublishJob) -> datetime | None:
        at = job.native_schedule_at
        if at is None:
            return None
        ahead = at - self.context.clock()
        if ahead < NATIVE_MIN_LEAD:
            return None
        if ahead > NATIVE_MAX_AHEAD:
            # Refused hand-off: nothing was created, and the post stays with Outpost's own scheduler.
            raise PublishError(ErrorKind.RATE_LIMIT, "Facebook schedules posts at most about a month ahead; Outpost "
                               "will publish this one at its time instead (keep Outpost running then).",
                               retry_after=(ahead - NATIVE_MAX_AHEAD).total_seconds(), code="native_too_far")
        return at

    @staticmethod
    def _schedule_params(native_at: datetime | None) -> dict[str, str]:
        if native_at is None:
            return {"published": "true"}
        return {"published": "false", "scheduled_publish_time": str(int(native_at.timestamp()))}

    def _text_params(self, content: PostContent, native_at: datetime | None) -> dict[str, str]:
        params = {**self._schedule_params(native_at), "message": content.text}
        links = _URL.findall(content.text)
        if links:
            params["link"] = links[0].rstrip(".,;:!?)")
        return params

    async def _create(self, job: PublishJob, journal: StepJournal, path: str, *, video: bool = False,
                      **kwargs: Any) -> str:
        """The one call that makes the post public: journal its instant first (for reconcile)."""
        journal.record("create_sent_at", self.context.clock().isoformat())
        body = await self._call(job.account, "POST", path, create=True, video=video, **kwargs)
        return str(body.get("post_id") or body["id"])

    async def _media_part(self, item: MediaItem) -> tuple[dict[str, str], dict[str, Any]]:
        """Form fields and files for one attachment: a URL Facebook fetches, or the file itself."""
        if item.is_url:
            return {"file_url" if item.kind is MediaKind.VIDEO else "url": item.source}, {}
        data, mime, name = await load_media(self._client, item.source, item.mime_type)
        return {}, {"source": (name, data, mime)}

    async def _photo(self, job: PublishJob, journal: StepJournal, page: str, item: MediaItem,
                     native_at: datetime | None) -> str:
        fields, files = await self._media_part(item)
        data = {**self._schedule_params(native_at), **fields, "message": job.content.text}
        if item.alt_text:
            data["alt_text_custom"] = item.alt_text
        return await self._create(job, journal, f"{page}/photos", data=data, files=files or None)

    async def _video(self, job: PublishJob, journal: StepJournal, page: str, item: MediaItem,
                     native_at: datetime | None) -> str:
        fields, files = await self._media_part(item)
        title = str(getattr(job.content, "title", "") or "")
        data = {**self._schedule_params(native_at), **fields, "description": job.content.text}
        if title:
            data["title"] = title
        return await self._create(job, journal, f"{page}/videos", video=True, data=data, files=files or None)

    async def _unpublished_photos(self, job: PublishJob, journal: StepJournal, page: str,
                                  native_at: datetime | None) -> list[str]:
        """Upload each photo unpublished (nothing public yet); reuse ids an earlier attempt journaled."""
        media = job.content.media
        made_from = content_hash(*((m.source, m.alt_text) for m in media), native_at is not None)
        known = [p for p in job.checkpoints.get("photo_ids", "").split(",") if p]
        ids = known if job.checkpoints.get("photos_of") == made_from and len(known) == len(media) else []
        if ids:
            return ids
        journal.record("photos_of", made_from)
        for item in media:
            fields, files = await self._media_part(item)
            data = {**fields, "published": "false"}
            if native_at is not None:
                data["temporary"] = "true"  # photos for a scheduled post must be temporary
            if item.alt_text:
                data["alt_text_custom"] = item.alt_text
            body = await self._call(job.account, "POST", f"{page}/photos", create=False, data=data,
                                    files=files or None)
            ids.append(str(body["id"]))
            journal.record("photo_ids", ",".join(ids))
        return ids

    @staticmethod
    def _post_url(post_id: str) -> str:
        return f"https://www.facebook.com/{post_id}"

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        cp = self._steps.checkpoints(job)
        if cp.get("post_id"):
            return Reconciliation(ReconcileStatus.PUBLISHED, external_id=cp["post_id"],
                                  url=self._post_url(cp["post_id"]), detail="journaled")
        sent = cp.get("create_sent_at")
        if not sent:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the post was never sent")
        since = datetime.fromisoformat(sent) - timedelta(minutes=5)
        video = len(job.content.media) == 1 and job.content.media[0].kind is MediaKind.VIDEO
        try:
            page = self._page(job.account)
            if video:
                edges = [("videos", "description")]
            else:
                edges = [("feed", "message"), ("scheduled_posts", "message")]
            for edge, field in edges:
                body = await self._call(job.account, "GET", f"{page}/{edge}", create=False, params={
                    "fields": f"id,{field},created_time", "limit": "25"})
                for item in body.get("data") or []:
                    if (item.get(field) or "") != job.content.text:
                        continue
                    created = item.get("created_time")
                    if created and datetime.fromisoformat(created.replace("+0000", "+00:00")) < since:
                        continue
                    return Reconciliation(ReconcileStatus.PUBLISHED, external_id=str(item["id"]),
                                          url=self._post_url(str(item["id"])), detail=f"found in the Page's {edge}")
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        return Reconciliation(ReconcileStatus.UNKNOWN, detail="the post is not among the Page's latest posts, but "
                              "Facebook may still be processing it; check the Page before publishing again")

    async def aclose(self) -> None:
        if self._client_ is not None:
            await self._client_.aclose()
            self._client_ = None
