"""Bluesky: every XRPC call Outpost makes, and every answer our fake PDS gives, checked against the
official lexicons as the `atproto` SDK's generated models carry them (tests/contracts/strict.py).

Contract: atproto (PyPI) models, generated from bluesky-social/atproto's lexicons.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from atproto_client import models

from app.auth.bluesky import sign_in
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, Platform, PostContent
from app.platforms.bluesky import BlueskyAdapter
from tests.contracts.strict import problems
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.fixtures import bluesky_fake  # noqa: F401 (a fixture)
from tests.fakes.server import Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job, png

CONTRACT = f"atproto {version('atproto')} lexicon models"

# XRPC method -> (input model, params model, output model) from the lexicons
METHODS: dict[str, tuple[Any, Any, Any]] = {
    "com.atproto.server.createSession": (models.ComAtprotoServerCreateSession.Data, None,
                                         models.ComAtprotoServerCreateSession.Response),
    "com.atproto.server.refreshSession": (None, None, models.ComAtprotoServerRefreshSession.Response),
    "com.atproto.identity.resolveHandle": (None, models.ComAtprotoIdentityResolveHandle.Params,
                                           models.ComAtprotoIdentityResolveHandle.Response),
    "com.atproto.repo.uploadBlob": (None, None, models.ComAtprotoRepoUploadBlob.Response),
    "com.atproto.repo.createRecord": (models.ComAtprotoRepoCreateRecord.Data, None,
                                      models.ComAtprotoRepoCreateRecord.Response),
    "com.atproto.repo.getRecord": (None, models.ComAtprotoRepoGetRecord.Params,
                                   models.ComAtprotoRepoGetRecord.Response),
}


def check_exchange(request: Request, response: Response) -> list[str]:
    """What in one request/answer pair breaks the lexicons."""
    nsid = request.path.removeprefix("/xrpc/")
    assert nsid in METHODS, f"Outpost called {nsid}, which this contract test does not cover yet"
    data_model, params_model, output_model = METHODS[nsid]
    out: list[str] = []
    if data_model is not None:
        body = request.json()
        out += problems(data_model, body, where=f"{nsid} input ")
        if nsid == "com.atproto.repo.createRecord":  # the record itself is an open union: check it as a post
            out += problems(models.AppBskyFeedPost.Record, body["record"], where=f"{nsid} record ")
    if params_model is not None:
        params = {k: v[0] for k, v in request.query.items()}
        out += problems(params_model, params, where=f"{nsid} params ")
    if response.status == 200 and output_model is not None and response.body is not None:
        out += problems(output_model, response.body, where=f"{nsid} output ")
        if nsid == "com.atproto.repo.getRecord":
            out += problems(models.AppBskyFeedPost.Record, response.body["value"], where=f"{nsid} value ")
    elif response.status >= 400:
        # XRPC errors: {"error": string, "message"?: string} (lexicon "errors", atproto's XrpcError)
        body = response.body if isinstance(response.body, dict) else {}
        if not isinstance(body.get("error"), str) or set(body) - {"error", "message"}:
            out.append(f"{nsid} error body {body!r} is not an XRPC error")
    return out


@pytest.fixture
async def account(bluesky_fake: FakeBluesky) -> AccountInfo:  # noqa: F811
    connected = await sign_in("alice.test", bluesky_fake.app_password, service=bluesky_fake.url, tuning=FAST)
    KeyringSecrets().put(21, connected.secrets)
    return AccountInfo(21, Platform.BLUESKY, connected.handle, server=connected.server, settings=connected.settings)


async def test_every_call_of_a_full_post_matches_the_lexicons(account, bluesky_fake, tmp_path: Path) -> None:  # noqa: F811
    picture = tmp_path / "wide.png"
    picture.write_bytes(png(40, 30))
    adapter = BlueskyAdapter(context(tmp_path, post_language="en"), tuning=FAST)
    try:
        content = PostContent("Hello @alice.test, see https://example.com #outpost",
                              media=(MediaItem(str(picture), alt_text="a wide picture"),),
                              thread=("the second part",), first_comment="and a first comment")
        journal = MemoryJournal()
        await adapter.publish(job(account, content), journal)
        await adapter.reconcile(job(account, content, checkpoints=journal.steps))
        bluesky_fake.refresh_tokens.clear()  # a dead refresh token: sign in again with the app password
        await adapter._renew(account, used_access=KeyringSecrets().get(account.id)["access_jwt"])
    finally:
        await adapter.aclose()
    exchanges = list(bluesky_fake.exchanges)
    called = {r.path.removeprefix("/xrpc/") for r, _ in exchanges}
    assert called >= {"com.atproto.repo.createRecord", "com.atproto.repo.uploadBlob", "com.atproto.repo.getRecord",
                      "com.atproto.identity.resolveHandle", "com.atproto.server.createSession"}
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)


def test_a_wrong_field_name_is_caught() -> None:
    """The check can fail: a record with `aspect_ratio` (snake case) instead of `aspectRatio`."""
    record = {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-12-07T10:00:00.000Z",
              "embed": {"$type": "app.bsky.embed.images", "images": [
                  {"image": {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/png", "size": 3},
                   "alt": "", "aspect_ratio": {"width": 4, "height": 3}}]}}
    found = problems(models.AppBskyFeedPost.Record, record)
    assert any("aspect_ratio: not a field" in p for p in found), found
    assert problems(models.AppBskyFeedPost.Record, {**record, "langs": ["en", "de", "fr", "ja"]})  # maxLength 3
