"""Bluesky adapter (platforms.md §2): app-password sessions refreshed once on ExpiredToken,
images uploaded as blobs with alt text, facets for links, mentions and hashtags in UTF-8 byte
offsets, replies with root and parent refs, and client-chosen record keys.

The record key (a TID) is journaled before `createRecord`, so after an unknown outcome
`reconcile` asks `getRecord` whether the post exists (reliability.md P4.2).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import secrets as random
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import imagesize
import regex

from app.auth.accounts import ConnectionFailed
from app.auth.bluesky import DEFAULT_SERVICE, SignInRefused, create_session
from app.core.errors import PublishError
from app.core.language import language_tags
from app.core.models import AccountInfo, ErrorKind, MediaKind, Platform, PostContent, Problem
from app.core.rules import PlatformRules, rules_for, validate_content
from app.core.text import find_urls, graphemes, utf8_offset
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
    create_client,
    load_media,
    local_media_problems,
    retry_after_from,
    status_error,
)

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_MENTION = regex.compile(r"(?<![\w@/.])@([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)")
_TAG = regex.compile(r"(?<![^\s(])[#＃]([^\s#＃]+)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_AUTH_ERRORS = ("ExpiredToken", "InvalidToken")


def new_tid(micros: int | None = None) -> str:
    """A record key in TID form: 53 bits of microseconds and 10 random bits, base32-sortable."""
    value = ((micros if micros is not None else time.time_ns() // 1000) << 10) | random.randbelow(1024)
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _xrpc_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", body_snippet(response)
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def bluesky_error(response: httpx.Response, *, create: bool, what: str = "the post") -> PublishError:
    name, message = _xrpc_error(response)
    status = response.status_code
    if status == 429:
        return PublishError(ErrorKind.RATE_LIMIT, "Bluesky asks Outpost to slow down; it will try again after the "
                            "limit resets.", http_status=429, retry_after=retry_after_from(response.headers),
                            code=name or "RateLimitExceeded")
    if name in _AUTH_ERRORS or status == 401:
        return PublishError(ErrorKind.AUTH, "Bluesky no longer accepts this account's sign-in. Reconnect the "
                            "account with a new app password.", http_status=status, code=name or "AuthMissing")
    if status in (400, 413):
        detail = message or name or f"HTTP {status}"
        return PublishError(ErrorKind.PERMANENT, f"Bluesky refused {what}: {detail}", http_status=status,
                            code=name or f"http_{status}")
    return status_error(response, create=create, platform="Bluesky", message=message)


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (unverified: only used to refresh before it runs out)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(data["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Ref:
    uri: str
    cid: str

    def strong(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


class BlueskyAdapter:
    platform = Platform.BLUESKY

    def __init__(self, context: AdapterContext, *, tuning: Tuning | None = None) -> None:
        self.context = context
        self.tuning = tuning or Tuning.from_env()
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._refresh_locks: dict[int, asyncio.Lock] = {}
        self._steps = AttemptSteps()

    # ---- capabilities ------------------------------------------------------------------
    def rules(self, account: AccountInfo) -> PlatformRules:
        return rules_for(Platform.BLUESKY)

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        problems = validate_content(content, self.rules(account))
        for message in local_media_problems([m.source for m in content.media]):
            problems.append(Problem("media", message, platform=self.platform, account_id=account.id))
        return problems

    # ---- sessions ----------------------------------------------------------------------
    def base_url(self, account: AccountInfo) -> str:
        return (self.context.api_base.get(self.platform.value) or account.server or DEFAULT_SERVICE).rstrip("/")

    def _client(self, account: AccountInfo) -> httpx.AsyncClient:
        base = self.base_url(account)
        if base not in self._clients:
            self._clients[base] = create_client(self.tuning, base_url=base)
        return self._clients[base]

    def _secrets(self, account: AccountInfo) -> dict[str, str]:
        return stored_sign_in(self.context, account, "access_jwt", "app_password")

    def _store(self, account: AccountInfo, values: dict[str, str], session: dict[str, Any]) -> dict[str, str]:
        """Persist a new token pair before it is used (reliability.md P9)."""
        updated = {**values, "access_jwt": str(session["accessJwt"]), "refresh_jwt": str(session["refreshJwt"])}
        self.context.secrets.put(account.id, updated)
        return updated

    async def _renew(self, account: AccountInfo, used_access: str) -> None:
        """One refresh for every caller that saw the same expired token (refreshes are serialised)."""
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            values = self._secrets(account)
            if values.get("access_jwt") and values.get("access_jwt") != used_access:
                return  # another caller already refreshed
            client = self._client(account)
            if values.get("refresh_jwt"):
                try:
                    response = await client.post("/xrpc/com.atproto.server.refreshSession",
                                                 headers={"Authorization": f"Bearer {values['refresh_jwt']}"})
                except httpx.HTTPError as exc:
                    raise classify(exc, request_sent_for_create=False, platform="Bluesky") from None
                if response.status_code == 200:
                    self._store(account, values, response.json())
                    return
                name, _ = _xrpc_error(response)
                if name not in _AUTH_ERRORS and response.status_code not in (400, 401):
                    raise bluesky_error(response, create=False)
            password = values.get("app_password")
            if not password:
                raise PublishError(ErrorKind.AUTH, "Bluesky's session has ended. Reconnect the account.",
                                   code="session_ended")
            try:
                session = await create_session(client, account.handle, password)
            except SignInRefused as exc:
                raise PublishError(ErrorKind.AUTH, str(exc), code="sign_in_refused") from None
            except ConnectionFailed as exc:
                raise PublishError(ErrorKind.TRANSIENT, str(exc), code="sign_in_unreachable") from None
            self._store(account, values, session)

    async def _xrpc(self, account: AccountInfo, method: str, nsid: str, *, create: bool, **kwargs: Any) -> httpx.Response:
        """One XRPC call; an expired access token (HTTP 400 ExpiredToken) gets exactly one refresh."""
        client = self._client(account)
        extra_headers = kwargs.pop("headers", {})
        for attempt in range(2):
            values = self._secrets(account)
            access = values.get("access_jwt", "")
            if not access:
                await self._renew(account, used_access="")
                continue
            try:
                response = await client.request(method, f"/xrpc/{nsid}", headers={
                    "Authorization": f"Bearer {access}", **extra_headers}, **kwargs)
            except httpx.HTTPError as exc:
                raise classify(exc, request_sent_for_create=create, platform="Bluesky") from None
            if attempt == 0 and response.status_code in (400, 401) and _xrpc_error(response)[0] in _AUTH_ERRORS:
                await self._renew(account, used_access=access)
                continue
            return response
        return response

    async def refresh_credentials(self, account: AccountInfo) -> None:
        values = self._secrets(account)
        expiry = jwt_expiry(values.get("access_jwt", ""))
        if expiry is None or expiry - time.time() < 600:
            await self._renew(account, used_access=values.get("access_jwt", ""))

    # ---- publishing --------------------------------------------------------------------
    def _did(self, account: AccountInfo) -> str:
        did = account.settings.get("did")
        if not isinstance(did, str) or not did:
            raise PublishError(ErrorKind.AUTH, "This Bluesky account lacks its DID. Reconnect it.", code="no_did")
        return did

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        account = job.account
        journal = self._steps.wrap(job, journal)
        did = self._did(account)
        embed = await self._embed(job)
        record = await self._record(account, job.content.text, embed=embed)
        rkey = job.checkpoints.get("rkey") or new_tid()
        journal.record("rkey", rkey)
        root = await self._create(account, did, rkey, record, what="the post")
        journal.record("uri", root.uri)
        warnings = await self._replies(job, journal, did, root)
        return PublishResult(external_id=root.uri, url=self.post_url(account, rkey), warnings=tuple(warnings))

    def post_url(self, account: AccountInfo, rkey: str) -> str:
        return f"https://bsky.app/profile/{account.handle}/post/{rkey}"

    async def _create(self, account: AccountInfo, did: str, rkey: str, record: dict[str, Any], what: str) -> Ref:
        response = await self._xrpc(account, "POST", "com.atproto.repo.createRecord", create=True,
                                    json={"repo": did, "collection": POST, "rkey": rkey, "record": record})
        if response.status_code == 200:
            body = response.json()
            return Ref(str(body["uri"]), str(body["cid"]))
        if response.status_code >= 500 or (response.status_code == 400 and "already exists" in _xrpc_error(response)[1]):
            # The key was journaled for this post, so a record there is ours (an earlier attempt made it).
            # The reference PDS (@atproto/pds 0.5) answers a taken key with a bare HTTP 500.
            with contextlib.suppress(PublishError):
                found = await self._get(account, did, rkey)
                if found is not None:
                    return found
        raise bluesky_error(response, create=True, what=what)

    async def _get(self, account: AccountInfo, did: str, rkey: str) -> Ref | None:
        response = await self._xrpc(account, "GET", "com.atproto.repo.getRecord", create=False,
                                    params={"repo": did, "collection": POST, "rkey": rkey})
        if response.status_code == 200:
            body = response.json()
            return Ref(str(body["uri"]), str(body["cid"]))
        if response.status_code == 400 and _xrpc_error(response)[0] == "RecordNotFound":
            return None
        raise bluesky_error(response, create=False, what="the lookup")

    async def _record(self, account: AccountInfo, text: str, *, embed: dict[str, Any] | None = None,
                      reply: tuple[Ref, Ref] | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST, "text": text,
            "createdAt": created_at(self.context.clock()),
        }
        facets = await self.facets(account, text)
        if facets:
            record["facets"] = facets
        langs = self.langs(account)
        if langs:
            record["langs"] = list(langs)
        if embed:
            record["embed"] = embed
        if reply:
            record["reply"] = {"root": reply[0].strong(), "parent": reply[1].strong()}
        return record

    def langs(self, account: AccountInfo) -> tuple[str, ...]:
        """The post's languages: the account's own "language" setting, else Outpost's (Settings, default
        the computer's locale). Bluesky's app filters feeds by them; a wrong tag hides a post."""
        own = account.settings.get("language")
        return language_tags(own if isinstance(own, str) and own.strip() else self.context.post_language())

    async def facets(self, account: AccountInfo, text: str) -> list[dict[str, Any]]:
        """Links, mentions (resolved to DIDs) and hashtags, indexed in UTF-8 bytes."""
        out: list[dict[str, Any]] = []
        taken: list[tuple[int, int]] = []

        def add(start: int, end: int, feature: dict[str, str]) -> None:
            taken.append((start, end))
            out.append({"index": {"byteStart": utf8_offset(text, start), "byteEnd": utf8_offset(text, end)},
                        "features": [feature]})

        for start, end, uri in find_urls(text):
            add(start, end, {"$type": "app.bsky.richtext.facet#link", "uri": uri})
        for m in _MENTION.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            did = await self._resolve(account, m.group(1))
            if did:
                add(m.start(), m.end(), {"$type": "app.bsky.richtext.facet#mention", "did": did})
        for m in _TAG.finditer(text):
            tag = _TRAILING_PUNCT.sub("", m.group(1))
            if not tag or tag.isdigit() or len(graphemes(tag)) > 64 or any(s <= m.start() < e for s, e in taken):
                continue
            add(m.start(), m.start(1) + len(tag), {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
        out.sort(key=lambda f: f["index"]["byteStart"])
        return out

    async def _resolve(self, account: AccountInfo, handle: str) -> str | None:
        try:
            response = await self._client(account).get("/xrpc/com.atproto.identity.resolveHandle",
                                                        params={"handle": handle.lower()})
        except httpx.HTTPError:
            log.info("Could not resolve a Bluesky handle; the mention stays plain text")
            return None
        if response.status_code != 200:
            return None
        did = response.json().get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def _embed(self, job: PublishJob) -> dict[str, Any] | None:
        media = job.content.media
        if not media:
            return None
        rules = self.rules(job.account)
        client = self._client(job.account)
        items = []
        for i, item in enumerate(media, start=1):
            data, mime, _name = await load_media(client, item.source, item.mime_type)
            limit = rules.max_video_bytes if item.kind is MediaKind.VIDEO else rules.max_image_bytes
            if len(data) > limit:
                raise PublishError(ErrorKind.PERMANENT, f"Attachment {i} is {len(data) / 1e6:.1f} MB; Bluesky "
                                   f"allows {limit / 1e6:.0f} MB. Use a smaller file.", code="media_too_large")
            response = await self._xrpc(job.account, "POST", "com.atproto.repo.uploadBlob", create=False,
                                        content=data, headers={"Content-Type": mime})
            if response.status_code != 200:
                raise bluesky_error(response, create=False, what=f"attachment {i}")
            entry: dict[str, Any] = {"blob": response.json()["blob"], "alt": item.alt_text, "kind": item.kind}
            size = (item.width, item.height) if item.width and item.height else pixel_size(data)
            if size is not None:
                entry["aspectRatio"] = {"width": size[0], "height": size[1]}
            items.append(entry)
        if items[0]["kind"] is MediaKind.VIDEO:
            video: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": items[0]["blob"], "alt": items[0]["alt"]}
            if "aspectRatio" in items[0]:
                video["aspectRatio"] = items[0]["aspectRatio"]
            return video
        images = []
        for entry in items:
            image = {"image": entry["blob"], "alt": entry["alt"]}
            if "aspectRatio" in entry:
                image["aspectRatio"] = entry["aspectRatio"]
            images.append(image)
        return {"$type": "app.bsky.embed.images", "images": images}

    async def _replies(self, job: PublishJob, journal: StepJournal, did: str, root: Ref) -> list[str]:
        warnings: list[str] = []
        parent = root
        for n, part in enumerate(job.content.thread, start=2):
            try:
                rkey = job.checkpoints.get(f"rkey_part{n}") or new_tid()
                journal.record(f"rkey_part{n}", rkey)
                record = await self._record(job.account, part, reply=(root, parent))
                parent = await self._create(job.account, did, rkey, record, what=f"part {n} of the thread")
            except PublishError as exc:
                warnings.append(f"Part {n} of the thread could not be posted: {exc.message}")
                break
        if job.content.first_comment:
            try:
                rkey = job.checkpoints.get("rkey_comment") or new_tid()
                journal.record("rkey_comment", rkey)
                record = await self._record(job.account, job.content.first_comment, reply=(root, root))
                await self._create(job.account, did, rkey, record, what="the first comment")
            except PublishError as exc:
                warnings.append(f"The first comment could not be posted: {exc.message}")
        return warnings

    # ---- after an unknown outcome ------------------------------------------------------
    async def reconcile(self, job: PublishJob) -> Reconciliation:
        rkey = self._steps.checkpoints(job).get("rkey")
        if not rkey:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail="the post was never sent")
        try:
            found = await self._get(job.account, self._did(job.account), rkey)
        except PublishError as exc:
            return Reconciliation.check_failed(exc)
        if found is None:
            return Reconciliation(ReconcileStatus.NOT_PUBLISHED, detail=f"no record at {rkey}")
        return Reconciliation(ReconcileStatus.PUBLISHED, external_id=found.uri,
                              url=self.post_url(job.account, rkey), detail="found by its record key")

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """An image's width and height as shown (EXIF rotation applied) from its header, or None
    (a video, an unknown format): Bluesky lays out a post without aspectRatio as a square."""
    try:
        width, height = imagesize.get(io.BytesIO(data))
    except (ValueError, OSError, struct.error):
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


def created_at(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
