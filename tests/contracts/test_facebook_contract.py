"""Facebook Pages: every Graph call Outpost makes (connecting a Page, text/link posts, one photo, several
photos, a video, native scheduling, a first comment, reconciliation), and every answer and error the
fake gives, checked against the official `facebook-business` SDK's object definitions
(tests/contracts/graph.py): parameters against each call's `param_types` and enums, `fields=` and
answers against the answering object's `Field` names and `_field_types`, errors as
FacebookRequestError reads them.

Outside the SDK, from Meta's pages (read 2026-12-07):
- the token exchanges, "Manually Build a Login Flow" and "Long-Lived Access Tokens"
  (developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow,
  .../facebook-login/guides/access-tokens/get-long-lived): GET /oauth/access_token with client_id,
  redirect_uri, client_secret, code, or grant_type=fb_exchange_token and fb_exchange_token; answer
  {access_token, token_type, expires_in};
- a local file goes as the multipart part `source` to /photos ("Page Photos" reference: "source: the
  photo, encoded as form data"); the SDK's Page.create_photo sends files itself and does not list it.
Mismatches found and fixed: Outpost asked /me/accounts for `tasks`, which is not a Field of the SDK's
Page (it never read it); the adapter no longer asks for it and the fake no longer answers it. Outpost
called Graph v21.0, which Meta's "Graph API changelog: Versions" page (read 2026-12-07) says is
available until 2027-01-21; it now calls v26.0, the version the SDK describes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.pagepost import PagePost
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi

from app.auth.facebook import FacebookBrowserSignIn, account_from_token
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.facebook import VERSION, FacebookAdapter
from tests.contracts.graph import SDK, Call, Documented, check, error_problems, request_problems
from tests.fakes.facebook import FakeFacebook
from tests.fakes.server import Fault, Request
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, context, job

LOGIN_DOCS = "Facebook Login: Manually Build a Login Flow / Long-Lived Access Tokens (read 2026-12-07)"
PHOTO_SOURCE = {"source": "file"}  # Page Photos reference: the photo as multipart form data in `source`
CALLS = [
    Call("GET", r"/me", (User, "api_get")),
    Call("GET", r"/me/accounts", (User, "get_accounts"), answer="list"),
    Call("GET", r"/oauth/access_token", doc=Documented(LOGIN_DOCS, {
        "client_id": "string", "client_secret": "string", "redirect_uri": "string", "code": "string",
        "grant_type": "enum:fb_exchange_token", "fb_exchange_token": "string"},
        {"access_token": "string", "token_type": "string", "expires_in": "int"},
        required=("client_id", "client_secret"))),
    Call("GET", r"/dialog/oauth", doc=Documented(LOGIN_DOCS, {  # the browser's sign-in page
        "client_id": "string", "redirect_uri": "string", "state": "string", "response_type": "enum:code|token",
        "scope": "string"}, required=("client_id", "redirect_uri")), answer="skip"),
    Call("POST", r"/\d+/feed", (Page, "create_feed"), answer="created"),
    Call("GET", r"/\d+/feed", (Page, "get_feed"), answer="list"),
    Call("GET", r"/\d+/scheduled_posts", (Page, "get_scheduled_posts"), answer="list"),
    Call("GET", r"/\d+/videos", (Page, "get_videos"), answer="list"),
    # Page Photos reference: "Return type: Struct {id, post_id}" (post_id only for a published photo)
    Call("POST", r"/\d+/photos", (Page, "create_photo"), answer="created", created=("id", "post_id"),
         extra=PHOTO_SOURCE),
    Call("POST", r"/\d+/videos", (Page, "create_video"), answer="created"),
    Call("POST", r"/\d+_\d+/comments", (PagePost, "create_comment"), answer="created"),
    Call("GET", r"/\d+", (Page, "api_get")),
]


def problems(request: Request, response: object) -> list[str]:
    return check(CALLS, request, response, version=f"/{VERSION}")  # type: ignore[arg-type]


@pytest.fixture
def fb() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


@pytest.fixture
def account(fb: FakeFacebook) -> AccountInfo:
    KeyringSecrets().put(51, {"access_token": fb.issue_page_token(), "expires_at": ""})
    return AccountInfo(51, Platform.FACEBOOK, fb.page_name, settings={"page_id": fb.page_id})


@pytest.fixture
async def adapter(tmp_path: Path, fb: FakeFacebook) -> AsyncIterator[FacebookAdapter]:
    a = FacebookAdapter(context(tmp_path, api_base={"facebook": fb.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_every_call_of_every_kind_of_page_post_matches_the_sdk(adapter, account, fb, tmp_path) -> None:
    photo = tmp_path / "p.png"
    photo.write_bytes(PNG_1PX)
    clip = tmp_path / "v.mp4"
    clip.write_bytes(bytes(range(256)) * 8)
    local_photo = MediaItem(str(photo), alt_text="a loaf")
    video = MediaItem(str(clip), kind=MediaKind.VIDEO, mime_type="video/mp4")
    later = datetime.now(UTC) + timedelta(hours=2)
    runs = [
        (PostContent("New menu: https://bakery.example/menu.", first_comment="Open at 8"), None),
        (PostContent("Fresh bread", media=(local_photo,)), None),
        (PostContent("From the web", media=(MediaItem("https://cdn.example.com/a.jpg"),)), None),
        (PostContent("Two loaves", media=(local_photo, MediaItem("https://cdn.example.com/b.jpg"))), None),
        (PostContent("A clip", title="Kneading", media=(video,)), None),
        (PostContent("Web clip", media=(MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO),)), None),
        (PostContent("Later, text"), later),
        (PostContent("Later, a photo", media=(local_photo,)), later),
        (PostContent("Later, two photos", media=(local_photo, local_photo)), later),
        (PostContent("Later, a clip", media=(video,)), later),
    ]
    for n, (content, at) in enumerate(runs):
        await adapter.publish(job(account, content, key=f"k{n}", attempt_id=n + 1, native_schedule_at=at),
                              MemoryJournal())
    fb.inject(Fault(rf"/{VERSION}/\d+/feed", kind="hang_after", hang_seconds=2))
    lost = MemoryJournal()
    with pytest.raises(Exception):  # noqa: B017 (an unknown outcome, whatever its kind)
        await adapter.publish(job(account, PostContent("lost answer"), key="k-lost", attempt_id=20), lost)
    await adapter.reconcile(job(account, PostContent("lost answer"), key="k-lost", attempt_id=20,
                                checkpoints=lost.steps))
    await adapter.reconcile(job(account, PostContent("A clip", media=(video,)), key="k4", attempt_id=21,
                                checkpoints={"create_sent_at": datetime.now(UTC).isoformat()}))
    await adapter.reconcile(job(account, PostContent("Later, text"), key="k6", attempt_id=22,
                                checkpoints={"create_sent_at": datetime.now(UTC).isoformat()}))
    exchanges = list(fb.exchanges)
    paths = {(r.method, r.path.split("/")[-1]) for r, _ in exchanges}
    assert {("POST", "feed"), ("POST", "photos"), ("POST", "videos"), ("POST", "comments"), ("GET", "feed"),
            ("GET", "videos"), ("GET", "scheduled_posts")} <= paths
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {SDK}:\n" + "\n".join(found)


async def test_connecting_a_page_matches_the_sdk_and_meta_s_login_pages(fb) -> None:
    await account_from_token(fb.issue_user_token(), api_base=fb.url, tuning=FAST)
    await account_from_token(fb.issue_page_token(), api_base=fb.url, tuning=FAST)
    sign_in = FacebookBrowserSignIn(fb.app_id, fb.app_secret, "https://127.0.0.1:8443/callback/facebook",
                                    api_base=fb.url, authorize_url=f"{fb.url}/{VERSION}/dialog/oauth", tuning=FAST)
    import httpx

    async with httpx.AsyncClient() as client:
        landed = (await client.get(sign_in.authorization_url)).headers["location"]
    await sign_in.finish(landed)
    with pytest.raises(Exception):  # noqa: B017 (a refused token: its error body is checked below)
        await account_from_token("not-a-token", api_base=fb.url, tuning=FAST)
    exchanges = list(fb.exchanges)
    assert any(r.path.endswith("/me/accounts") for r, _ in exchanges)
    assert any(response.status >= 400 for _, response in exchanges)
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {SDK} and {LOGIN_DOCS}:\n" + "\n".join(found)


def _request(path: str, **form: str) -> Request:
    from urllib.parse import urlencode

    return Request("POST", f"/{VERSION}{path}", {}, {"content-type": "application/x-www-form-urlencoded"},
                   urlencode(form).encode())


def test_a_wrong_field_name_is_caught() -> None:
    feed = next(c for c in CALLS if c.sdk == (Page, "create_feed"))
    ok = _request("/1/feed", message="hi", published="false", scheduled_publish_time="1900000000")
    assert request_problems(feed, ok) == []
    wrong = _request("/1/feed", message="hi", publish="false")  # the SDK's name is `published`
    assert any("'publish' is not a parameter" in p for p in request_problems(feed, wrong))
    not_bool = _request("/1/feed", message="hi", published="no")
    assert any("is not a bool" in p for p in request_problems(feed, not_bool))
    asked = Request("GET", f"/{VERSION}/me/accounts", {"fields": ["id,name,access_token,tasks"]}, {}, b"")
    accounts = next(c for c in CALLS if c.sdk == (User, "get_accounts"))
    assert any("'tasks' is not a field of Page" in p for p in request_problems(accounts, asked))


def test_outpost_calls_the_graph_version_the_sdk_describes() -> None:
    # The fields and parameters above are the SDK's for its version; a newer SDK means reading its changes first.
    assert VERSION == FacebookAdsApi.API_VERSION, f"Outpost calls Graph {VERSION}, the contract is {SDK}"


async def test_outpost_reads_every_graph_error_as_the_sdk_does(adapter, account, fb, tmp_path) -> None:
    from facebook_business.exceptions import FacebookRequestError

    from app.platforms.meta import parse_graph_error
    from tests.fakes.threads import graph_error

    fb.inject(Fault(rf"/{VERSION}/\d+/feed", status=400, body={"error": {
        "message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32,
        "error_subcode": 2018238, "is_transient": False, "fbtrace_id": "AbC"}}))
    with pytest.raises(Exception):  # noqa: B017 (a throttled post)
        await adapter.publish(job(account, PostContent("throttled")), MemoryJournal())
    bodies = [response.body for _, response in fb.exchanges if response.status >= 400]
    bodies += [graph_error("Session has expired", 190, 463, user_title="Expired", user_msg="Sign in again").body,
               fb.default_error(500)]
    assert len(bodies) >= 3 and [p for body in bodies for p in error_problems(body, "fake")] == []
    # and one a proxy might re-encode: the code as a string, error_data as JSON text
    bodies.append({"error": {"message": "dup", "type": "OAuthException", "code": "506", "fbtrace_id": "x",
                             "error_data": '{"blame_field_specs": []}'}})
    for body in bodies:
        sdk = FacebookRequestError("x", {}, 400, {}, json.dumps(body))
        ours = parse_graph_error(json.dumps(body).encode())
        assert ours is not None, body
        assert (ours.message, ours.type, ours.code, ours.subcode, ours.is_transient) == (
            sdk.api_error_message(), sdk.api_error_type(), int(sdk.api_error_code()),
            sdk.api_error_subcode(), sdk.api_transient_error()), f"against {SDK}'s FacebookRequestError"
