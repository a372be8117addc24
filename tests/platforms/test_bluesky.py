"""The Bluesky adapter against the fake PDS: real HTTP on 127.0.0.1, counted by the fake."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.auth.bluesky import SignInRefused, sign_in
from app.auth.secrets import KeyringSecrets
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.bluesky import BlueskyAdapter, new_tid
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, MemoryJournal, context, job, png


@pytest.fixture
async def account(bluesky_fake: FakeBluesky) -> AccountInfo:
    connected = await sign_in("alice.test", bluesky_fake.app_password, service=bluesky_fake.url, tuning=FAST)
    KeyringSecrets().put(11, connected.secrets)
    return AccountInfo(11, Platform.BLUESKY, connected.handle, server=connected.server, settings=connected.settings)


@pytest.fixture
async def adapter(tmp_path: Path):  # type: ignore[no-untyped-def]
    a = BlueskyAdapter(context(tmp_path), tuning=FAST)
    yield a
    await a.aclose()


def _image(tmp_path: Path, name: str, size: int | None = None) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX if size is None else PNG_1PX + b"\0" * (size - len(PNG_1PX)))
    return MediaItem(str(path), alt_text=f"alt of {name}", mime_type="image/png", width=1, height=1)


async def test_signing_in_keeps_the_handle_did_and_pds_with_the_account(bluesky_fake: FakeBluesky) -> None:
    connected = await sign_in("@alice.test", bluesky_fake.app_password, service=bluesky_fake.url, tuning=FAST)
    assert (connected.handle, connected.server) == ("alice.test", bluesky_fake.url)
    assert connected.settings == {"did": bluesky_fake.did}
    assert set(connected.secrets) == {"app_password", "access_jwt", "refresh_jwt"}


async def test_a_wrong_app_password_says_where_to_make_one(bluesky_fake: FakeBluesky) -> None:
    with pytest.raises(SignInRefused) as refused:
        await sign_in("alice.test", "wrong-pass-word-0000", service=bluesky_fake.url, tuning=FAST)
    assert "App passwords" in str(refused.value)


async def test_a_text_post_is_created_at_the_journaled_record_key(adapter, account, bluesky_fake) -> None:
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("Hello Bluesky")), journal)
    [post] = bluesky_fake.published()
    assert journal.history[0] == ("rkey", post["rkey"])  # journaled before the create
    assert result.external_id == post["uri"]
    assert result.url == f"https://bsky.app/profile/alice.test/post/{post['rkey']}"
    assert post["value"]["text"] == "Hello Bluesky"


async def test_links_mentions_and_hashtags_get_byte_offset_facets(adapter, account, bluesky_fake) -> None:
    text = "🎉 Hi @bob.test, see https://example.com/a?b=1 #outpost. #123 @nobody.test"
    await adapter.publish(job(account, PostContent(text)), MemoryJournal())
    [post] = bluesky_fake.published()
    data = text.encode("utf-8")
    found = {}
    for facet in post["value"]["facets"]:
        feature = facet["features"][0]
        found[data[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode()] = feature
    assert found["@bob.test"] == {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob00000000000000000000"}
    assert found["https://example.com/a?b=1"]["uri"] == "https://example.com/a?b=1"
    assert found["#outpost"] == {"$type": "app.bsky.richtext.facet#tag", "tag": "outpost"}
    assert set(found) == {"@bob.test", "https://example.com/a?b=1", "#outpost"}  # no #123, no unknown handle


async def test_images_are_uploaded_as_blobs_with_alt_text(adapter, account, bluesky_fake, tmp_path) -> None:
    media = (_image(tmp_path, "a.png"), _image(tmp_path, "b.png"))
    await adapter.publish(job(account, PostContent("Two pictures", media=media)), MemoryJournal())
    [post] = bluesky_fake.published()
    images = post["value"]["embed"]["images"]
    assert [i["alt"] for i in images] == ["alt of a.png", "alt of b.png"]
    assert all(i["aspectRatio"] == {"width": 1, "height": 1} for i in images)
    assert bluesky_fake.calls_to("/xrpc/com.atproto.repo.uploadBlob") == 2


async def test_an_image_over_the_size_limit_fails_without_posting(adapter, account, bluesky_fake, tmp_path) -> None:
    big = _image(tmp_path, "big.png", size=2_000_001)
    problems = adapter.validate(PostContent("big", media=(big,)), account)
    assert problems == []  # size unknown to the composer until read; the publish step refuses it
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("big", media=(big,))), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT
    assert bluesky_fake.published() == []


def test_the_limit_is_300_graphemes(adapter, account) -> None:
    accented = "e\u0301"  # one grapheme, two code points
    assert adapter.validate(PostContent(accented * 300), account) == []
    assert any("300" in p.message for p in adapter.validate(PostContent(accented * 301), account))
    assert any("3,000 bytes" in p.message for p in adapter.validate(PostContent("👨‍👩‍👧" * 200), account))


async def test_the_first_comment_replies_with_root_and_parent_refs(adapter, account, bluesky_fake) -> None:
    content = PostContent("Root", thread=("Second",), first_comment="Comment")
    await adapter.publish(job(account, content), MemoryJournal())
    root, second, comment = bluesky_fake.published()
    ref = {"uri": root["uri"], "cid": root["cid"]}
    assert second["value"]["reply"] == {"root": ref, "parent": ref}
    assert comment["value"]["reply"] == {"root": ref, "parent": ref}
    assert comment["value"]["text"] == "Comment"


async def test_an_expired_access_token_is_refreshed_once_and_stored(adapter, account, bluesky_fake) -> None:
    before = KeyringSecrets().get(account.id)
    bluesky_fake.expire_access_tokens()
    await adapter.publish(job(account, PostContent("after expiry")), MemoryJournal())
    assert bluesky_fake.session_calls["refresh"] == 1
    assert len(bluesky_fake.published()) == 1
    after = KeyringSecrets().get(account.id)
    assert before and after and after["access_jwt"] != before["access_jwt"]


async def test_concurrent_callers_share_one_refresh(adapter, account, bluesky_fake) -> None:
    bluesky_fake.expire_access_tokens()
    await asyncio.gather(*(adapter.publish(job(account, PostContent(f"post {i}")), MemoryJournal()) for i in range(3)))
    assert bluesky_fake.session_calls["refresh"] == 1
    assert len(bluesky_fake.published()) == 3


async def test_a_dead_refresh_token_signs_in_again_with_the_app_password(adapter, account, bluesky_fake) -> None:
    bluesky_fake.expire_access_tokens()
    bluesky_fake.refresh_tokens.clear()
    await adapter.publish(job(account, PostContent("signed in again")), MemoryJournal())
    assert bluesky_fake.session_calls["create"] == 2  # the fixture's sign-in, then this one
    assert len(bluesky_fake.published()) == 1


async def test_a_revoked_app_password_asks_for_reconnection(adapter, account, bluesky_fake) -> None:
    bluesky_fake.expire_access_tokens()
    bluesky_fake.refresh_tokens.clear()
    bluesky_fake.app_password = "zzzz-zzzz-zzzz-zzzz"
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("nope")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH
    assert bluesky_fake.published() == []


async def test_a_lost_answer_is_unknown_then_found_by_record_key(adapter, account, bluesky_fake) -> None:
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="hang_after", hang_seconds=5))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("maybe")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    outcome = await adapter.reconcile(job(account, PostContent("maybe"), checkpoints=journal.steps))
    assert outcome.status is ReconcileStatus.PUBLISHED
    assert outcome.external_id == bluesky_fake.published()[0]["uri"]
    assert len(bluesky_fake.published()) == 1


async def test_a_request_that_never_arrived_reconciles_as_not_published(adapter, account, bluesky_fake) -> None:
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", kind="reset"))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("lost")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN  # the client cannot tell; reconciliation can
    outcome = await adapter.reconcile(job(account, PostContent("lost"), checkpoints=journal.steps))
    assert outcome.status is ReconcileStatus.NOT_PUBLISHED
    await adapter.publish(job(account, PostContent("lost"), checkpoints=journal.steps), MemoryJournal())
    [post] = bluesky_fake.published()
    assert post["rkey"] == journal.steps["rkey"]  # the retry reuses the key: a duplicate is impossible


async def test_publishing_again_at_an_existing_key_returns_that_post(adapter, account, bluesky_fake) -> None:
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("once")), journal)
    again = await adapter.publish(job(account, PostContent("once"), checkpoints=journal.steps), MemoryJournal())
    assert len(bluesky_fake.published()) == 1
    assert again.external_id == bluesky_fake.published()[0]["uri"]


async def test_a_server_error_on_create_is_unknown(adapter, account, bluesky_fake) -> None:
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", status=502))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("502")), MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN


async def test_429_honours_retry_after(adapter, account, bluesky_fake) -> None:
    reset = str(int(time.time()) + 600)
    bluesky_fake.inject(Fault("/xrpc/com.atproto.repo.createRecord", status=429,
                              headers={"Retry-After": "30", "RateLimit-Reset": reset}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("slow down")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 30


def test_record_keys_are_sortable_tids() -> None:
    earlier, later = new_tid(1_700_000_000_000_000), new_tid(1_700_000_000_000_001 + 2000)
    assert len(earlier) == 13 and earlier < later


async def test_a_video_is_uploaded_as_a_blob_and_embedded(adapter, account, bluesky_fake, tmp_path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\0" * 1000)
    media = MediaItem(str(clip), kind=MediaKind.VIDEO, mime_type="video/mp4", alt_text="a clip")
    await adapter.publish(job(account, PostContent("Watch", media=(media,))), MemoryJournal())
    [post] = bluesky_fake.published()
    embed = post["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == "a clip"
    assert bluesky_fake.blobs[embed["video"]["ref"]["$link"]]["mimeType"] == "video/mp4"


async def test_an_image_carries_its_aspect_ratio_read_from_the_file(adapter, account, bluesky_fake, tmp_path) -> None:
    # As the CLI and the editor attach it: a path, no pixel size known to Outpost beforehand.
    wide = tmp_path / "wide.png"
    wide.write_bytes(png(1200, 675))
    await adapter.publish(job(account, PostContent("Wide", media=(MediaItem(str(wide), alt_text="a view"),))),
                          MemoryJournal())
    [post] = bluesky_fake.published()
    assert post["value"]["embed"]["images"][0]["aspectRatio"] == {"width": 1200, "height": 675}


async def test_an_image_whose_size_cannot_be_read_goes_without_an_aspect_ratio(adapter, account, bluesky_fake,
                                                                               tmp_path) -> None:
    odd = tmp_path / "odd.png"
    odd.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)  # a cut-off header
    await adapter.publish(job(account, PostContent("Odd", media=(MediaItem(str(odd), mime_type="image/png"),))),
                          MemoryJournal())
    [post] = bluesky_fake.published()
    assert "aspectRatio" not in post["value"]["embed"]["images"][0]


async def test_every_record_of_a_post_carries_the_post_language(account, bluesky_fake, tmp_path) -> None:
    adapter = BlueskyAdapter(context(tmp_path, post_language="de_DE.UTF-8"), tuning=FAST)
    try:
        await adapter.publish(job(account, PostContent("Hallo", thread=("Zwei",), first_comment="Drei")),
                              MemoryJournal())
    finally:
        await adapter.aclose()
    assert [r["value"]["langs"] for r in bluesky_fake.published()] == [["de-DE"]] * 3


async def test_the_account_language_wins_and_no_language_means_no_langs(account, bluesky_fake, tmp_path) -> None:
    own = AccountInfo(account.id, Platform.BLUESKY, account.handle, server=account.server,
                      settings={**account.settings, "language": "ja, en"})
    adapter = BlueskyAdapter(context(tmp_path, post_language="de"), tuning=FAST)
    try:
        await adapter.publish(job(own, PostContent("こんにちは")), MemoryJournal())
        await adapter.publish(job(account, PostContent("Hallo"), key="k2", attempt_id=2), MemoryJournal())
    finally:
        await adapter.aclose()
    first, second = bluesky_fake.published()
    assert first["value"]["langs"] == ["ja", "en"] and second["value"]["langs"] == ["de"]
    silent = BlueskyAdapter(context(tmp_path, post_language="C"), tuning=FAST)  # a POSIX locale names no language
    try:
        await silent.publish(job(account, PostContent("plain"), key="k3", attempt_id=3), MemoryJournal())
    finally:
        await silent.aclose()
    assert "langs" not in bluesky_fake.published()[2]["value"]


def test_the_first_comment_over_the_limit_says_by_how_much(adapter, account) -> None:
    [problem] = adapter.validate(PostContent("ok", first_comment="x" * 312), account)
    assert problem.field == "first_comment"
    assert "312" in problem.message and "300" in problem.message and "by 12" in problem.message
