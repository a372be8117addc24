"""The LinkedIn adapter against the fake LinkedIn API: sign-in, every content type, little text,
the 60-day token, and faults."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.auth.linkedin import LinkedInSignIn, redirect_uri
from app.auth.secrets import KeyringSecrets
from app.core.errors import PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem, MediaKind, Platform, PostContent
from app.platforms.base import ReconcileStatus
from app.platforms.linkedin import LinkedInAdapter, escape_little_text, token_values
from tests.fakes.linkedin import FakeLinkedIn, stored_commentary
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX, Clock, MemoryJournal, browser, context, job


@pytest.fixture
def linkedin_fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as fake:
        yield fake


def _account(fake: FakeLinkedIn, *, expires_in: float | None = None) -> AccountInfo:
    KeyringSecrets().put(51, token_values(fake.issue_tokens(expires_in=expires_in), datetime.now(UTC),
                                          fake.client_id, fake.client_secret))
    return AccountInfo(51, Platform.LINKEDIN, fake.name_, settings={"author": fake.author})


@pytest.fixture
def account(linkedin_fake: FakeLinkedIn) -> AccountInfo:
    return _account(linkedin_fake)


@pytest.fixture
async def adapter(tmp_path: Path, linkedin_fake: FakeLinkedIn) -> AsyncIterator[LinkedInAdapter]:
    a = LinkedInAdapter(context(tmp_path, api_base={"linkedin": linkedin_fake.url}), tuning=FAST)
    yield a
    await a.aclose()


def _png(tmp_path: Path, name: str = "p.png") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(PNG_1PX)
    return MediaItem(str(path), alt_text=f"alt {name}")


def _video(tmp_path: Path, size: int = 9 * 1024 * 1024) -> MediaItem:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\3" * size)
    return MediaItem(str(path), kind=MediaKind.VIDEO)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sign_in_with_the_client_secret_on_the_registered_port(linkedin_fake) -> None:
    port = _free_port()
    linkedin_fake.registered_redirects = [redirect_uri(port)]
    sign_in = LinkedInSignIn(linkedin_fake.client_id, linkedin_fake.client_secret, port=port, api_base=linkedin_fake.url,
                             auth_base=linkedin_fake.url, tuning=FAST, timeout=5)
    open_url, visits = browser()
    connected = await sign_in.run(open_url)
    assert (await visits[0]).status_code == 200
    assert connected.settings["author"] == linkedin_fake.author and connected.display_name == linkedin_fake.name_
    expires = datetime.fromisoformat(connected.secrets["expires_at"])
    assert timedelta(days=59) < expires - datetime.now(UTC) <= timedelta(days=60)
    assert "refresh_token" not in connected.secrets


def test_little_text_escaping_keeps_every_character() -> None:
    text = "Launch (beta) [v2] #news_today *bold* a|b {x} <y> ~z @me back\\slash"
    assert stored_commentary(text) == "Launch "  # what LinkedIn would keep without escaping
    assert stored_commentary(escape_little_text(text)) == escape_little_text(text)


async def test_a_text_post_arrives_whole_and_its_urn_comes_from_the_header(adapter, account, linkedin_fake) -> None:
    text = "Big news (finally) [really] #launch_day *yay*"
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent(text, first_comment="Details (below)")), journal)
    [post] = linkedin_fake.published()
    assert post["commentary"] == escape_little_text(text) and post["kind"] == "text"
    assert result.external_id == post["id"] == journal.steps["post_urn"]
    assert result.url == f"https://www.linkedin.com/feed/update/{post['id']}/"
    # The Comments API's message is plain text (mentions are offset attributes): no little-text escapes
    assert linkedin_fake.comments == [{"object": post["id"], "actor": linkedin_fake.author,
                                       "text": "Details (below)"}]


async def test_one_image_and_a_multi_image_post(adapter, account, linkedin_fake, tmp_path) -> None:
    await adapter.publish(job(account, PostContent("one", media=(_png(tmp_path),))), MemoryJournal())
    three = tuple(_png(tmp_path, f"{i}.png") for i in range(3))
    await adapter.publish(job(account, PostContent("three", media=three), attempt_id=2), MemoryJournal())
    single, multi = linkedin_fake.published()
    assert single["kind"] == "media" and multi["kind"] == "multiImage" and len(multi["media"]) == 3
    assert all(linkedin_fake.images[u.rsplit(":", 1)[1]]["data"] == PNG_1PX for u in single["media"] + multi["media"])


async def test_a_video_goes_up_in_parts_with_etags_and_waits_until_available(adapter, account, linkedin_fake,
                                                                             tmp_path) -> None:
    linkedin_fake.video_processing_seconds = 0.1
    item = _video(tmp_path)
    await adapter.publish(job(account, PostContent("watch", media=(item,))), MemoryJournal())
    [post] = linkedin_fake.published()
    [video] = linkedin_fake.videos.values()
    assert post["media"] == [video["urn"]] and video["status"] == "AVAILABLE" and len(video["parts"]) == 3
    assert b"".join(video["parts"][i] for i in sorted(video["parts"])) == Path(item.source).read_bytes()


async def test_a_video_s_description_is_not_sent_as_alt_text_and_the_result_says_so(adapter, account,
                                                                                     linkedin_fake, tmp_path) -> None:
    item = replace(_video(tmp_path, 1000), alt_text="A potter at the wheel")
    result = await adapter.publish(job(account, PostContent("watch", media=(item,))), MemoryJournal())
    [post] = linkedin_fake.published()
    assert post["content"] == {"media": {"id": post["media"][0]}}  # the Posts API's video post: no altText
    assert any("alt text" in w for w in result.warnings)


async def test_a_failed_video_is_permanent_and_nothing_is_posted(adapter, account, linkedin_fake, tmp_path) -> None:
    linkedin_fake.video_fails = True
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("bad", media=(_video(tmp_path, 1000),))), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and linkedin_fake.published() == []


async def test_slow_video_processing_is_transient_and_reuses_the_upload(adapter, account, linkedin_fake,
                                                                        tmp_path) -> None:
    linkedin_fake.video_processing_seconds = 0.5
    adapter.tuning = replace(FAST, max_processing_wait=0.1)
    journal, content = MemoryJournal(), PostContent("slow", media=(_video(tmp_path, 1000),))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, content), journal)
    assert caught.value.kind is ErrorKind.TRANSIENT
    adapter.tuning = FAST
    await adapter.publish(job(account, content, attempt_id=2, checkpoints=journal.steps), MemoryJournal())
    assert len(linkedin_fake.videos) == 1 and len(linkedin_fake.published()) == 1


def test_compose_time_warns_when_the_sign_in_is_about_to_end(adapter, account) -> None:
    soon = AccountInfo(account.id, Platform.LINKEDIN, "a", settings={
        **account.settings, "token_expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
    [problem] = adapter.validate(PostContent("hello"), soon)
    assert not problem.is_error and "reconnect" in problem.message
    later = AccountInfo(account.id, Platform.LINKEDIN, "a", settings={
        **account.settings, "token_expires_at": (datetime.now(UTC) + timedelta(days=50)).isoformat()})
    assert adapter.validate(PostContent("hello"), later) == []


def test_compose_rules(adapter, account, tmp_path) -> None:
    assert any("3000" in p.message for p in adapter.validate(PostContent("a" * 3001), account))
    mixed = (_png(tmp_path), _video(tmp_path, 10))
    assert any("mix" in p.message for p in adapter.validate(PostContent("m", media=mixed), account))


async def test_every_rest_call_carries_the_version_headers(adapter, account, linkedin_fake) -> None:
    linkedin_fake.active_versions = {"202701"}
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("old version")), MemoryJournal())
    assert caught.value.kind is ErrorKind.PERMANENT and "Update Outpost" in caught.value.message


@pytest.mark.parametrize("fault", [Fault("/rest/posts", kind="hang_after", hang_seconds=2),
                                   Fault("/rest/posts", kind="reset_after"),
                                   Fault("/rest/posts", kind="status_after", status=500)],
                         ids=["read-timeout", "reset", "5xx"])
async def test_a_lost_answer_is_found_when_linkedin_lets_us_read(adapter, account, linkedin_fake, fault) -> None:
    linkedin_fake.can_read_posts = True
    linkedin_fake.inject(fault)
    j = job(account, PostContent("Hello (again)"))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(j, MemoryJournal())
    assert caught.value.kind is ErrorKind.UNKNOWN
    rec = await adapter.reconcile(j)
    [post] = linkedin_fake.published()
    assert rec.status is ReconcileStatus.PUBLISHED and rec.external_id == post["id"]


async def test_the_author_finder_names_its_rest_li_method(adapter, account, linkedin_fake) -> None:
    linkedin_fake.can_read_posts = True
    j = job(account, PostContent("anything"), checkpoints={"post_sent_at": datetime.now(UTC).isoformat()})
    rec = await adapter.reconcile(j)
    [(finder, answer)] = [(r, a) for r, a in linkedin_fake.exchanges if r.path == "/rest/posts"]
    assert finder.headers.get("x-restli-method") == "FINDER" and answer.status == 200
    assert rec.status is ReconcileStatus.UNKNOWN and "not among" in rec.detail


async def test_without_read_permission_a_lost_answer_stays_unknown(adapter, account, linkedin_fake) -> None:
    linkedin_fake.inject(Fault("/rest/posts", kind="hang_after", hang_seconds=2))
    j = job(account, PostContent("unclear"))
    with pytest.raises(PublishError):
        await adapter.publish(j, MemoryJournal())
    rec = await adapter.reconcile(j)
    assert rec.status is ReconcileStatus.UNKNOWN and "read your posts" in rec.detail


async def test_rate_limit_without_a_header_waits_for_midnight_utc(adapter, account, linkedin_fake) -> None:
    linkedin_fake.inject(Fault("/rest/posts", status=429))
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("quota")), MemoryJournal())
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert caught.value.kind is ErrorKind.RATE_LIMIT
    assert abs((caught.value.retry_after or 0) - (midnight - now).total_seconds()) < 120


async def test_a_token_near_its_end_adds_a_reconnect_reminder(adapter, linkedin_fake) -> None:
    account = _account(linkedin_fake, expires_in=3 * 86400)
    result = await adapter.publish(job(account, PostContent("soon")), MemoryJournal())
    assert len(result.warnings) == 1 and "reconnect the account before then" in result.warnings[0]


async def test_an_expired_token_is_auth_before_anything_is_sent(tmp_path, linkedin_fake) -> None:
    account = _account(linkedin_fake)
    later = Clock(datetime.now(UTC) + timedelta(days=61))
    a = LinkedInAdapter(context(tmp_path, api_base={"linkedin": linkedin_fake.url}, clock=later), tuning=FAST)
    with pytest.raises(PublishError) as caught:
        await a.publish(job(account, PostContent("too late")), MemoryJournal())
    await a.aclose()
    assert caught.value.kind is ErrorKind.AUTH and "60 days" in caught.value.message
    assert linkedin_fake.calls_to("/rest/posts") == 0


async def test_a_partner_token_is_renewed_instead(tmp_path, linkedin_fake) -> None:
    linkedin_fake.partner = True
    account = _account(linkedin_fake, expires_in=86400)
    a = LinkedInAdapter(context(tmp_path, api_base={"linkedin": linkedin_fake.url}), tuning=FAST)
    result = await a.publish(job(account, PostContent("renewed")), MemoryJournal())
    await a.aclose()
    values = KeyringSecrets().get(account.id) or {}
    assert datetime.fromisoformat(values["expires_at"]) > datetime.now(UTC) + timedelta(days=59)
    assert result.warnings == ()


async def test_a_revoked_token_is_auth(adapter, account, linkedin_fake) -> None:
    linkedin_fake.tokens.clear()
    with pytest.raises(PublishError) as caught:
        await adapter.publish(job(account, PostContent("revoked")), MemoryJournal())
    assert caught.value.kind is ErrorKind.AUTH and linkedin_fake.published() == []
