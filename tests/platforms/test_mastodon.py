"""The Mastodon adapter against the fake server: real HTTP on 127.0.0.1, counted by the fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.auth.mastodon import MastodonSignIn, account_from_token
from app.auth.secrets import KeyringSecrets
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.mastodon import MastodonAdapter
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, Clock, MemoryJournal, browser, context, job


@pytest.fixture
def account(mastodon_fake: FakeMastodon) -> AccountInfo:
    token = mastodon_fake.issue_token()
    KeyringSecrets().put(7, {"access_token": token})
    return AccountInfo(id=7, platform=Platform.MASTODON, handle="@alice@fake", server=mastodon_fake.url)


@pytest.fixture
async def adapter(tmp_path: Path):  # type: ignore[no-untyped-def]
    a = MastodonAdapter(context(tmp_path), tuning=FAST)
    yield a
    await a.aclose()


@pytest.fixture
def image(tmp_path: Path) -> MediaItem:
    path = tmp_path / "photo.png"
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text="A single pixel", mime_type="image/png")


async def test_a_text_post_is_published_once_with_its_url(adapter, account, mastodon_fake) -> None:
    result = await adapter.publish(job(account, PostContent("Hello from Outpost")), MemoryJournal())
    statuses = mastodon_fake.published()
    assert [s["text"] for s in statuses] == ["Hello from Outpost"]
    assert result.external_id == statuses[0]["id"]
    assert result.url.endswith(f"/@alice/{result.external_id}")


async def test_an_image_is_uploaded_with_its_alt_text_and_attached(adapter, account, mastodon_fake, image) -> None:
    journal = MemoryJournal()
    await adapter.publish(job(account, PostContent("Look", media=(image,))), journal)
    [status] = mastodon_fake.published()
    [media_id] = status["media_ids"]
    assert mastodon_fake.media[media_id]["description"] == "A single pixel"
    assert journal.steps["media_ids"] == media_id


async def test_media_still_processing_is_polled_until_ready(adapter, account, mastodon_fake, image) -> None:
    mastodon_fake.media_processing_seconds = 0.15
    await adapter.publish(job(account, PostContent("Slow media", media=(image, image))), MemoryJournal())
    assert len(mastodon_fake.published()[0]["media_ids"]) == 2
    assert mastodon_fake.calls_to(r"/api/v1/media/\d+", "GET") >= 2


async def test_media_journaled_by_an_earlier_attempt_is_reused(adapter, account, mastodon_fake, image) -> None:
    first = MemoryJournal()
    mastodon_fake.inject(Fault(r"/api/v1/statuses", status=503))
    with pytest.raises(PublishError):
        await adapter.publish(job(account, PostContent("Retry me", media=(image,))), first)
    await adapter.publish(job(account, PostContent("Retry me", media=(image,)), key="key-2",
                              checkpoints=first.steps), MemoryJournal())
    assert mastodon_fake.calls_to("/api/v2/media", "POST") == 1
    assert len(mastodon_fake.published()) == 1


async def test_thread_parts_and_the_first_comment_are_replies(adapter, account, mastodon_fake) -> None:
    content = PostContent("Main", thread=("Part two",), first_comment="Link in comment")
    result = await adapter.publish(job(account, content), MemoryJournal())
    main, part, comment = mastodon_fake.published()
    assert part["in_reply_to_id"] == main["id"] == result.external_id
    assert comment["in_reply_to_id"] == main["id"]
    assert comment["text"] == "Link in comment"
    assert result.warnings == ()


async def test_a_read_timeout_after_the_post_was_created_is_unknown_then_reconciled_without_duplicate(
    adapter, account, mastodon_fake,
) -> None:
    mastodon_fake.inject(Fault(r"/api/v1/statuses", kind="hang_after", hang_seconds=5))
    journal = MemoryJournal()
    the_job = job(account, PostContent("Once only"))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(the_job, journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    assert len(mastodon_fake.published()) == 1  # the fake did create it
    later = job(account, PostContent("Once only"), checkpoints=journal.steps)
    outcome = await adapter.reconcile(later)
    assert outcome.status is ReconcileStatus.PUBLISHED
    assert outcome.external_id == mastodon_fake.published()[0]["id"]
    assert len(mastodon_fake.published()) == 1


async def test_a_connection_reset_after_creation_is_unknown(adapter, account, mastodon_fake) -> None:
    mastodon_fake.inject(Fault(r"/api/v1/statuses", kind="reset_after"))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("Reset")), MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN


async def test_a_server_error_on_create_is_unknown_and_the_replay_creates_exactly_one(adapter, account, mastodon_fake) -> None:
    mastodon_fake.inject(Fault(r"/api/v1/statuses", status=503))
    journal = MemoryJournal()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("After 503")), journal)
    assert caught.value.kind is ErrorKind.UNKNOWN
    assert mastodon_fake.published() == []
    outcome = await adapter.reconcile(job(account, PostContent("After 503"), checkpoints=journal.steps))
    assert outcome.status is ReconcileStatus.PUBLISHED
    assert len(mastodon_fake.published()) == 1


async def test_nothing_sent_means_not_published_on_reconcile(adapter, account) -> None:
    outcome = await adapter.reconcile(job(account, PostContent("never sent")))
    assert outcome.status is ReconcileStatus.NOT_PUBLISHED


async def test_an_unreachable_server_is_transient(tmp_path, account) -> None:
    dead = FakeMastodon()
    dead.start()
    dead.stop()  # the port is now closed: connection refused
    adapter = MastodonAdapter(context(tmp_path, api_base={"mastodon": dead.url}), tuning=FAST)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("nobody home")), MemoryJournal())
    await adapter.aclose()
    assert caught.value.kind is ErrorKind.TRANSIENT


async def test_429_waits_until_the_iso_reset(adapter, account, mastodon_fake) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=120)).isoformat().replace("+00:00", "Z")
    mastodon_fake.inject(Fault(r"/api/v1/statuses", status=429, headers={"X-RateLimit-Reset": reset}))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("Too fast")), MemoryJournal())
    assert caught.value.kind is ErrorKind.RATE_LIMIT
    assert caught.value.retry_after is not None and 110 < caught.value.retry_after <= 120


async def test_a_revoked_token_asks_for_reconnection(adapter, account, mastodon_fake) -> None:
    for token in mastodon_fake.tokens.values():
        token["revoked"] = True
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("hi")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH
    assert "Reconnect" in caught.value.message


async def test_a_validation_refusal_is_permanent_with_the_servers_words(adapter, account, mastodon_fake) -> None:
    mastodon_fake.max_characters = 5
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("far too long")), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT
    assert "character limit of 5" in caught.value.message


async def test_a_post_due_in_an_hour_is_handed_to_mastodons_scheduler(tmp_path, account, mastodon_fake) -> None:
    clock = Clock()
    adapter = MastodonAdapter(context(tmp_path, clock=clock), tuning=FAST)
    due = clock.now + timedelta(hours=1)
    result = await adapter.publish(job(account, PostContent("Later", first_comment="c"), native_schedule_at=due),
                                   MemoryJournal())
    await adapter.aclose()
    assert result.natively_scheduled
    assert mastodon_fake.published() == []
    [scheduled] = mastodon_fake.scheduled
    assert datetime.fromisoformat(scheduled["scheduled_at"].replace("Z", "+00:00")) == due.replace(microsecond=due.microsecond)
    assert "first comment" in result.warnings[0]


async def test_a_post_due_in_two_minutes_is_published_directly(tmp_path, account, mastodon_fake) -> None:
    clock = Clock()
    adapter = MastodonAdapter(context(tmp_path, clock=clock), tuning=FAST)
    result = await adapter.publish(job(account, PostContent("Soon"), native_schedule_at=clock.now + timedelta(minutes=2)),
                                   MemoryJournal())
    await adapter.aclose()
    assert not result.natively_scheduled
    assert len(mastodon_fake.published()) == 1


async def test_a_refused_handoff_stays_with_outposts_scheduler(tmp_path, account, mastodon_fake) -> None:
    mastodon_fake.scheduled_daily_limit = 0
    clock = Clock()
    adapter = MastodonAdapter(context(tmp_path, clock=clock), tuning=FAST)
    due = clock.now + timedelta(hours=2)
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("Later"), native_schedule_at=due), MemoryJournal())
    await adapter.aclose()
    assert caught.value.code == "native_schedule_refused"
    assert caught.value.retry_after == pytest.approx(7200, abs=1)
    assert "exceeded the limit of 0 scheduled posts" in caught.value.message
    assert mastodon_fake.published() == [] and mastodon_fake.scheduled == []


async def test_server_limits_become_the_accounts_rules(mastodon_fake) -> None:
    mastodon_fake.max_characters = 1000
    mastodon_fake.max_media_attachments = 6
    connected = await account_from_token(mastodon_fake.url, mastodon_fake.issue_token(), tuning=FAST)
    info = AccountInfo(1, Platform.MASTODON, connected.handle, server=connected.server, settings=connected.settings)
    rules = MastodonAdapter(context(Path("."))).rules(info)
    assert (rules.text_limit, rules.max_media) == (1000, 6)
    problems = MastodonAdapter(context(Path("."))).validate(PostContent("x" * 1001), info)
    assert any("1000" in p.message for p in problems)
    assert connected.handle == "@alice@127.0.0.1"


async def test_connecting_registers_the_app_and_signs_in_through_the_loopback(mastodon_fake) -> None:
    open_url, visits = browser()
    sign_in = MastodonSignIn(mastodon_fake.url, tuning=FAST, timeout=5)
    connected = await sign_in.run(open_url)
    page = await visits[0]
    assert page.status_code == 200 and "connected" in page.text
    [app] = mastodon_fake.apps.values()
    assert app["redirect_uris"][0].startswith("http://127.0.0.1:")
    assert mastodon_fake.token_requests[0]["code_verifier"]  # PKCE checked by the fake's token endpoint
    assert "code_challenge_method=S256" in sign_in.authorization_url
    assert connected.secrets["access_token"] in mastodon_fake.tokens
    assert connected.display_name == "Alice Example"
    assert not sign_in.listener.is_listening


async def test_an_edited_attachment_is_uploaded_again(adapter, account, mastodon_fake, image, tmp_path) -> None:
    first = MemoryJournal()
    mastodon_fake.inject(Fault(r"/api/v1/statuses", status=422, body={"error": "Validation failed: nope"}))
    with pytest.raises(PublishError):
        await adapter.publish(job(account, PostContent("pic", media=(image,))), first)
    other = tmp_path / "other.png"
    other.write_bytes(PNG_1PX)
    edited = MediaItem(str(other), alt_text="Another pixel", mime_type="image/png")
    await adapter.publish(job(account, PostContent("pic", media=(edited,)), key="key-2", checkpoints=first.steps),
                          MemoryJournal())
    [status] = mastodon_fake.published()
    assert mastodon_fake.media[status["media_ids"][0]]["description"] == "Another pixel"
