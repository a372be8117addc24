"""YouTube: every Data API call Outpost makes, and every answer the fake gives, checked against the
discovery document `google-api-python-client` bundles (youtube.v3.json): method parameters, the
Video / CommentThread bodies, publishAt, and the resumable upload protocol's path.

Not in the document, checked against Google's published protocol instead (tests/platforms/test_youtube.py):
the resumable upload's headers and 308 answers, OAuth, and error `reason` values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.youtube import YouTubeAdapter, token_values
from tests.contracts.discovery import document, method, parameter_problems, schema_problems
from tests.fakes.server import Fault, Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job
from tests.fakes.youtube import UPLOAD, FakeYouTube

DOC = document("youtube.v3")
CONTRACT = f"youtube.v3.json revision {DOC['revision']} from google-api-python-client {version('google-api-python-client')}"
# (HTTP method, path) -> (discovery method, request schema, answer schema)
OPERATIONS = {
    ("POST", UPLOAD): ("videos.insert", "Video", None),
    ("PUT", UPLOAD): (None, None, "Video"),  # the session's last byte: the inserted Video
    ("GET", "/youtube/v3/channels"): ("channels.list", None, "ChannelListResponse"),
    ("GET", "/youtube/v3/videos"): ("videos.list", None, "VideoListResponse"),
    ("POST", "/youtube/v3/commentThreads"): ("commentThreads.insert", "CommentThread", "CommentThread"),
}
# The parts a request may name: the resource's top-level properties
PARTS = {"Video": set(DOC["schemas"]["Video"]["properties"]), "Channel": set(DOC["schemas"]["Channel"]["properties"]),
         "CommentThread": set(DOC["schemas"]["CommentThread"]["properties"])}


def check_exchange(request: Request, response: Response) -> list[str]:
    if request.path in ("/token", "/revoke", "/o/oauth2/v2/auth"):
        return []  # OAuth 2.0: not in the API's document
    key = (request.method, request.path)
    if key not in OPERATIONS:
        return [f"{request.method} {request.path} is not an operation this contract test knows"]
    name, body_schema, answer_schema = OPERATIONS[key]
    where = f"{request.method} {request.path} "
    out: list[str] = []
    if name is not None:
        out += parameter_problems(DOC, name, request.query)
        resource = {"videos": "Video", "channels": "Channel", "commentThreads": "CommentThread"}[name.split(".")[0]]
        for part in ",".join(request.query.get("part", [])).split(","):
            if part and part not in PARTS[resource] - {"kind", "etag"}:
                out.append(f"{where}part={part!r} is not a part of {resource}")
    if name == "videos.insert":
        upload = method(DOC, name)["mediaUpload"]
        protocol = request.query.get("uploadType", ["simple"])[0]
        # The document's resumable path is /resumable/upload/...; Google's upload guide uses
        # /upload/...?uploadType=resumable, which the same service answers: both are the protocol.
        paths = {urlsplit(p["path"]).path for p in upload["protocols"].values()}
        if protocol != "resumable" or request.path not in paths:
            out.append(f"{where}is not one of the document's upload protocols {sorted(paths)}")
        if request.headers.get("x-upload-content-type", "").split("/")[0] + "/*" not in upload["accept"]:
            out.append(f"{where}X-Upload-Content-Type is not one of {upload['accept']}")
        if int(request.headers.get("x-upload-content-length", "0")) > int(upload["maxSize"]):
            out.append(f"{where}is larger than the document's maxSize")
    if body_schema is not None and request.body:
        body = request.json()
        out += schema_problems(DOC, body_schema, body, where + "body")
        status = body.get("status", {}) if isinstance(body, dict) else {}
        if "publishAt" in status and status.get("privacyStatus") != "private":
            # VideoStatus.publishAt: "can only be set if the privacy status of the video is private"
            out.append(f"{where}publishAt is set on a video that is not private")
    if response.status in (200, 201) and answer_schema is not None and isinstance(response.body, dict):
        out += schema_problems(DOC, answer_schema, response.body, where + "answer")
    return out


@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture
def account(yt: FakeYouTube) -> AccountInfo:
    body = yt.issue_tokens(access_expires_in=3600)
    KeyringSecrets().put(51, token_values(body, datetime.now(UTC), {"client_id": yt.client_id,
                                                                    "client_secret": yt.client_secret}))
    return AccountInfo(51, Platform.YOUTUBE, yt.custom_url, settings={"channel_id": yt.channel_id})


@pytest.fixture
async def adapter(tmp_path: Path, yt: FakeYouTube) -> AsyncIterator[YouTubeAdapter]:
    a = YouTubeAdapter(context(tmp_path, api_base={"youtube": yt.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_every_call_of_uploads_scheduled_and_interrupted_matches_the_document(adapter, account, yt,
                                                                                  tmp_path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(bytes(range(256)) * 200)
    video = MediaItem(str(clip), kind=MediaKind.VIDEO, mime_type="video/mp4")
    await adapter.publish(job(account, PostContent("A video\nabout clay", media=(video,), first_comment="Hi!")),
                          MemoryJournal())
    later = job(account, PostContent("Later", media=(video,)), key="k2", attempt_id=2,
                native_schedule_at=datetime.now(UTC) + timedelta(days=2))
    await adapter.publish(later, MemoryJournal())
    yt.inject(Fault(UPLOAD, method="PUT", kind="reset_after"))
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("Resumed", media=(video,)), key="k3", attempt_id=3), journal)
    await adapter.reconcile(job(account, PostContent("Resumed", media=(video,)), key="k3", attempt_id=3,
                                checkpoints=journal.steps))
    exchanges = list(yt.exchanges)
    assert {("POST", UPLOAD), ("PUT", UPLOAD), ("POST", "/youtube/v3/commentThreads")} <= {
        (r.method, r.path) for r, _ in exchanges}
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)


def test_a_wrong_field_name_is_caught() -> None:
    body = {"snippet": {"title": "x", "categoryId": "22"}, "status": {"privacyStatus": "private",
                                                                      "publish_at": "2027-01-01T10:00:00Z"}}
    found = schema_problems(DOC, "Video", body, "Video")
    assert found == ["Video.status.publish_at: not a property in the document"]
    assert schema_problems(DOC, "Video", {"status": {"privacyStatus": "friends"}}, "Video")  # not in the enum
