"""LinkedIn: every call Outpost makes, and every answer the fake gives, checked against LinkedIn's
official `linkedin-api-client` (PyPI) and, for the bodies it has no models for, LinkedIn's API
reference pages.

How the client is used: each of our calls is made again through the client's own RestliClient and
AuthClient, whose session is swapped for one that records the prepared request and answers with what
the fake answered. So the client itself decides the Rest.li 2.0 encoding of the path keys
(`build_rest_url`) and query (`param_encode`), the headers (`get_restli_request_headers`:
X-RestLi-Protocol-Version 2.0.0, X-RestLi-Method, LinkedIn-Version YYYYMM on /rest), the OAuth
form fields, and reads our fake's answers with its formatters (CreateResponseFormatter with
`get_created_entity_id` decoding `x-restli-id`, ActionResponseFormatter's `value`,
CollectionResponseFormatter's elements/paging, GetResponseFormatter, the token formatters).

X-RestLi-Method: the client sends it on every call, and the Posts API reference shows the author
finder with `X-RestLi-Method: FINDER`; Outpost used to send none, so it now sends what the client does.

The client has no models of the bodies, so these schemas are written from LinkedIn's reference
pages (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/..., read 2026-12-07
as stored copies, li-lms-2026-01 view; where only a page's opening was readable, its samples were
checked against public code that quotes them, e.g. the video post's media {"title", "id"}):
- "Posts API" (posts-api): Post schema (author, commentary, visibility, distribution, content,
  lifecycleState, isReshareDisabledByAuthor, ...); "Create an Image Post" puts `altText` with
  `id` in content.media, "Create a Video Post" writes content.media as `title` and `id` only, and
  MultiImage images are `id` + `altText`; the author finder `q=author&author=...&count&sortBy`.
  So a video's media carries no altText (Outpost used to send one).
- "little Text Format" (little-text-format): the reserved characters that `commentary` escapes.
- "Images API" (images-api): initializeUpload {owner} -> value {uploadUrlExpiresAt, uploadUrl, image}.
- "Videos API" (videos-api): initializeUpload {owner, fileSizeBytes, uploadCaptions, uploadThumbnail}
  -> value {video, uploadToken, uploadInstructions[{uploadUrl, firstByte, lastByte}], uploadUrlsExpireAt};
  finalizeUpload {video, uploadToken, uploadedPartIds}; GET /videos/{urn} status values.
- "Comments API" (comments-api): create {actor, object, message {text, attributes}, parentComment,
  content}. A comment's message is text plus offset-based attributes for mentions, not little text,
  so it is sent as written (Outpost used to escape it like commentary, leaving visible backslashes).
- Errors: {status, serviceErrorCode, code, message} as LinkedIn's API guide's error handling page
  shows them (the client reads no error body: it formats every answer alike).
Not checked by the client: the signed upload URLs' PUTs (storage, not Rest.li), `/v2/userinfo`
(OpenID Connect, whose answer is checked here against the OpenID sample), and the empty answer of a
void action (finalizeUpload), which the client's ActionResponseFormatter cannot read.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import requests
from linkedin_api.clients.auth.client import AuthClient
from linkedin_api.clients.auth.utils.oauth import generate_member_auth_url
from linkedin_api.clients.restli.client import RestliClient
from linkedin_api.clients.restli.utils.api import build_rest_url
from linkedin_api.clients.restli.utils.encoder import encode, param_encode
from requests.structures import CaseInsensitiveDict

from app.auth.linkedin import LinkedInSignIn, redirect_uri
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.platforms.linkedin import LinkedInAdapter, token_values
from tests.contracts.discovery import schema_problems
from tests.fakes.linkedin import RESERVED, FakeLinkedIn
from tests.fakes.server import Fault, Request, Response
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, browser, context, job

CLIENT = f"linkedin-api-client {version('linkedin-api-client')}"
CONTRACT = f"{CLIENT} (Rest.li 2.0 encoding, headers, answer formatters) and LinkedIn's Posts, Images, Videos, " \
           "Comments and little Text Format reference pages (read 2026-12-07)"
S, N, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object", "additionalProperties": {}}  # documented, not checked deeper
URNS = {"type": "array", "items": S}
DOC: dict[str, Any] = {"schemas": {
    # Posts API, "Post Schema" and its content types
    "Post": {"type": "object", "properties": {
        "id": S, "author": S, "commentary": S, "createdAt": N, "lastModifiedAt": N, "publishedAt": N,
        "visibility": {"type": "string", "enum": ["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"]},
        "distribution": {"type": "object", "properties": {
            "feedDistribution": {"type": "string", "enum": ["MAIN_FEED", "NONE"]}, "targetEntities":
                {"type": "array", "items": OBJ}, "thirdPartyDistributionChannels": URNS}},
        "content": {"$ref": "PostContent"},
        "lifecycleState": {"type": "string", "enum": ["DRAFT", "PUBLISHED", "PUBLISH_REQUESTED", "PUBLISH_FAILED"]},
        "lifecycleStateInfo": OBJ, "isReshareDisabledByAuthor": B, "contentLandingPage": S,
        "contentCallToActionLabel": S, "container": S, "reshareContext": OBJ, "adContext": OBJ}},
    "PostContent": {"type": "object", "properties": {
        "media": {"$ref": "ImageMedia"}, "multiImage": {"type": "object", "properties": {
            "images": {"type": "array", "items": {"type": "object", "properties": {"id": S, "altText": S}}}}},
        "article": OBJ, "poll": OBJ, "reference": OBJ, "celebration": OBJ, "carousel": OBJ}},
    "ImageMedia": {"type": "object", "properties": {"id": S, "title": S, "altText": S}},
    "VideoMedia": {"type": "object", "properties": {"id": S, "title": S}},  # "Create a Video Post"
    # Images API and Videos API
    "ImageInitialize": {"type": "object", "properties": {"initializeUploadRequest": {
        "type": "object", "properties": {"owner": S, "mediaLibrarySettings": OBJ}}}},
    "ImageUpload": {"type": "object", "properties": {"uploadUrlExpiresAt": N, "uploadUrl": S, "image": S}},
    "VideoInitialize": {"type": "object", "properties": {"initializeUploadRequest": {
        "type": "object", "properties": {"owner": S, "fileSizeBytes": N, "uploadCaptions": B, "uploadThumbnail": B,
                                         "mediaLibrarySettings": OBJ}}}},
    "VideoUpload": {"type": "object", "properties": {
        "video": S, "uploadToken": S, "uploadUrlsExpireAt": N, "captionsUploadUrl": S, "thumbnailUploadUrl": S,
        "uploadInstructions": {"type": "array", "items": {"type": "object", "properties": {
            "uploadUrl": S, "firstByte": N, "lastByte": N}}}}},
    "VideoFinalize": {"type": "object", "properties": {"finalizeUploadRequest": {
        "type": "object", "properties": {"video": S, "uploadToken": S, "uploadedPartIds": URNS}}}},
    "Video": {"type": "object", "properties": {
        "id": S, "owner": S, "status": {"type": "string", "enum": [
            "WAITING_UPLOAD", "PROCESSING", "AVAILABLE", "PROCESSING_FAILED"]},
        "processingFailureReason": S, "downloadUrl": S, "downloadUrlExpiresAt": N, "duration": N,
        "aspectRatioWidth": N, "aspectRatioHeight": N, "thumbnail": S, "captions": OBJ, "mediaLibraryStatus": S}},
    # Comments API, "Create a Comment"
    "CommentCreate": {"type": "object", "properties": {
        "actor": S, "object": S, "parentComment": S, "content": {"type": "array", "items": OBJ},
        "message": {"type": "object", "properties": {"text": S, "attributes": {"type": "array", "items": {
            "type": "object", "properties": {"start": N, "length": N, "value": OBJ}}}}}}},
    "Error": {"type": "object", "properties": {"status": N, "serviceErrorCode": N, "code": S, "message": S}},
    # OpenID Connect userinfo ("Sign In with LinkedIn using OpenID Connect", its sample answer)
    "UserInfo": {"type": "object", "properties": {
        "sub": S, "name": S, "given_name": S, "family_name": S, "picture": S, "email": S, "email_verified": B,
        "locale": OBJ}},
}}
# The token answer: what the client's token formatters read, plus token_type and id_token of the
# OpenID Connect page's sample answer.
TOKEN_FIELDS = {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope", "token_type",
                "id_token"}
VERSION_HEADER = re.compile(r"\d{6}(\.\d{2})?")  # the client's version_string: "YYYYMM" or "YYYYMM.RR"


class Recorder(requests.Session):
    """A session that records the client's prepared request and answers with the fake's answer."""

    def __init__(self, answer: Response) -> None:
        super().__init__()
        self.answer = answer
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        body = self.answer.body
        out = requests.Response()
        out.status_code = self.answer.status
        out._content = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else (
            b"" if body is None else json.dumps(body).encode()))
        out.headers = CaseInsensitiveDict(self.answer.headers)
        out.url = str(request.url)
        return out


def _restli_call(request: Request) -> tuple[str, Any] | None:
    """Our call as the client would make it: (Rest.li method, a function of a RestliClient)."""
    token, ver = request.bearer or "", request.headers.get("linkedin-version")
    common: dict[str, Any] = {"access_token": token, "version_string": ver}
    path, q = request.path.removeprefix("/rest"), {k: v[0] for k, v in request.query.items()}
    if request.method == "GET" and path == "/posts" and "q" in q:
        finder = q.pop("q")
        return "FINDER", lambda c: c.finder(resource_path="/posts", finder_name=finder, query_params=q, **common)
    if request.method == "POST" and path == "/posts":
        return "CREATE", lambda c: c.create(resource_path="/posts", entity=request.json(), **common)
    if request.method == "POST" and (m := re.fullmatch(r"/socialActions/([^/]+)/comments", path)):
        return "CREATE", lambda c: c.create(resource_path="/socialActions/{id}/comments", path_keys={"id": m[1]},
                                            entity=request.json(), **common)
    if request.method == "POST" and path in ("/images", "/videos") and "action" in q:
        name = q.pop("action")
        return "ACTION", lambda c: c.action(resource_path=path, action_name=name, action_params=request.json(),
                                            query_params=q or None, **common)
    if request.method == "GET" and (m := re.fullmatch(r"/videos/([^/]+)", path)):
        return "GET", lambda c: c.get(resource_path="/videos/{id}", path_keys={"id": m[1]}, **common)
    return None


def _pairs(query: str) -> list[str]:
    return sorted(p for p in query.split("&") if p)


def restli_problems(request: Request, response: Response) -> list[str]:
    """The request against what the client sends for the same call, and the answer as the client reads it."""
    where = f"{request.method} {request.path} "
    call = _restli_call(request)
    if call is None:
        return [where + "is not a call this contract test knows"]
    restli_method, make = call
    client = RestliClient()
    client.session = recorder = Recorder(response)
    out: list[str] = []
    try:
        formatted = make(client)
    except Exception as exc:  # the client could not read the fake's answer
        formatted = None
        if response.status < 400 and response.body not in (b"", None):
            out.append(f"{where}answer: the client could not read it ({type(exc).__name__}: {exc.__cause__ or exc})")
    [sent] = recorder.sent
    wire = urlsplit(str(sent.url))
    if wire.path.removeprefix("/rest") != request.raw_path.removeprefix("/rest"):
        out.append(f"{where}path {request.raw_path!r} is not Rest.li 2.0 encoded like {wire.path!r} (build_rest_url)")
    if _pairs(wire.query) != _pairs(request.raw_query):
        out.append(f"{where}query {request.raw_query!r} is not Rest.li 2.0 encoded like {wire.query!r} (param_encode)")
    for name in ("X-RestLi-Protocol-Version", "X-RestLi-Method", "LinkedIn-Version", "Authorization"):
        if request.headers.get(name.lower()) != sent.headers.get(name):
            out.append(f"{where}header {name}: {request.headers.get(name.lower())!r}, the client sends "
                       f"{sent.headers.get(name)!r}")
    if not VERSION_HEADER.fullmatch(request.headers.get("linkedin-version", "")):
        out.append(f"{where}LinkedIn-Version {request.headers.get('linkedin-version')!r} is not YYYYMM")
    if request.body and not request.headers.get("content-type", "").startswith("application/json"):
        out.append(f"{where}body is not sent as application/json")
    out += body_problems(request, restli_method, where)
    if response.status >= 400:
        return out + error_problems(response, where)
    out += answer_problems(request, response, restli_method, formatted, where)
    return out


def body_problems(request: Request, restli_method: str, where: str) -> list[str]:
    if not request.body:
        return []
    body = request.json()
    if request.path == "/rest/posts":
        media = ((body.get("content") or {}).get("media") or {})
        out = schema_problems(DOC, "Post", body, where + "body")
        if str(media.get("id", "")).startswith("urn:li:video:"):  # a video is media {title, id}
            out = [p for p in out if ".content.media." not in p] + schema_problems(
                DOC, "VideoMedia", media, where + "body.content.media")
        commentary = str(body.get("commentary", ""))
        unescaped = re.findall(r"(?<!\\)(?:\\\\)*([" + re.escape("".join(sorted(RESERVED - {"\\"}))) + "])",
                               commentary)
        if unescaped:  # little Text Format: LinkedIn cuts the commentary at the first unescaped one
            out.append(f"{where}body.commentary: {unescaped[0]!r} is not escaped as little text requires")
        return out
    if "/comments" in request.path:
        return schema_problems(DOC, "CommentCreate", body, where + "body")
    action = request.query.get("action", [""])[0]
    name = {("/rest/images", "initializeUpload"): "ImageInitialize",
            ("/rest/videos", "initializeUpload"): "VideoInitialize",
            ("/rest/videos", "finalizeUpload"): "VideoFinalize"}.get((request.path, action))
    return schema_problems(DOC, name, body, where + "body") if name else [f"{where}action {action!r} is unknown"]


def answer_problems(request: Request, response: Response, restli_method: str, formatted: Any,
                    where: str) -> list[str]:
    if formatted is None:
        return []
    out: list[str] = []
    if restli_method == "CREATE":
        if response.status != 201 or not formatted.entity_id:
            out.append(f"{where}a create answers 201 with x-restli-id (got {response.status}, {formatted.entity_id!r})")
        elif not str(formatted.decoded_entity_id).startswith("urn:li:"):
            out.append(f"{where}x-restli-id {formatted.entity_id!r} does not decode to a URN")
    elif restli_method == "ACTION":
        schema = "ImageUpload" if request.path == "/rest/images" else "VideoUpload"
        if not isinstance(formatted.value, dict):
            out.append(f"{where}answer has no 'value', which the client's ActionResponseFormatter reads")
        else:
            out += schema_problems(DOC, schema, formatted.value, where + "answer.value")
            out += [f"{where}answer.{k}: not read by ActionResponseFormatter" for k in response.body if k != "value"]
    elif restli_method == "FINDER":
        if not isinstance(formatted.elements, list):
            out.append(f"{where}answer has no 'elements' list, which CollectionResponseFormatter reads")
        for i, post in enumerate(formatted.elements or []):
            out += schema_problems(DOC, "Post", post, f"{where}answer.elements[{i}]")
        paging = response.body.get("paging") or {}
        out += [f"{where}answer.paging.{k}: not a paging field" for k in paging if k not in ("start", "count", "total",
                                                                                            "links")]
    elif restli_method == "GET":
        out += schema_problems(DOC, "Video", formatted.entity, where + "answer")
    return out


def error_problems(response: Response, where: str) -> list[str]:
    body = response.body
    if not isinstance(body, dict):
        return [f"{where}error answer {body!r} is not LinkedIn's error object"]
    out = schema_problems(DOC, "Error", body, where + "error")
    if body.get("status") != response.status or not body.get("message"):
        out.append(f"{where}error: status {body.get('status')!r} and a message must repeat HTTP {response.status}")
    return out


def oauth_problems(request: Request, response: Response) -> list[str]:
    where = f"{request.method} {request.path} "
    if request.path == "/oauth/v2/authorization":
        asked = {k: v[0] for k, v in request.query.items()}
        expected = generate_member_auth_url(client_id=asked.get("client_id", ""), redirect_url=asked.get(
            "redirect_uri", ""), scopes=asked.get("scope", "").split(" "), state=asked.get("state"))
        theirs = {k: v[0] for k, v in parse_qs(urlsplit(expected).query).items()}
        return [] if asked == theirs else [f"{where}asks {sorted(asked)}, the client asks {sorted(theirs)}"]
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    auth = AuthClient(form.get("client_id", ""), form.get("client_secret", ""), form.get("redirect_uri"))
    auth.session = recorder = Recorder(response)
    refresh = form.get("grant_type") == "refresh_token"
    formatted = auth.exchange_refresh_token_for_access_token(form.get("refresh_token", "")) if refresh else \
        auth.exchange_auth_code_for_access_token(form.get("code", ""))
    theirs = {k: v[0] for k, v in parse_qs(str(recorder.sent[0].body), keep_blank_values=True).items()}
    out = [] if form == theirs else [f"{where}form {sorted(form)} is not the client's {sorted(theirs)}"]
    if response.status == 200:  # read by RefreshTokenExchangeResponseFormatter / AccessToken3LResponseFormatter
        if not formatted.access_token or not isinstance(formatted.expires_in, int):
            out.append(f"{where}answer lacks access_token/expires_in as the client reads them")
        out += [f"{where}answer.{k}: not a token field" for k in response.body if k not in TOKEN_FIELDS]
    elif not {"error", "error_description"} <= set(response.body):
        out.append(f"{where}error answer is not OAuth 2.0's error/error_description")
    return out


def check_exchange(request: Request, response: Response) -> list[str]:
    if request.path.startswith("/oauth/v2/"):
        return oauth_problems(request, response)
    if request.path == "/v2/userinfo":
        return schema_problems(DOC, "UserInfo", response.body, "GET /v2/userinfo answer")
    if request.method == "PUT" and request.path.startswith("/upload/"):
        return []  # a signed storage URL from initializeUpload, not a Rest.li resource
    return restli_problems(request, response)


# ---- driving the real adapter against the fake ---------------------------------------------
@pytest.fixture
def linkedin_fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
async def adapter(tmp_path: Path, linkedin_fake: FakeLinkedIn) -> AsyncIterator[LinkedInAdapter]:
    a = LinkedInAdapter(context(tmp_path, api_base={"linkedin": linkedin_fake.url}), tuning=FAST)
    yield a
    await a.aclose()


def _account(fake: FakeLinkedIn, account_id: int, *, expires_in: float | None = None) -> AccountInfo:
    KeyringSecrets().put(account_id, token_values(fake.issue_tokens(expires_in=expires_in), datetime.now(UTC),
                                                  fake.client_id, fake.client_secret))
    return AccountInfo(account_id, Platform.LINKEDIN, fake.name_, settings={"author": fake.author})


async def _sign_in(fake: FakeLinkedIn) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    fake.registered_redirects = [redirect_uri(port)]
    sign_in = LinkedInSignIn(fake.client_id, fake.client_secret, port=port, api_base=fake.url, auth_base=fake.url,
                             tuning=FAST, timeout=5)
    open_url, visits = browser()
    await sign_in.run(open_url)
    await visits[0]


async def test_every_call_of_every_kind_of_post_matches_linkedin_s_client_and_reference(
        adapter, linkedin_fake, tmp_path) -> None:
    await _sign_in(linkedin_fake)
    account = _account(linkedin_fake, 61)
    pictures = []
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(PNG_1PX)
        pictures.append(MediaItem(str(tmp_path / f"{i}.png"), alt_text=f"picture {i}"))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\3" * (5 * 1024 * 1024))  # two parts of the fake's 4 MB
    comment = "Details (below) #soon @you"
    contents = [
        PostContent("Launch (beta) [v2] #news_today *bold* a|b {x} <y> ~z @me back\\slash", first_comment=comment),
        PostContent("One picture", media=(pictures[0],)),
        PostContent("Three pictures", media=tuple(pictures)),
        PostContent("A clip", media=(replace(MediaItem(str(clip), kind=MediaKind.VIDEO), alt_text="a potter"),)),
    ]
    for n, content in enumerate(contents):
        await adapter.publish(job(account, content, key=f"k{n}", attempt_id=n + 1), MemoryJournal())
    # the finder: once refused (no r_member_social), once after a lost answer
    lost = job(account, PostContent("lost (answer)"), key="k8", attempt_id=8,
               checkpoints={"post_sent_at": datetime.now(UTC).isoformat()})
    await adapter.reconcile(lost)
    linkedin_fake.can_read_posts = True
    linkedin_fake.inject(Fault("/rest/posts", kind="reset_after"))
    journal = MemoryJournal()
    with pytest.raises(Exception):  # noqa: B017 (an unknown outcome)
        await adapter.publish(replace(lost, checkpoints={}), journal)
    found = await adapter.reconcile(replace(lost, checkpoints=journal.steps))
    # a partner's token renewal
    linkedin_fake.partner = True
    await adapter.refresh_credentials(_account(linkedin_fake, 62, expires_in=86400))

    exchanges = list(linkedin_fake.exchanges)
    seen = {(r.method, re.sub(r"urn(%3A|:)li.*", "{urn}", r.raw_path), r.query.get("action", [""])[0])
            for r, _ in exchanges}
    assert {("POST", "/rest/posts", ""), ("GET", "/rest/posts", ""), ("POST", "/rest/images", "initializeUpload"),
            ("POST", "/rest/videos", "initializeUpload"), ("POST", "/rest/videos", "finalizeUpload"),
            ("GET", "/rest/videos/{urn}", ""), ("POST", "/rest/socialActions/{urn}", ""),
            ("POST", "/oauth/v2/accessToken", ""), ("GET", "/oauth/v2/authorization", "")} <= seen
    problems = [p for request, response in exchanges for p in check_exchange(request, response)]
    assert problems == [], f"against {CONTRACT}:\n" + "\n".join(problems)
    assert found.external_id == linkedin_fake.published()[-1]["id"]
    assert [c["text"] for c in linkedin_fake.comments] == [comment]  # as written: no little-text escapes
    assert linkedin_fake.published()[3]["content"] == {"media": {"id": linkedin_fake.published()[3]["media"][0]}}


def _request(method: str, raw: str, headers: dict[str, str], body: Any = None) -> Request:
    url = urlsplit(raw)
    return Request(method, unquote(url.path), parse_qs(url.query), headers,
                   json.dumps(body).encode() if body is not None else b"", url.path, url.query)


def test_a_wrong_field_name_is_caught() -> None:
    """And a wrong encoding, a missing Rest.li header, and unescaped little text."""
    author = "urn:li:person:abc"
    headers = {"authorization": "Bearer t", "linkedin-version": "202610", "x-restli-protocol-version": "2.0.0",
               "x-restli-method": "FINDER"}
    page = Response(200, {"elements": [], "paging": {"start": 0, "count": 10}})
    right = f"/rest/posts?q=author&author={quote(author, safe='')}&count=10&sortBy=LAST_MODIFIED"
    assert restli_problems(_request("GET", right, headers), page) == []
    raw_colons = restli_problems(_request("GET", right.replace(quote(author, safe=""), author), headers), page)
    assert any("is not Rest.li 2.0 encoded like" in p and encode(author) in p for p in raw_colons), raw_colons
    assert param_encode({"author": author}) == "author=urn%3Ali%3Aperson%3Aabc"  # what the client sends
    no_method = restli_problems(_request("GET", right, {**headers, "x-restli-method": ""}), page)
    assert any("X-RestLi-Method" in p and "'FINDER'" in p for p in no_method), no_method
    video = "urn:li:video:1"
    assert build_rest_url("/videos/{id}", {"id": video}, "202610").endswith("/videos/urn%3Ali%3Avideo%3A1")
    post = {"author": author, "commentary": "hi", "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
            "content": {"media": {"id": video, "altText": "a potter"}}}
    created = Response(201, b"", {"x-restli-id": "urn:li:share:1"})
    found = restli_problems(_request("POST", "/rest/posts", {**headers, "x-restli-method": "CREATE",
                                                             "content-type": "application/json"}, post), created)
    assert found == ["POST /rest/posts body.content.media.altText: not a property in the document"], found
    misspelt = {**post, "content": {"media": {"id": "urn:li:image:1"}}, "comentary": "hi"}
    found = restli_problems(_request("POST", "/rest/posts", {**headers, "x-restli-method": "CREATE",
                                                             "content-type": "application/json"}, misspelt), created)
    assert found == ["POST /rest/posts body.comentary: not a property in the document"], found
    unescaped = {**post, "content": {}, "commentary": "Launch (beta)"}
    found = restli_problems(_request("POST", "/rest/posts", {**headers, "x-restli-method": "CREATE",
                                                             "content-type": "application/json"}, unescaped), created)
    assert found == ["POST /rest/posts body.commentary: '(' is not escaped as little text requires"], found
