"""Mastodon: every API call Outpost makes, and every answer the fake server gives, checked against
Mastodon.py, whose methods carry the API's documented parameters and whose `return_types` carry
the documented entities (Status, MediaAttachment, ScheduledStatus, Account, Instance, Application).

Contract: Mastodon.py (PyPI `mastodon-py`), written against docs.joinmastodon.org; the newest API
version it knows is named in the failure message. OAuth's token and revoke endpoints follow
RFC 6749/7009 and are checked in tests/platforms/test_mastodon.py instead.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, return_types

from app.auth.mastodon import MastodonSignIn
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, Platform, PostContent
from app.platforms.mastodon import MastodonAdapter
from tests.fakes.fixtures import mastodon_fake  # noqa: F401 (a fixture)
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Request, Response
from tests.fakes.support import FAST, MemoryJournal, browser, context, job, png

CONTRACT = f"Mastodon.py {version('mastodon-py')} (API {Mastodon.__dict__.get('__DEFAULT_BASE_URL', '')}"\
           f"{getattr(Mastodon, '_Mastodon__SUPPORTED_MASTODON_VERSION', '')})"


def _params(function: Any, *, rename: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> set[str]:
    """The API parameter names a Mastodon.py method sends (its arguments, as the API names them)."""
    names = [n for n in inspect.signature(function).parameters if n not in ("self", *drop)]
    return {(rename or {}).get(n, n) for n in names}


# What each endpoint accepts, from the Mastodon.py method that calls it
STATUS_PARAMS = _params(Mastodon.status_post, drop=("idempotency_key", "strict_content_type"))  # key: a header
MEDIA_FIELDS = _params(Mastodon.media_post, rename={"media_file": "file"},
                       drop=("mime_type", "file_name", "thumbnail_mime_type", "synchronous"))
APP_PARAMS = _params(Mastodon.create_app, drop=("api_base_url", "to_file", "session", "user_agent",
                                                "request_timeout"))
ENTITIES = {
    ("POST", r"/api/v1/statuses"): (return_types.Status, return_types.ScheduledStatus),
    ("GET", r"/api/v1/statuses/\d+"): (return_types.Status,),
    ("POST", r"/api/v2/media"): (return_types.MediaAttachment,),
    ("GET", r"/api/v1/media/\d+"): (return_types.MediaAttachment,),
    ("GET", r"/api/v1/accounts/verify_credentials"): (return_types.Account,),
    ("GET", r"/api/v2/instance"): (return_types.InstanceV2,),
    ("POST", r"/api/v1/apps"): (return_types.Application,),
}


# POST /api/v1/apps answers a CredentialApplication: an Application plus its credentials. Mastodon.py
# has no entity for it; its create_app() reads client_id and client_secret from the answer, and
# docs.joinmastodon.org (entities/Application, "CredentialApplication", 4.3) adds client_secret_expires_at.
CREDENTIALS = {"client_id": "str", "client_secret": "str", "client_secret_expires_at": "int"}


def entity_problems(entity: type, data: Any, where: str) -> list[str]:
    """Keys of `data` the entity does not document, recursively through the entities it names."""
    if not isinstance(data, dict):
        return []
    fields = {k: str(v).strip("'\"") for k, v in entity.__annotations__.items()}
    if entity is return_types.Application and where.startswith("POST /api/v1/apps"):
        fields.update(CREDENTIALS)
    out = []
    for key, value in data.items():
        if key not in fields:
            out.append(f"{where}.{key}: not a field of {entity.__name__} in the contract")
            continue
        for name in re.findall(r"[A-Z][A-Za-z0-9]+", fields[key]):
            nested = getattr(return_types, name, None)
            if isinstance(nested, type) and hasattr(nested, "__annotations__") and name not in (
                    "Optional", "NonPaginatableList", "Union", "MaybeSnowflakeIdType", "IdType"):
                items = value if isinstance(value, list) else [value]
                out += [p for i, item in enumerate(items) for p in entity_problems(nested, item, f"{where}.{key}")]
    return out


def check_exchange(request: Request, response: Response) -> list[str]:
    if request.path in ("/oauth/token", "/oauth/revoke", "/oauth/authorize"):
        return []
    where = f"{request.method} {request.path} "
    entities = next((e for (m, p), e in ENTITIES.items() if m == request.method and re.fullmatch(p, request.path)),
                    None)
    if entities is None:
        return [where + "is not an endpoint this contract test knows"]
    out: list[str] = []
    if request.path == "/api/v1/statuses":
        out += [f"{where}parameter {k!r} is not one of status_post's" for k in request.json() if k not in STATUS_PARAMS]
        if "Idempotency-Key" not in {k.title() for k in request.headers}:
            out.append(where + "has no Idempotency-Key header")
    if request.path == "/api/v2/media":
        out += [f"{where}field {k!r} is not one of media_post's" for k in request.multipart() if k not in MEDIA_FIELDS]
    if request.path == "/api/v1/apps":
        out += [f"{where}parameter {k!r} is not one of create_app's" for k in request.json() if k not in APP_PARAMS]
    if response.status in (200, 202, 206) and isinstance(response.body, dict):
        # a scheduled post answers a ScheduledStatus: the entity is told apart by its params
        entity = entities[-1] if "params" in response.body else entities[0]
        out += entity_problems(entity, response.body, where + "answer")
    elif response.status >= 400:
        body = response.body if isinstance(response.body, dict) else {}
        if not isinstance(body.get("error"), str) or set(body) - {"error", "error_description", "details"}:
            out.append(f"{where}error {body!r} is not Mastodon's Error entity")
    return out


@pytest.fixture
def account(mastodon_fake: FakeMastodon) -> AccountInfo:  # noqa: F811
    KeyringSecrets().put(81, {"access_token": mastodon_fake.issue_token()})
    return AccountInfo(id=81, platform=Platform.MASTODON, handle="@alice@fake", server=mastodon_fake.url)


async def test_every_call_of_posts_media_threads_and_schedules_matches_mastodon_py(account, mastodon_fake,  # noqa: F811
                                                                                 tmp_path: Path) -> None:
    sign_in = MastodonSignIn(mastodon_fake.url, tuning=FAST, timeout=5)
    open_url, visits = browser()
    await sign_in.run(open_url)
    await visits[0]
    picture = tmp_path / "p.png"
    picture.write_bytes(png(30, 20))
    adapter = MastodonAdapter(context(tmp_path, post_language="de"), tuning=FAST)
    try:
        journal = MemoryJournal()
        content = PostContent("Hallo #outpost", media=(MediaItem(str(picture), alt_text="ein Bild",
                                                                 mime_type="image/png"),),
                              thread=("Teil zwei",), first_comment="Ein Kommentar")
        await adapter.publish(job(account, content), journal)
        await adapter.reconcile(job(account, content, checkpoints=journal.steps))
        later = datetime.now(UTC) + timedelta(days=1)
        await adapter.publish(job(account, PostContent("Später"), key="k2", attempt_id=2, native_schedule_at=later),
                              MemoryJournal())
    finally:
        await adapter.aclose()
    exchanges = list(mastodon_fake.exchanges)
    assert {"/api/v1/statuses", "/api/v2/media", "/api/v1/apps", "/api/v2/instance"} <= {r.path for r, _ in exchanges}
    found = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)
    statuses = [r.json() for r, _ in exchanges if r.path == "/api/v1/statuses"]
    assert {s.get("language") for s in statuses} == {"de"}  # the post's language, as Bluesky's langs


def test_a_wrong_field_name_is_caught() -> None:
    status = {"id": "1", "content": "x", "media_attachments": [{"id": "2", "type": "image", "alt_text": "oops"}]}
    found = entity_problems(return_types.Status, status, "Status")
    assert found == ["Status.media_attachments.alt_text: not a field of MediaAttachment in the contract"]
    assert "alt_text" not in STATUS_PARAMS and "in_reply_to_id" in STATUS_PARAMS
