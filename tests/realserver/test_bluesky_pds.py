"""Outpost's Bluesky code against the atproto reference PDS (`@atproto/pds`, pinned in package.json):
the server validates every record against the official lexicons, stores blobs and answers with its
own errors, so what passes here is what bsky.social's software accepts. Opt-in: `pytest --real-servers`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.auth.bluesky import SignInRefused, sign_in
from app.auth.secrets import KeyringSecrets
from app.core.models import AccountInfo, MediaItem, MediaKind, Platform, PostContent
from app.core.timeutil import iso_utc, utcnow
from app.engine.runtime import Runtime
from app.platforms.base import ReconcileStatus
from app.platforms.bluesky import POST, BlueskyAdapter, new_tid
from tests.fakes.support import MemoryJournal, context, job, png
from tests.realserver.pds import Account, RealPds

pytestmark = pytest.mark.real_server
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def alice(pds: RealPds) -> Account:
    return pds.create_account("alice")


@pytest.fixture(scope="module")
def bob(pds: RealPds) -> Account:
    return pds.create_account("bob")


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[BlueskyAdapter]:
    a = BlueskyAdapter(context(tmp_path, post_language="en"))
    yield a
    await a.aclose()


async def _connect(pds: RealPds, who: Account, account_id: int = 7) -> AccountInfo:
    connected = await sign_in(f"@{who.handle}", who.app_password, service=pds.url)
    KeyringSecrets().put(account_id, connected.secrets)
    return AccountInfo(account_id, Platform.BLUESKY, connected.handle, server=connected.server,
                       settings=connected.settings)


def _record(pds: RealPds, uri: str) -> dict[str, Any]:
    """`com.atproto.repo.getRecord` for an at:// URI: what the PDS stored, with its CID."""
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    answer: dict[str, Any] = pds.xrpc("GET", "com.atproto.repo.getRecord",
                                      params={"repo": repo, "collection": collection, "rkey": rkey})
    return answer


def _spans(text: str, facets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    data = text.encode("utf-8")
    return {data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(): f["features"][0] for f in facets}


async def test_signing_in_with_an_app_password_keeps_the_did_and_the_pds_from_its_did_document(pds, alice) -> None:
    connected = await sign_in(f"@{alice.handle}", alice.app_password, service=pds.url)
    assert connected.handle == alice.handle
    assert connected.settings == {"did": alice.did}
    assert connected.server == pds.public_url  # the #atproto_pds service of the DID document the PLC holds
    assert set(connected.secrets) == {"app_password", "access_jwt", "refresh_jwt"}


async def test_a_pds_address_typed_without_a_scheme_signs_in_over_plain_http(pds, alice) -> None:
    connected = await sign_in(alice.handle, alice.app_password, service=f"127.0.0.1:{pds.port}")
    assert connected.settings == {"did": alice.did}


async def test_the_real_refusal_of_a_wrong_app_password_says_where_to_make_one(pds, alice) -> None:
    with pytest.raises(SignInRefused) as refused:
        await sign_in(alice.handle, "aaaa-bbbb-cccc-dddd", service=pds.url)
    assert "App passwords" in str(refused.value)


async def test_a_post_with_facets_an_image_a_thread_and_a_first_comment_is_stored_as_sent(
        pds, alice, bob, adapter, tmp_path) -> None:
    account = await _connect(pds, alice)
    picture = tmp_path / "wide.png"
    picture.write_bytes(png(40, 30))
    text = "🎉 Hi @bob.test, see https://example.com/a?b=1 #outpost. @nobody.test"
    content = PostContent(text, media=(MediaItem(str(picture), alt_text="A wide picture", kind=MediaKind.IMAGE,
                                                 mime_type="image/png"),),
                          thread=("Second part #thread",), first_comment="First comment")
    journal = MemoryJournal()
    result = await adapter.publish(job(account, content), journal)
    assert result.warnings == ()
    assert [step for step, _ in journal.history] == ["rkey", "uri", "rkey_part2", "rkey_comment"]

    root = _record(pds, result.external_id)
    assert root["uri"] == f"at://{alice.did}/{POST}/{journal.steps['rkey']}"
    value = root["value"]
    assert value["text"] == text and value["langs"] == ["en"]
    spans = _spans(text, value["facets"])
    assert spans == {
        "@bob.test": {"$type": "app.bsky.richtext.facet#mention", "did": bob.did},  # resolved by the PDS
        "https://example.com/a?b=1": {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a?b=1"},
        "#outpost": {"$type": "app.bsky.richtext.facet#tag", "tag": "outpost"},
    }  # "@nobody.test" has no account: it stays plain text
    [image] = value["embed"]["images"]
    assert value["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == "A wide picture" and image["aspectRatio"] == {"width": 40, "height": 30}
    blob = image["image"]
    assert (blob["$type"], blob["mimeType"], blob["size"]) == ("blob", "image/png", len(png(40, 30)))
    stored = pds.xrpc("GET", "com.atproto.sync.getBlob", params={"did": alice.did, "cid": blob["ref"]["$link"]})
    assert stored == png(40, 30)

    ref = {"uri": root["uri"], "cid": root["cid"]}
    second = _record(pds, f"at://{alice.did}/{POST}/{journal.steps['rkey_part2']}")["value"]
    assert second["text"] == "Second part #thread"
    assert second["reply"] == {"root": ref, "parent": ref}
    assert _spans(second["text"], second["facets"]) == {"#thread": {"$type": "app.bsky.richtext.facet#tag",
                                                                    "tag": "thread"}}
    comment = _record(pds, f"at://{alice.did}/{POST}/{journal.steps['rkey_comment']}")["value"]
    assert comment["text"] == "First comment" and comment["reply"] == {"root": ref, "parent": ref}


async def test_a_thread_of_three_chains_each_part_to_the_one_before(pds, alice, adapter) -> None:
    account = await _connect(pds, alice)
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("One", thread=("Two", "Three"))), journal)
    root = _record(pds, result.external_id)
    two = _record(pds, f"at://{alice.did}/{POST}/{journal.steps['rkey_part2']}")
    three = _record(pds, f"at://{alice.did}/{POST}/{journal.steps['rkey_part3']}")
    root_ref = {"uri": root["uri"], "cid": root["cid"]}
    assert two["value"]["reply"] == {"root": root_ref, "parent": root_ref}
    assert three["value"]["reply"] == {"root": root_ref, "parent": {"uri": two["uri"], "cid": two["cid"]}}


async def test_reconcile_after_a_restart_finds_the_post_by_its_record_key(pds, alice, adapter, tmp_path) -> None:
    account = await _connect(pds, alice)
    journal = MemoryJournal()
    result = await adapter.publish(job(account, PostContent("Did this go out?")), journal)
    restarted = BlueskyAdapter(context(tmp_path, post_language="en"))  # only the journal survived
    try:
        found = await restarted.reconcile(job(account, PostContent("Did this go out?"), attempt_id=2,
                                              checkpoints={"rkey": journal.steps["rkey"]}))
        missing = await restarted.reconcile(job(account, PostContent("never sent"), attempt_id=3,
                                                checkpoints={"rkey": new_tid()}))
    finally:
        await restarted.aclose()
    assert (found.status, found.external_id) == (ReconcileStatus.PUBLISHED, result.external_id)
    assert missing.status is ReconcileStatus.NOT_PUBLISHED  # the PDS's own RecordNotFound, read as "not there"


async def test_publishing_the_same_record_key_twice_keeps_one_post(pds, alice, adapter) -> None:
    account = await _connect(pds, alice)
    rkey = new_tid()
    first = await adapter.publish(job(account, PostContent("Once only"), checkpoints={"rkey": rkey}), MemoryJournal())
    again = await adapter.publish(job(account, PostContent("Once only"), attempt_id=2, checkpoints={"rkey": rkey}),
                                  MemoryJournal())  # a retry after an unknown outcome reuses the journaled key
    assert again.external_id == first.external_id
    listed = pds.xrpc("GET", "com.atproto.repo.listRecords", params={"repo": alice.did, "collection": POST,
                                                                      "limit": 100})
    assert [r["uri"] for r in listed["records"]].count(first.external_id) == 1


async def test_an_expired_access_token_is_refreshed_once_and_the_post_goes_out(pds, alice, adapter) -> None:
    account = await _connect(pds, alice, account_id=8)
    secrets = KeyringSecrets()
    expired = pds.expired_access_token(alice.did)
    secrets.put(account.id, {**secrets.get(account.id), "access_jwt": expired})
    result = await adapter.publish(job(account, PostContent("After the token ran out")), MemoryJournal())
    assert _record(pds, result.external_id)["value"]["text"] == "After the token ran out"
    assert secrets.get(account.id)["access_jwt"] != expired  # the new pair was stored


# ---- `outpost` itself, in its own processes ---------------------------------------------------


def _outpost(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120)


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _posts(pds: RealPds, did: str) -> list[dict[str, Any]]:
    listed = pds.xrpc("GET", "com.atproto.repo.listRecords", params={"repo": did, "collection": POST, "limit": 100})
    return list(listed["records"])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_outpost_connects_with_the_cli_and_publishes_a_scheduled_post(pds, tmp_path) -> None:
    carol = pds.create_account("carol")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OUTPOST_DATA_DIR": str(tmp_path / "data"),
           "PYTHON_KEYRING_BACKEND": "tests.fakes.filekeyring.FileKeyring",
           "OUTPOST_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}
    added = _outpost(env, "accounts", "add", "bluesky", "--handle", carol.handle, "--service", f"127.0.0.1:{pds.port}",
                     stdin=carol.app_password + "\n")
    assert added.returncode == 0, added.stderr
    picture = tmp_path / "tall.png"
    picture.write_bytes(png(20, 50))
    at = iso_utc(utcnow() + timedelta(seconds=2))
    posted = _outpost(env, "post", "add", "--account", carol.handle, "--at", at, "--text", "From outpost run #cli",
                      "--media", str(picture), "--alt", "A tall picture", "--first-comment", "More below")
    assert posted.returncode == 0, posted.stderr
    process = subprocess.Popen([sys.executable, "-m", "app", "run"], env=env, cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait(lambda: len(_posts(pds, carol.did)) == 2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    by_text = {r["value"]["text"]: r for r in _posts(pds, carol.did)}
    post = by_text["From outpost run #cli"]["value"]
    assert post["embed"]["images"][0]["alt"] == "A tall picture"
    assert post["embed"]["images"][0]["aspectRatio"] == {"width": 20, "height": 50}
    assert post["facets"][0]["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "cli"}]
    root = by_text["From outpost run #cli"]
    assert by_text["More below"]["value"]["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    runtime = Runtime.open(tmp_path / "data", exclusive=False)
    try:
        [target] = [t for p in runtime.planner.posts() for t in p.targets]
    finally:
        runtime.close()
    assert (target.status.value, target.external_id) == ("published", root["uri"])
