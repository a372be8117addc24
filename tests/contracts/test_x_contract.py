"""X: every API v2 call Outpost makes, and every answer the fake gives, checked against X's OpenAPI
document as the official `xdk` SDK's generated models carry it (tests/contracts/strict.py).

Contract: xdk (PyPI), generated from X's OpenAPI document. Not covered by it: the OAuth 2.0
token and revoke endpoints (not in the document; RFC 6749/7009 and tests/platforms/test_x.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from xdk import schemas

from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.x import X_MEDIA_TYPES, XAdapter, token_values
from tests.contracts.strict import problems
from tests.fakes.server import Fault, Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job, png
from tests.fakes.x import FakeX

CONTRACT = f"xdk {version('xdk')} (X API v2 OpenAPI)"

# (method, path pattern) -> (request body model, form-field model, success answer model)
OPERATIONS: list[tuple[str, str, Any, Any, Any]] = [
    ("POST", r"/2/tweets", schemas.CreatePostsRequest, None, schemas.CreatePostsResponse),
    ("POST", r"/2/media/upload", None, schemas.MediaUploadRequest, schemas.MediaUploadResponse),
    ("GET", r"/2/media/upload", None, None, schemas.GetMediaUploadStatusResponse),
    ("POST", r"/2/media/upload/initialize", schemas.InitializeMediaUploadRequest, None,
     schemas.InitializeMediaUploadResponse),
    ("POST", r"/2/media/upload/\d+/append", None, schemas.AppendMediaUploadRequest, schemas.AppendMediaUploadResponse),
    ("POST", r"/2/media/upload/\d+/finalize", None, None, schemas.FinalizeMediaUploadResponse),
    ("POST", r"/2/media/metadata", schemas.CreateMediaMetadataRequest, None, schemas.CreateMediaMetadataResponse),
    ("GET", r"/2/users/me", None, None, schemas.GetUsersMeResponse),
    ("GET", r"/2/users/\d+/tweets", None, None, schemas.GetUsersPostsResponse),
]
# Query parameters each GET may carry (the operations' `parameters` in the document)
QUERY = {r"/2/media/upload": {"command", "media_id"}, r"/2/users/me": {"user.fields", "expansions", "tweet.fields"},
         r"/2/users/\d+/tweets": {"max_results", "exclude", "since_id", "until_id", "pagination_token", "start_time",
                                  "end_time", "tweet.fields", "expansions", "media.fields", "user.fields"}}
PROBLEM_TYPES = {"about:blank"} | {f"https://api.x.com/2/problems/{t}" for t in (
    "invalid-request", "client-forbidden", "usage-capped", "not-authorized-for-resource", "resource-not-found",
    "disallowed-resource", "resource-unavailable", "unsupported-authentication", "client-disconnected")}


def check_exchange(request: Request, response: Response) -> list[str]:
    if request.path.startswith("/2/oauth2/") or request.path.startswith("/i/oauth2/"):
        return []  # OAuth 2.0, outside the API document
    known = [op for op in OPERATIONS if op[0] == request.method and re.fullmatch(op[1], request.path)]
    if not known:
        return [f"{request.method} {request.path} is not an operation this contract test knows"]
    _method, pattern, body_model, form_model, answer_model = known[0]
    where = f"{request.method} {request.path} "
    out: list[str] = []
    if body_model is not None:
        out += problems(body_model, request.json(), where=where + "body ")
    if form_model is not None:
        fields = {name: part.data.decode("latin-1") for name, part in request.multipart().items()}
        out += problems(form_model, fields, where=where + "form ")
    for name in request.query:
        if name not in QUERY.get(pattern, set()):
            out.append(f"{where}query parameter {name!r} is not in the document")
    if response.status in (200, 201) and answer_model is not None:
        out += problems(answer_model, response.body, where=where + "answer ")
    elif response.status >= 400 and isinstance(response.body, dict):
        # RFC 7807 problems as X's document defines them (Problem / InvalidRequestProblem ...)
        body = response.body
        if not {"title", "type"} <= set(body) or body["type"] not in PROBLEM_TYPES:
            out.append(f"{where}error answer {body!r} is not one of X's problem shapes")
    return out


@pytest.fixture
def x_fake() -> Iterator[FakeX]:
    with FakeX() as fake:
        fake.processing_seconds = 0.05
        yield fake


@pytest.fixture
async def adapter(tmp_path: Path, x_fake: FakeX) -> AsyncIterator[XAdapter]:
    a = XAdapter(context(tmp_path, api_base={"x": x_fake.url}), tuning=FAST)
    a.chunk_size = 1000
    yield a
    await a.aclose()


@pytest.fixture
def account(x_fake: FakeX) -> AccountInfo:
    KeyringSecrets().put(41, token_values(x_fake.issue_tokens(), datetime.now(UTC), x_fake.client_id))
    return AccountInfo(41, Platform.X, f"@{x_fake.username}",
                       settings={"user_id": x_fake.user_id, "username": x_fake.username})


async def test_every_call_of_a_full_post_matches_x_s_document(adapter, account, x_fake, tmp_path) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(png(20, 10))
    clip = tmp_path / "clip.m4v"
    clip.write_bytes(bytes(i % 251 for i in range(2500)))
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent(
        "Hello from Outpost", media=(MediaItem(str(picture), alt_text="a small picture"),),
        thread=("part two",), first_comment="a first comment")), journal)
    await adapter.publish(job(account, PostContent("A clip", media=(
        MediaItem(str(clip), kind=MediaKind.VIDEO, mime_type="video/x-m4v"),)), key="k2", attempt_id=2), MemoryJournal())
    x_fake.inject(Fault("/2/tweets", kind="hang_after", hang_seconds=2))
    lost = MemoryJournal()
    with pytest.raises(Exception):  # noqa: B017 (unknown outcome, any kind)
        await adapter.publish(job(account, PostContent("lost answer"), key="k3", attempt_id=3), lost)
    await adapter.reconcile(job(account, PostContent("lost answer"), key="k3", attempt_id=3, checkpoints=lost.steps))
    exchanges = list(x_fake.exchanges)
    paths = {r.path for r, _ in exchanges}
    assert {"/2/tweets", "/2/media/upload", "/2/media/metadata", "/2/media/upload/initialize"} <= paths
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)
    uploaded = [m for m in x_fake.media.values()]
    assert [m.get("alt_text") for m in uploaded] == ["a small picture", None]  # alt text reached X
    assert uploaded[1]["media_type"] == "video/mp4"  # .m4v goes as X's own name for it


def test_the_media_types_outpost_sends_are_exactly_x_s_upload_types() -> None:
    enum = set(schemas.InitializeMediaUploadRequest.model_fields["media_type"].annotation.__args__[0].__args__)
    assert enum >= X_MEDIA_TYPES
    assert enum - X_MEDIA_TYPES <= {"text/srt", "text/vtt", "model/gltf-binary", "model/vnd.usdz+zip"}  # not media


def test_a_wrong_field_name_is_caught() -> None:
    found = problems(schemas.CreatePostsRequest, {"text": "x", "reply": {"in_reply_to_post_id": "1"}})
    assert any("in_reply_to_post_id: not a field" in p for p in found), found
    assert any("in_reply_to_tweet_id" in p for p in found)  # and the required one is missing
