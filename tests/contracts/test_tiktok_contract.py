"""TikTok: every Content Posting API call Outpost makes, and every answer the fake gives, checked
against the request and response schemas TikTok documents. TikTok publishes no machine-readable
document or official SDK for this API, so the schemas below are written from its reference pages
(read 2026-12-07), each field as the page lists it:
- Direct Post: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
  (creator_info/query, video/init with post_info and source_info, the error object)
- Upload: https://developers.tiktok.com/doc/content-posting-api-reference-upload-video
  (inbox/video/init, the PUT of each chunk: Content-Range, Content-Type video/mp4|quicktime|webm)
- Get Post Status: https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status
- User info: https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info
The same schema checker as the YouTube contract (tests/contracts/discovery.py) reads them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.tiktok import TikTokAdapter, token_values
from tests.contracts.discovery import schema_problems
from tests.fakes.server import Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job
from tests.fakes.tiktok import FakeTikTok

CONTRACT = "TikTok Content Posting API reference pages (read 2026-12-07)"
S, N, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
PRIVACY = {"type": "string", "enum": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]}
DOC: dict[str, Any] = {"schemas": {
    "Error": {"type": "object", "properties": {"code": S, "message": S, "log_id": S}},
    "PostInfo": {"type": "object", "properties": {
        "title": S, "privacy_level": PRIVACY, "disable_duet": B, "disable_stitch": B, "disable_comment": B,
        "video_cover_timestamp_ms": N, "brand_content_toggle": B, "brand_organic_toggle": B, "is_aigc": B}},
    "SourceInfo": {"type": "object", "properties": {
        "source": {"type": "string", "enum": ["FILE_UPLOAD", "PULL_FROM_URL"]}, "video_size": N, "chunk_size": N,
        "total_chunk_count": N, "video_url": S}},
    "DirectInit": {"type": "object", "properties": {"post_info": {"$ref": "PostInfo"},
                                                    "source_info": {"$ref": "SourceInfo"}}},
    "InboxInit": {"type": "object", "properties": {"source_info": {"$ref": "SourceInfo"}}},
    "InitAnswer": {"type": "object", "properties": {
        "data": {"type": "object", "properties": {"publish_id": S, "upload_url": S}}, "error": {"$ref": "Error"}}},
    "CreatorInfoAnswer": {"type": "object", "properties": {"error": {"$ref": "Error"}, "data": {
        "type": "object", "properties": {
            "creator_avatar_url": S, "creator_username": S, "creator_nickname": S,
            "privacy_level_options": {"type": "array", "items": PRIVACY}, "comment_disabled": B, "duet_disabled": B,
            "stitch_disabled": B, "max_video_post_duration_sec": N}}}},
    "StatusRequest": {"type": "object", "properties": {"publish_id": S}},
    "StatusAnswer": {"type": "object", "properties": {"error": {"$ref": "Error"}, "data": {
        "type": "object", "properties": {
            "status": {"type": "string", "enum": ["PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX",
                                                  "PUBLISH_COMPLETE", "FAILED"]},
            "fail_reason": S, "publicaly_available_post_id": {"type": "array", "items": N},  # (sic)
            "uploaded_bytes": N, "downloaded_bytes": N}}}},
    "UserInfoAnswer": {"type": "object", "properties": {"error": {"$ref": "Error"}, "data": {
        "type": "object", "properties": {"user": {"type": "object", "properties": {
            "open_id": S, "union_id": S, "avatar_url": S, "avatar_url_100": S, "avatar_large_url": S,
            "display_name": S, "bio_description": S, "profile_deep_link": S, "is_verified": B, "username": S,
            "follower_count": N, "following_count": N, "likes_count": N, "video_count": N}}}}}},
}}
# (method, path) -> (request schema, answer schema)
OPERATIONS = {
    ("POST", "/v2/post/publish/creator_info/query/"): (None, "CreatorInfoAnswer"),
    ("POST", "/v2/post/publish/video/init/"): ("DirectInit", "InitAnswer"),
    ("POST", "/v2/post/publish/inbox/video/init/"): ("InboxInit", "InitAnswer"),
    ("POST", "/v2/post/publish/status/fetch/"): ("StatusRequest", "StatusAnswer"),
    ("GET", "/v2/user/info/"): (None, "UserInfoAnswer"),
}
USER_FIELDS = set(DOC["schemas"]["UserInfoAnswer"]["properties"]["data"]["properties"]["user"]["properties"])


def check_exchange(request: Request, response: Response) -> list[str]:
    where = f"{request.method} {request.path} "
    if request.path.startswith(("/v2/oauth/", "/v2/auth/")):
        return []  # OAuth 2.0 with PKCE: tests/platforms/test_tiktok.py
    if request.method == "PUT" and request.path.startswith("/upload/"):
        out = []
        if not re.fullmatch(r"bytes \d+-\d+/\d+", request.headers.get("content-range", "")):
            out.append(where + "has no Content-Range: bytes FIRST-LAST/TOTAL")
        if request.headers.get("content-type") not in ("video/mp4", "video/quicktime", "video/webm"):
            out.append(f"{where}Content-Type {request.headers.get('content-type')!r} is not one TikTok takes")
        if response.status not in (201, 206):
            out.append(f"{where}answered {response.status}; the upload answers 206 (more to come) or 201 (complete)")
        return out
    if (request.method, request.path) not in OPERATIONS:
        return [where + "is not an endpoint this contract test knows"]
    body_schema, answer_schema = OPERATIONS[(request.method, request.path)]
    out = []
    if body_schema is not None:
        out += schema_problems(DOC, body_schema, request.json(), where + "body")
    if request.path == "/v2/user/info/":
        asked = set(",".join(request.query.get("fields", [])).split(","))
        out += [f"{where}field {f!r} is not a user info field" for f in asked - USER_FIELDS]
    if isinstance(response.body, dict):
        out += schema_problems(DOC, answer_schema, response.body, where + "answer")
        error = response.body.get("error") or {}
        if (response.status == 200) != (error.get("code") == "ok"):
            out.append(f"{where}HTTP {response.status} with error.code {error.get('code')!r}")
    return out


@pytest.fixture
def tiktok_fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        fake.min_chunk_size = 1000
        yield fake


def _account(fake: FakeTikTok, account_id: int, **settings: object) -> AccountInfo:
    KeyringSecrets().put(account_id, token_values(fake.issue_tokens(), datetime.now(UTC), fake.client_key,
                                                  fake.client_secret))
    return AccountInfo(account_id, Platform.TIKTOK, f"@{fake.username}",
                       settings={"open_id": fake.open_id, "username": fake.username, **settings})


@pytest.fixture
async def adapter(tmp_path: Path, tiktok_fake: FakeTikTok) -> AsyncIterator[TikTokAdapter]:
    a = TikTokAdapter(context(tmp_path, api_base={"tiktok": tiktok_fake.url}), tuning=FAST)
    a.chunk_size = a.min_chunk = 1000
    yield a
    await a.aclose()


async def test_every_call_of_direct_and_inbox_posts_matches_the_reference(adapter, tiktok_fake, tmp_path) -> None:
    from app.auth.tiktok import account_from_tokens

    await account_from_tokens(tiktok_fake.issue_tokens(), tiktok_fake.client_key, tiktok_fake.client_secret,
                              api_base=tiktok_fake.url, tuning=FAST)
    clip, mov = tmp_path / "clip.mp4", tmp_path / "clip.mov"
    clip.write_bytes(bytes(i % 253 for i in range(2500)))
    mov.write_bytes(bytes(i % 251 for i in range(1200)))
    direct, inbox = _account(tiktok_fake, 91), _account(tiktok_fake, 92, post_mode="inbox")
    await adapter.publish(job(direct, PostContent("My clip #outpost", media=(
        MediaItem(str(clip), kind=MediaKind.VIDEO, mime_type="video/mp4"),))), MemoryJournal())
    await adapter.publish(job(inbox, PostContent("A draft", media=(
        MediaItem(str(mov), kind=MediaKind.VIDEO, mime_type="video/quicktime"),)), key="k2", attempt_id=2),
        MemoryJournal())
    exchanges = list(tiktok_fake.exchanges)
    assert {p for _, p in OPERATIONS if p != "/v2/user/info/"} <= {r.path for r, _ in exchanges}
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)
    uploads = [r.headers.get("content-type") for r, _ in exchanges if r.method == "PUT"]
    assert "video/quicktime" in uploads  # a .mov goes up as what it is (it used to be sent as video/mp4)


def test_a_wrong_field_name_is_caught() -> None:
    body = {"post_info": {"title": "x", "privacy_level": "SELF_ONLY", "disable_duets": True},
            "source_info": {"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1}}
    assert schema_problems(DOC, "DirectInit", body, "body") == ["body.post_info.disable_duets: not a property in the document"]
    assert schema_problems(DOC, "DirectInit", {"post_info": {"privacy_level": "FRIENDS"}}, "body")
