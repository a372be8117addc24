"""Threads: every call Outpost makes (text, image, video, carousel, replies for a thread and a first
comment, the publishing quota, container status, reconciliation, token renewal, connecting), and
every answer and error the fake gives, checked against Meta's documented Threads API.

The `facebook-business` SDK has no Threads endpoints (its ThreadsUser is a two-field stub), so the
contract is transcribed from Meta's pages, read 2026-12-07 (titles, addresses, "Updated" dates):
- "Publishing" reference, developers.facebook.com/documentation/threads/reference/publishing
  (2026-04-20): POST /{threads-user-id}/threads parameters (media_type TEXT|IMAGE|VIDEO|CAROUSEL,
  text, image_url, video_url, is_carousel_item, children, reply_to_id, reply_control, alt_text,
  ...); POST /{threads-user-id}/threads_publish with creation_id; answers {"id"}.
- "Troubleshooting", developers.facebook.com/docs/threads/troubleshooting: GET /{container}
  ?fields=status,error_message; status EXPIRED|ERROR|FINISHED|IN_PROGRESS|PUBLISHED; error_message
  one of FAILED_DOWNLOADING_VIDEO ... UNKNOWN; GET /{threads-user-id}/threads_publishing_limit
  fields quota_usage, config, reply_quota_usage, reply_config, delete_*, location_search_*.
- "Media Retrieval" reference, .../threads/reference/media-retrieval (2026-04-20): GET
  /{threads-media-id} and /{threads-user-id}/threads fields (id, media_product_type, media_type,
  media_url, permalink, owner, username, text, timestamp, shortcode, ...).
- "Threads Profiles", .../threads/threads-profiles (2026-04-13): GET /me fields id, username, name,
  threads_profile_picture_url, threads_biography, is_verified.
- "Long-Lived Access Tokens", developers.facebook.com/docs/threads/get-started/long-lived-tokens/:
  GET /access_token (grant_type=th_exchange_token, client_secret, access_token) and GET
  /refresh_access_token (grant_type=th_refresh_token, access_token), answer {access_token,
  token_type, expires_in}; "Get Access Tokens and Permissions": POST /oauth/access_token with
  client_id, client_secret, code, grant_type=authorization_code, redirect_uri, answer
  {access_token, user_id}; the authorization window takes client_id, redirect_uri, scope,
  response_type=code, state.
Errors are Graph's envelope as the SDK's FacebookRequestError reads it (tests/contracts/graph.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from app.auth.secrets import KeyringSecrets
from app.auth.threads import ThreadsBrowserSignIn, account_from_token
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.threads import VERSION, ThreadsAdapter, token_values
from tests.contracts.graph import Call, Documented, check, request_problems
from tests.fakes.server import Fault, Request
from tests.fakes.support import FAST, MemoryJournal, context, job
from tests.fakes.threads import DAY, FakeThreads

CONTRACT = "Meta's Threads API pages (Publishing and Media Retrieval references 2026-04-20, Troubleshooting, " \
           "Threads Profiles 2026-04-13, Long-Lived Access Tokens; read 2026-12-07)"
PUBLISHING = "Threads Publishing reference (2026-04-20)"
STATUS = "enum:EXPIRED|ERROR|FINISHED|IN_PROGRESS|PUBLISHED"
ERROR_MESSAGES = ("enum:FAILED_DOWNLOADING_VIDEO|FAILED_PROCESSING_AUDIO|FAILED_PROCESSING_VIDEO|INVALID_ASPEC_RATIO|"
                  "INVALID_BIT_RATE|INVALID_DURATION|INVALID_FRAME_RATE|INVALID_AUDIO_CHANNELS|"
                  "INVALID_AUDIO_CHANNEL_LAYOUT|UNKNOWN")
MEDIA_FIELDS = {name: "string" for name in (
    "id", "media_product_type", "media_type", "media_url", "permalink", "username", "text", "timestamp", "shortcode",
    "thumbnail_url", "alt_text", "link_attachment_url", "hide_status", "reply_audience", "gif_url", "topic_tag",
    "location_id")} | {name: "bool" for name in ("is_quote_post", "has_replies", "is_reply", "is_reply_owned_by_me",
                                                  "is_spoiler_media")} | {
    name: "Object" for name in ("owner", "children", "root_post", "replied_to", "quoted_post", "reposted_post",
                                "poll_attachment", "text_entities", "text_attachment")}
CONTAINER_FIELDS = {"id": "string", "status": STATUS, "error_message": ERROR_MESSAGES}
LIMIT_FIELDS = {name: "int" for name in ("quota_usage", "reply_quota_usage", "delete_quota_usage",
                                        "location_search_quota_usage")} | {
    name: "Object" for name in ("config", "reply_config", "delete_config", "location_search_config")}
TOKEN = {"access_token": "string", "token_type": "string", "expires_in": "int"}
GET_FIELDS = {"fields": "string"}
CALLS = [
    Call("GET", r"/me", doc=Documented("Threads Profiles (2026-04-13)", GET_FIELDS, {
        "id": "string", "username": "string", "name": "string", "threads_profile_picture_url": "string",
        "threads_biography": "string", "is_verified": "bool"})),
    Call("POST", r"/(me|\d+)/threads", doc=Documented(PUBLISHING, {
        "media_type": "enum:TEXT|IMAGE|VIDEO|CAROUSEL", "text": "string", "image_url": "string", "video_url": "string",
        "is_carousel_item": "bool", "children": "list<string>", "reply_to_id": "string", "alt_text": "string",
        "reply_control": "enum:everyone|accounts_you_follow|mentioned_only|parent_post_author_only|followers_only",
        "allowlisted_country_codes": "list<string>", "link_attachment": "string", "quote_post_id": "string",
        "topic_tag": "string", "location_id": "string"}, {"id": "string"}, required=("media_type",))),
    Call("POST", r"/(me|\d+)/threads_publish", doc=Documented(PUBLISHING, {"creation_id": "unsigned int"},
                                                               {"id": "string"}, required=("creation_id",))),
    Call("GET", r"/(me|\d+)/threads", doc=Documented("Threads Media Retrieval reference (2026-04-20)", {
        **GET_FIELDS, "limit": "unsigned int", "since": "datetime", "until": "datetime", "before": "string",
        "after": "string"}, MEDIA_FIELDS), answer="list"),
    Call("GET", r"/(me|\d+)/threads_publishing_limit", doc=Documented("Threads Troubleshooting", GET_FIELDS,
                                                                       LIMIT_FIELDS), answer="list"),
    Call("GET", r"/refresh_access_token", doc=Documented("Threads Long-Lived Access Tokens", {
        "grant_type": "enum:th_refresh_token", "access_token": "string"}, TOKEN, required=("grant_type",))),
    Call("GET", r"/access_token", doc=Documented("Threads Long-Lived Access Tokens", {
        "grant_type": "enum:th_exchange_token", "client_secret": "string", "access_token": "string"}, TOKEN,
        required=("grant_type", "client_secret", "access_token"))),
    Call("GET", r"/oauth/authorize", doc=Documented("Threads Get Access Tokens and Permissions", {
        "client_id": "string", "redirect_uri": "string", "scope": "string", "response_type": "enum:code",
        "state": "string"}, required=("client_id", "redirect_uri", "scope", "response_type")), answer="skip"),
    Call("POST", r"/oauth/access_token", doc=Documented("Threads Get Access Tokens and Permissions", {
        "client_id": "string", "client_secret": "string", "code": "string", "grant_type": "enum:authorization_code",
        "redirect_uri": "string"}, {"access_token": "string", "user_id": "string"},
        required=("client_id", "client_secret", "code", "grant_type", "redirect_uri"))),
]
CONTAINER = Call("GET", r"/\d+", doc=Documented("Threads Troubleshooting (container status)", GET_FIELDS,
                                                CONTAINER_FIELDS))
MEDIA = Call("GET", r"/\d+", doc=Documented("Threads Media Retrieval reference (2026-04-20)", GET_FIELDS, MEDIA_FIELDS))


def problems(request: Request, response: object) -> list[str]:
    path = request.path.removeprefix(f"/{VERSION}")
    if request.method == "GET" and path.strip("/").isdigit():
        asked = set((request.query.get("fields") or ["id"])[0].split(","))
        calls = [CONTAINER if asked & {"status", "error_message"} else MEDIA]
        return check(calls, request, response, version=f"/{VERSION}")  # type: ignore[arg-type]
    return check(CALLS, request, response, version=f"/{VERSION}")  # type: ignore[arg-type]


@pytest.fixture
def threads() -> Iterator[FakeThreads]:
    with FakeThreads() as fake:
        fake.ready_after = 0.05
        yield fake


def _account(fake: FakeThreads, age: float) -> AccountInfo:
    issued = datetime.now(UTC) - timedelta(seconds=age)
    KeyringSecrets().put(21, token_values(fake.issue_token(age=age), issued, None))
    return AccountInfo(21, Platform.THREADS, fake.username, settings={"user_id": fake.user_id})


@pytest.fixture
async def adapter(tmp_path: Path, threads: FakeThreads) -> AsyncIterator[ThreadsAdapter]:
    a = ThreadsAdapter(context(tmp_path, api_base={"threads": threads.url}), tuning=FAST)
    yield a
    await a.aclose()


async def test_every_call_of_every_kind_of_post_matches_meta_s_pages(adapter, threads) -> None:
    account = _account(threads, age=8 * DAY)  # old enough to be renewed first
    image = MediaItem("https://cdn.example.com/a.jpg", alt_text="a tart")
    video = MediaItem("https://cdn.example.com/v.mp4", kind=MediaKind.VIDEO, alt_text="kneading")
    runs = [PostContent("Just words", thread=("part two", "part three"), first_comment="a first comment"),
            PostContent("One picture", media=(image,)),
            PostContent("A clip", media=(video,)),
            PostContent("A carousel", media=(image, MediaItem("https://cdn.example.com/b.jpg"), video))]
    for n, content in enumerate(runs):
        await adapter.publish(job(account, content, key=f"k{n}", attempt_id=n + 1), MemoryJournal())
    threads.inject(Fault(rf"/{VERSION}/\d+/threads_publish", kind="hang_after", hang_seconds=2))
    lost = MemoryJournal()
    with pytest.raises(Exception):  # noqa: B017 (an unknown outcome, whatever its kind)
        await adapter.publish(job(account, PostContent("lost answer"), key="k9", attempt_id=9), lost)
    await adapter.reconcile(job(account, PostContent("lost answer"), key="k9", attempt_id=9, checkpoints=lost.steps))
    threads.not_ready_publishes = 1  # one 24/4279009 answer: its error body is checked too
    await adapter.publish(job(account, PostContent("after a wait"), key="k10", attempt_id=10), MemoryJournal())
    threads.expire_new_containers = 1  # a container that expired is replaced: the new one's calls are checked too
    await adapter.publish(job(account, PostContent("expired once"), key="k12", attempt_id=12), MemoryJournal())
    threads.processing_error = "FAILED_DOWNLOADING_VIDEO"
    with pytest.raises(Exception):  # noqa: B017 (the container ends in ERROR: its status answer is checked)
        await adapter.publish(job(account, PostContent("broken", media=(video,)), key="k11", attempt_id=11),
                              MemoryJournal())
    exchanges = list(threads.exchanges)
    ends = {(r.method, r.path.split("/")[-1]) for r, _ in exchanges}
    assert {("POST", "threads"), ("POST", "threads_publish"), ("GET", "threads"), ("GET", "threads_publishing_limit"),
            ("GET", "refresh_access_token")} <= ends
    assert any(response.status >= 400 for _, response in exchanges)
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)


async def test_connecting_matches_meta_s_token_pages(threads) -> None:
    await account_from_token(threads.issue_token(age=3 * DAY), api_base=threads.url, tuning=FAST)
    sign_in = ThreadsBrowserSignIn(threads.app_id, threads.app_secret, "https://127.0.0.1:8443/callback/threads",
                                   api_base=threads.url, authorize_url=f"{threads.url}/oauth/authorize", tuning=FAST)
    async with httpx.AsyncClient() as browser:
        landing = (await browser.get(sign_in.authorization_url)).headers["location"]
    await sign_in.finish(landing)
    with pytest.raises(Exception):  # noqa: B017 (a refused token: its error body is checked below)
        await account_from_token("not-a-token", api_base=threads.url, tuning=FAST)
    exchanges = list(threads.exchanges)
    assert any(r.path == "/oauth/access_token" for r, _ in exchanges)
    found = [p for request, response in exchanges for p in problems(request, response)]
    assert found == [], f"against {CONTRACT}:\n" + "\n".join(found)


def test_a_wrong_field_name_is_caught() -> None:
    def create(**form: str) -> Request:
        return Request("POST", f"/{VERSION}/1/threads", {}, {"content-type": "application/x-www-form-urlencoded"},
                       urlencode(form).encode())

    container = CALLS[1]
    assert request_problems(container, create(media_type="TEXT", text="hi")) == []
    assert any("'reply_to' is not a parameter" in p
               for p in request_problems(container, create(media_type="TEXT", text="hi", reply_to="1")))
    assert any("not one of" in p for p in request_problems(container, create(media_type="TEXT_POST", text="hi")))
    assert any("'media_type' is missing" in p for p in request_problems(container, create(text="hi")))
    status = Request("GET", f"/{VERSION}/1", {"fields": ["status_code"]}, {}, b"")
    assert any("'status_code' is not a field" in p for p in request_problems(CONTAINER, status))


async def test_the_500_limit_counts_an_emoji_as_its_utf8_bytes(adapter, threads) -> None:
    # Threads Posts page (updated 2026-04-14): "Text posts are limited to 500 characters. Emojis are counted as
    # the number of UTF-8 bytes." 490 letters and three 4-byte emoji are 493 characters but 502 by that count.
    account = _account(threads, age=3600)
    text = "a" * 490 + "\N{GRINNING FACE}" * 3
    assert [p.message for p in adapter.validate(PostContent(text), account)], "Outpost must refuse it while composing"
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{threads.url}/{VERSION}/{threads.user_id}/threads",
                                   headers={"Authorization": f"Bearer {threads.issue_token()}"},
                                   data={"media_type": "TEXT", "text": text})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100  # and the fake, like Threads
    assert adapter.validate(PostContent("a" * 488 + "\N{GRINNING FACE}" * 3), account) == []  # 500 exactly
