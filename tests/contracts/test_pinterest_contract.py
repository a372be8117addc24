"""Pinterest: every API v5 call Outpost makes, and every answer the fake gives, checked against the
models and endpoint definitions of Pinterest's official `pinterest-api-sdk` (generated from
Pinterest's OpenAPI document) with tests/contracts/generated_models.py.

The SDK on PyPI was generated from an older document than Pinterest's current one. Two things
Outpost sends are in the current document and not in the SDK's models; each is allowed here with
its source (pinterest/api-description, v5/openapi.json, release 5.23.0, 2025-12-11):
- `media_source.cover_image_key_frame_time` (PinMediaSourceVideoID: "Keyframe timestamp for cover
  image (seconds). If entered time exceeds video duration, the last frame is used.");
- the `continuous_refresh` token parameter (POST /oauth/token's description: apps created before
  2025-09-25 set it to true; the SDK's 5.14 models still name the older `refresh_on`);
- a renewal's answer carries a new refresh token with its expiry (OauthAccessTokenResponseRefresh
  requires them; our fake used to answer without one, which the current document does not allow).
Outside the document: the S3 upload of a video (a storage bucket's form POST).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from openapi_generated.pinterest_client.api.boards_api import BoardsApi
from openapi_generated.pinterest_client.api.media_api import MediaApi
from openapi_generated.pinterest_client.api.oauth_api import OauthApi
from openapi_generated.pinterest_client.api.pins_api import PinsApi
from openapi_generated.pinterest_client.api.user_account_api import UserAccountApi
from openapi_generated.pinterest_client.api_client import ApiClient
from openapi_generated.pinterest_client.model.error import Error
from openapi_generated.pinterest_client.model.media_upload_request import MediaUploadRequest
from openapi_generated.pinterest_client.model.oauth_access_token_request_code import (
    OauthAccessTokenRequestCode,
)
from openapi_generated.pinterest_client.model.oauth_access_token_request_refresh import (
    OauthAccessTokenRequestRefresh,
)
from openapi_generated.pinterest_client.model.pin import Pin
from openapi_generated.pinterest_client.model.pin_create import PinCreate
from openapi_generated.pinterest_client.model.pin_media_source import PinMediaSource

from app.auth.pinterest import account_from_tokens
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.pinterest import PinterestAdapter, token_values
from tests.contracts.generated_models import sdk_problems
from tests.fakes.pinterest import FakePinterest
from tests.fakes.server import Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job, png

CONTRACT = f"pinterest-api-sdk {version('pinterest-api-sdk')} models and endpoints"
NEWER_DOCUMENT = "pinterest/api-description v5/openapi.json 5.23.0"
ALLOWED_EXTRA = {"cover_image_key_frame_time": NEWER_DOCUMENT, "continuous_refresh": NEWER_DOCUMENT}
# Continuous refresh: a renewal answers a new refresh token and its expiry (OauthAccessTokenResponseRefresh
# requires all three in 5.23; the SDK's 5.14 model predates continuous refresh).
ROTATED_REFRESH = dict.fromkeys(("refresh_token", "refresh_token_expires_in", "refresh_token_expires_at"),
                                NEWER_DOCUMENT)
_client = ApiClient()
ENDPOINTS = [getattr(api, name) for api in (PinsApi(_client), BoardsApi(_client), MediaApi(_client),
                                            UserAccountApi(_client), OauthApi(_client))
             for name in dir(api) if name.endswith("_endpoint")]


def endpoint_for(method: str, path: str) -> Any:
    for e in ENDPOINTS:
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", e.settings["endpoint_path"])
        if e.settings["http_method"] == method and re.fullmatch(pattern, path):
            return e
    return None


def check_exchange(request: Request, response: Response) -> list[str]:
    if request.path.startswith("/s3/") or request.path == "/oauth/":
        return []  # the storage bucket, and the browser's authorization page
    path = request.path.removeprefix("/v5")
    endpoint = endpoint_for(request.method, path)
    where = f"{request.method} {request.path} "
    if endpoint is None:
        return [where + "is not an endpoint of the SDK"]
    out: list[str] = []
    query_names = {endpoint.attribute_map[n] for n, loc in endpoint.location_map.items() if loc == "query"}
    out += [f"{where}query parameter {n!r} is not defined" for n in request.query if n not in query_names]
    operation = endpoint.settings["operation_id"]
    if operation == "pins_create":
        body = request.json()
        out += sdk_problems(PinCreate, body, where + "body", allowed_extra=ALLOWED_EXTRA)
        out += sdk_problems(PinMediaSource, body.get("media_source"), where + "body.media_source",
                            allowed_extra=ALLOWED_EXTRA)
    elif operation == "media_create":
        out += sdk_problems(MediaUploadRequest, request.json(), where + "body")
    elif operation == "oauth_token":
        form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        model = OauthAccessTokenRequestRefresh if form.get("grant_type") == "refresh_token" else \
            OauthAccessTokenRequestCode
        out += sdk_problems(model, form, where + "form", allowed_extra=ALLOWED_EXTRA)
    answer = endpoint.settings["response_type"]
    if response.status in (200, 201) and answer and isinstance(answer[0], type) and answer[0] not in (bool, dict):
        extra = ROTATED_REFRESH if operation == "oauth_token" else None
        out += sdk_problems(answer[0], response.body, where + "answer", allowed_extra=extra)
    if operation == "boards_list_pins" and response.status == 200:  # an inline schema: a page of Pins
        for i, item in enumerate(response.body.get("items") or []):
            out += sdk_problems(Pin, item, f"{where}answer.items[{i}]")
    if response.status >= 400:
        out += sdk_problems(Error, response.body, where + "error")
    return out


@pytest.fixture
def pinterest_fake() -> Iterator[FakePinterest]:
    with FakePinterest() as fake:
        fake.video_processing_seconds = 0.05
        yield fake


@pytest.fixture
def account(pinterest_fake: FakePinterest) -> AccountInfo:
    KeyringSecrets().put(71, token_values(pinterest_fake.issue_tokens(expires_in=1), datetime.now(UTC),
                                          pinterest_fake.app_id, pinterest_fake.app_secret))
    return AccountInfo(71, Platform.PINTEREST, pinterest_fake.username,
                       settings={"board_id": pinterest_fake.boards[1]["id"], "continuous_refresh": True})


@pytest.fixture
async def adapter(tmp_path: Path, pinterest_fake: FakePinterest) -> AsyncIterator[PinterestAdapter]:
    a = PinterestAdapter(context(tmp_path, api_base={"pinterest": pinterest_fake.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_every_call_of_pins_of_every_kind_matches_the_sdk(adapter, account, pinterest_fake, tmp_path) -> None:
    await account_from_tokens(pinterest_fake.issue_tokens(), pinterest_fake.app_id, pinterest_fake.app_secret,
                              board="Recipes", api_base=pinterest_fake.url, tuning=FAST)
    picture = tmp_path / "p.png"
    picture.write_bytes(png(30, 40))
    clip = tmp_path / "v.mp4"
    clip.write_bytes(b"\2" * 5000)
    journal = MemoryJournal()
    contents = [
        PostContent("One picture", title="Lemon tart", media=(MediaItem(str(picture), alt_text="a tart"),)),
        PostContent("Two pictures", media=(MediaItem(str(picture)), MediaItem(str(picture)))),
        PostContent("From the web", media=(MediaItem("https://cdn.example.com/a.jpg"),)),
        PostContent("Carousel from the web", media=(MediaItem("https://cdn.example.com/a.jpg"),
                                                   MediaItem("https://cdn.example.com/b.jpg"))),
        PostContent("A video", media=(MediaItem(str(clip), kind=MediaKind.VIDEO),)),
    ]
    for n, content in enumerate(contents):
        journal = MemoryJournal()
        await adapter.publish(job(account, content, key=f"k{n}", attempt_id=n + 1), journal)
    await adapter.reconcile(job(account, contents[-1], key="k9", attempt_id=9,
                                checkpoints={"pin_sent_at": datetime.now(UTC).isoformat()}))
    exchanges = list(pinterest_fake.exchanges)
    operations = {endpoint_for(r.method, r.path.removeprefix("/v5")).settings["operation_id"]
                  for r, _ in exchanges if endpoint_for(r.method, r.path.removeprefix("/v5"))}
    assert {"pins_create", "media_create", "media_get", "boards_list", "boards_list_pins", "user_account_get",
            "oauth_token"} <= operations
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT} (and {NEWER_DOCUMENT} where cited):\n" + "\n".join(found)


def test_a_wrong_field_name_is_caught() -> None:
    body = {"board_id": "1", "description": "x", "alt": "a tart",
            "media_source": {"source_type": "image_url", "url": "https://cdn.example.com/a.jpg"}}
    assert any("alt: not a field of PinCreate" in p for p in sdk_problems(PinCreate, body, "body"))
    assert sdk_problems(PinCreate, {**body, "description": "x" * 801}, "body")  # over the document's 800
    video = {"source_type": "video_id", "media_id": "12", "cover_image_key_frame": 0}
    assert any("cover_image_key_frame: not a field" in p
               for p in sdk_problems(PinMediaSource, video, "media_source", allowed_extra=ALLOWED_EXTRA))
