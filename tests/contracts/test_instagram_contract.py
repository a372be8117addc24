"""Instagram (Instagram API with Instagram Login, graph.instagram.com): every call Outpost makes (an
image, a reel, a carousel of images and a video, a first comment, the publishing quota, container
status, reconciliation, token renewal, connecting), and every answer and error the fake gives,
checked against the official `facebook-business` SDK's "ForIGOnlyAPI" definitions
(tests/contracts/graph.py): IGUserForIGOnlyAPI (create_media, create_media_publish, get_media,
get_content_publishing_limit), IGMediaForIGOnlyAPI (fields, create_comment), ShadowIGMediaBuilder
(a container's status_code), IGAccessTokenForIGOnlyAPI and IGRefreshAccessTokenForIGOnlyAPI.

The SDK names the publish edge `/mediapublish` (a generator quirk); the path is Meta's documented
`/{ig-user-id}/media_publish`. Outside the SDK, from Meta's pages (read 2026-12-07):
- "Business Login for Instagram" (developers.facebook.com/documentation/instagram-platform/
  instagram-api-with-instagram-login/business-login, updated 2026-03-13): POST
  api.instagram.com/oauth/access_token with client_id, client_secret, grant_type=authorization_code,
  redirect_uri, code; answer {"data": [{access_token, user_id, permissions}]}; a refusal is
  {error_type, code, error_message};
- "Oauth Authorize" reference (updated 2025-07-17): client_id, redirect_uri, response_type=code,
  scope, state;
- "IG User Media" reference: media_type is one of CAROUSEL, REELS, STORIES, VIDEO (carousel items),
  IMAGE by default; "IG Container" reference: status_code is one of EXPIRED, ERROR, FINISHED,
  IN_PROGRESS, PUBLISHED (the SDK types both as plain strings).
Mismatches found and fixed: the SDK types IGUserForIGOnlyAPI.user_id as an int where the fake answered
a string; Outpost called v21.0 (available until 2027-01-21, Graph API changelog) and now calls v26.0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from facebook_business.adobjects.contentpublishinglimitresponse import ContentPublishingLimitResponse
from facebook_business.adobjects.igaccesstokenforigonlyapi import IGAccessTokenForIGOnlyAPI
from facebook_business.adobjects.igmediaforigonlyapi import IGMediaForIGOnlyAPI
from facebook_business.adobjects.igrefreshaccesstokenforigonlyapi import IGRefreshAccessTokenForIGOnlyAPI
from facebook_business.adobjects.iguserforigonlyapi import IGUserForIGOnlyAPI
from facebook_business.adobjects.shadowigmediabuilder import ShadowIGMediaBuilder
from facebook_business.api import FacebookAdsApi

from app.auth.instagram import InstagramBrowserSignIn, account_from_token
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.instagram import VERSION, InstagramAdapter, token_values
from tests.contracts.graph import SDK, Call, Documented, answer_problems, check, request_problems
from tests.fakes.instagram import FakeInstagram
from tests.fakes.server import Fault, Request, Response
from tests.fakes.support import FAST, MemoryJournal, context, job
from tests.fakes.threads import DAY

LOGIN_DOCS = "Business Login for Instagram (updated 2026-03-13, read 2026-12-07)"
MEDIA_TYPES = {"media_type": "enum:CAROUSEL|REELS|STORIES|VIDEO|IMAGE"}  # IG User Media reference


def _object_or_container(params: dict[str, str]) -> type:
    """GET /{id}: a container answers status_code (ShadowIGMediaBuilder), a published media IGMedia's fields."""
    asked = set((params.get("fields") or "id").split(","))
    return ShadowIGMediaBuilder if asked & {"status_code", "status"} else IGMediaForIGOnlyAPI


CALLS = [
    Call("GET", r"/me", (IGUserForIGOnlyAPI, "api_get")),
    Call("POST", r"/(me|\d+)/media", (IGUserForIGOnlyAPI, "create_media"), answer="created", extra=MEDIA_TYPES),
    # the SDK types this edge's items as AbstractCrudObject; they are the IG-only media objects
    Call("GET", r"/(me|\d+)/media", (IGUserForIGOnlyAPI, "get_media"), answer="list",
         answer_class=lambda _: IGMediaForIGOnlyAPI),
    Call("POST", r"/(me|\d+)/media_publish", (IGUserForIGOnlyAPI, "create_media_publish"), answer="created"),
    Call("GET", r"/(me|\d+)/content_publishing_limit", (IGUserForIGOnlyAPI, "get_content_publishing_limit"),
         answer="list", answer_class=lambda _: ContentPublishingLimitResponse),
    Call("POST", r"/\d+/comments", (IGMediaForIGOnlyAPI, "create_comment"), answer="created"),
    Call("GET", r"/\d+", (IGMediaForIGOnlyAPI, "api_get"), answer_class=_object_or_container,
         values={"status_code": "enum:EXPIRED|ERROR|FINISHED|IN_PROGRESS|PUBLISHED"}),  # IG Container reference
    Call("GET", r"/refresh_access_token", (IGRefreshAccessTokenForIGOnlyAPI, "api_get")),
    Call("GET", r"/access_token", (IGAccessTokenForIGOnlyAPI, "api_get")),
    Call("GET", r"/oauth/authorize", doc=Documented(LOGIN_DOCS, {
        "client_id": "string", "redirect_uri": "string", "response_type": "enum:code", "scope": "string",
        "state": "string"}, required=("client_id", "redirect_uri", "response_type", "scope")), answer="skip"),
    Call("POST", r"/oauth/access_token", doc=Documented(LOGIN_DOCS, {
        "client_id": "string", "client_secret": "string", "grant_type": "enum:authorization_code",
        "redirect_uri": "string", "code": "string"}, {"data": "list"},
        required=("client_id", "client_secret", "grant_type", "redirect_uri", "code"))),
]


def problems(request: Request, response: object) -> list[str]:
    path = request.path.removeprefix(f"/{VERSION}")
    if request.method == "POST" and path == "/oauth/access_token" and getattr(response, "status", 200) >= 400:
        body = getattr(response, "body", None)  # the login host's own refusal shape (Business Login page)
        ok = isinstance(body, dict) and set(body) == {"error_type", "code", "error_message"}
        return [] if ok else [f"POST /oauth/access_token refusal {body!r} is not {{error_type, code, error_message}}"]
    if request.method == "POST" and path == "/oauth/access_token":
        body = getattr(response, "body", None)
        items = body.get("data") if isinstance(body, dict) else None
        if not (isinstance(items, list) and items and set(items[0]) <= {"access_token", "user_id", "permissions"}):
            return [f"POST /oauth/access_token answer {body!r} is not {{'data': [{{access_token, user_id, "
                    f"permissions}}]}} ({LOGIN_DOCS})"]
    return check(CALLS, request, response, version=f"/{VERSION}")  # type: ignore[arg-type]


@pytest.fixture
def ig() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        fake.ready_after = 0.05
        yield fake


def _account(fake: FakeInstagram, age: float) -> AccountInfo:
    issued = datetime.now(UTC) - timedelta(seconds=age)
    KeyringSecrets().put(31, token_values(fake.issue_token(age=age), issued, None))
    return AccountInfo(31, Platform.INSTAGRAM, fake.username, settings={"user_id": fake.user_id})


@pytest.fixture
async def adapter(tmp_path: Path, ig: FakeInstagram) -> AsyncIterator[InstagramAdapter]:
    a = InstagramAdapter(context(tmp_path, api_base={"instagram": ig.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_every_call_of_every_kind_of_post_matches_the_sdk(adapter, ig) -> None:
    account = _account(ig, age=8 * DAY)  # old enough to be renewed first
    image = MediaItem("https://cdn.example.com/a.jpg", alt_text="a tart")
    video = MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO)
    runs = [PostContent("One picture", media=(image,), first_comment="Recipe below"),
            PostContent("A reel", media=(video,)),
            PostContent("A carousel", media=(image, MediaItem("https://cdn.example.com/b.jpg"), video))]
    for n, content in enumerate(runs):
        await adapter.publish(job(account, content, key=f"k{n}", attempt_id=n + 1), MemoryJournal())
    ig.inject(Fault(rf"/{VERSION}/\d+/media_publish", kind="hang_after", hang_seconds=2))
    lost = MemoryJournal()
    with pytest.raises(Exception):  # noqa: B017 (an unknown outcome, whatever its kind)
        await adapter.publish(job(account, PostContent("lost answer", media=(image,)), key="k9", attempt_id=9), lost)
    await adapter.reconcile(job(account, PostContent("lost answer", media=(image,)), key="k9", attempt_id=9,
                                checkpoints=lost.steps))
    ig.not_ready_publishes = 1  # one 9007/2207027 answer: its error body is checked too
    await adapter.publish(job(account, PostContent("after a wait", media=(image,)), key="k10", attempt_id=10),
                          MemoryJournal())
    ig.expire_new_containers = 1  # a container that expired is replaced: the new one's calls are checked too
    await adapter.publish(job(account, PostContent("expired once", media=(image,)), key="k11", attempt_id=11),
                          MemoryJournal())
    ig.processing_error = "Error: the video could not be processed"
    with pytest.raises(Exception):  # noqa: B017 (the container ends in ERROR: its status answer is checked)
        await adapter.publish(job(account, PostContent("broken", media=(video,)), key="k12", attempt_id=12),
                              MemoryJournal())
    exchanges = list(ig.exchanges)
    ends = {(r.method, r.path.split("/")[-1]) for r, _ in exchanges}
    assert {("POST", "media"), ("POST", "media_publish"), ("POST", "comments"), ("GET", "media"),
            ("GET", "content_publishing_limit"), ("GET", "refresh_access_token")} <= ends
    assert any(response.status >= 400 for _, response in exchanges)
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {SDK}:\n" + "\n".join(found)


async def test_connecting_matches_the_sdk_and_the_business_login_page(ig) -> None:
    connected = await account_from_token(ig.issue_token(age=3 * DAY), api_base=ig.url, tuning=FAST)
    assert connected.settings["user_id"] == ig.user_id  # the SDK's int user_id is kept as its digits
    sign_in = InstagramBrowserSignIn(ig.app_id, ig.app_secret, "https://127.0.0.1:8443/callback/instagram",
                                     api_base=ig.url, oauth_base=ig.url, authorize_url=f"{ig.url}/oauth/authorize",
                                     tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(sign_in.authorization_url)).headers["location"]
    await sign_in.finish(landing)
    wrong = InstagramBrowserSignIn(ig.app_id, "not-the-secret", "https://127.0.0.1:8443/callback/instagram",
                                   api_base=ig.url, oauth_base=ig.url, authorize_url=f"{ig.url}/oauth/authorize",
                                   tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(wrong.authorization_url)).headers["location"]
    with pytest.raises(Exception):  # noqa: B017 (a refused code exchange: its error body is checked below)
        await wrong.finish(landing)
    exchanges = list(ig.exchanges)
    assert any(r.path == "/oauth/access_token" and resp.status >= 400 for r, resp in exchanges)
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {SDK} and {LOGIN_DOCS}:\n" + "\n".join(found)


def test_a_wrong_field_name_is_caught() -> None:
    media = next(c for c in CALLS if c.sdk == (IGUserForIGOnlyAPI, "create_media"))

    def create(**form: str) -> Request:
        from urllib.parse import urlencode

        return Request("POST", f"/{VERSION}/1/media", {}, {"content-type": "application/x-www-form-urlencoded"},
                       urlencode(form).encode())

    assert request_problems(media, create(image_url="https://a/b.jpg", caption="x", alt_text="y")) == []
    assert any("'alt' is not a parameter" in p for p in request_problems(media, create(image_url="u", alt="y")))
    assert any("not one of" in p for p in request_problems(media, create(media_type="REEL", video_url="u")))
    status = Request("GET", f"/{VERSION}/1", {"fields": ["status_code,state"]}, {}, b"")
    node = next(c for c in CALLS if c.path == r"/\d+")
    assert any("'state' is not a field of ShadowIGMediaBuilder" in p for p in request_problems(node, status))
    done = Response(200, {"id": "1", "status_code": "DONE"})
    assert any("'DONE' is not one of" in p for p in answer_problems(node, Request(
        "GET", f"/{VERSION}/1", {"fields": ["status_code"]}, {}, b""), done))


def test_outpost_calls_the_version_the_sdk_describes() -> None:
    assert VERSION == FacebookAdsApi.API_VERSION, f"Outpost calls graph.instagram.com {VERSION}, the contract is {SDK}"
