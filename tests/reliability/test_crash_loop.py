"""Crash loop: `outpost run` publishing to the Mastodon and Bluesky fakes (separate processes) is
killed with SIGKILL again and again and restarted each time. At the end every target is published
exactly once by the fakes' own record, or is failed / in review with a reason: 0 duplicates, 0 lost.

Kill moments, in turn:
- random: any time after the publisher started (recovery, claiming, sending, recording);
- journaled: the attempt committed, the request not sent (OUTPOST_CRASH_AT, app/engine/crashpoints.py);
- answered: the platform created the post and answered, the outcome not committed;
- refresh: Bluesky's session refresh reached the server (which rotated the single-use refresh
  token) and its answer is held back; the kill lands while Outpost waits for it.
"""

from __future__ import annotations

import random
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.models import AccountStatus, Platform, PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store.backup import quick_check
from app.store.paths import db_path
from tests.reliability.processes import FakeProcess, Outpost, wait_for
from tests.reliability.support import record_figures

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

MASTODON_TOKEN = "crash-loop-token"
KINDS = ("random", "journaled", "answered", "refresh")
SETTLED = {TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.NEEDS_REVIEW, TargetStatus.MISSED}


def _connect(outpost: Outpost, mastodon: FakeProcess, bluesky: FakeProcess) -> tuple[int, int]:
    mastodon.configure(tokens={MASTODON_TOKEN: {"client_id": "", "revoked": False}})
    added = outpost("accounts", "add", "mastodon", "--server", mastodon.url, "--token-stdin",
                    stdin=MASTODON_TOKEN + "\n")
    assert added.returncode == 0, added.stderr
    added = outpost("accounts", "add", "bluesky", "--handle", "alice.test", "--service", bluesky.url,
                    stdin="abcd-efgh-ijkl-mnop\n")
    assert added.returncode == 0, added.stderr
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        accounts = {a.platform: a.id for a in runtime.planner.accounts()}
    finally:
        runtime.close()
    return accounts[Platform.MASTODON], accounts[Platform.BLUESKY]


def _schedule(outpost: Outpost, accounts: tuple[int, int], count: int, span: float) -> list[int]:
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        start = utcnow() + timedelta(seconds=3)
        specs = [PostSpec(text=f"crash-loop post {i:04d}", account_ids=accounts, timezone="UTC",
                          scheduled_at=start + timedelta(seconds=span * i / count)) for i in range(count)]
        return runtime.planner.create_posts(specs)
    finally:
        runtime.close()


def _targets(outpost: Outpost) -> list[Any]:
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        held = {a.id for a in runtime.planner.accounts() if a.status is not AccountStatus.ACTIVE}
        targets = [t for p in runtime.planner.posts(limit=100_000) for t in p.targets]
        return [(t, t.account_id in held) for t in targets]
    finally:
        runtime.close()


def _published_on_fakes(mastodon: FakeProcess, bluesky: FakeProcess) -> int:
    return len(mastodon.state()["statuses"]) + len(bluesky.state()["records"])


def _kill(proc: Any) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def crash_loop(tmp_path: Path, posts: int, kills: int, span: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    mastodon = FakeProcess("mastodon")
    bluesky = FakeProcess("bluesky", {"access_ttl": 3})  # short sessions: refreshes all along
    started = time.monotonic()
    try:
        outpost = Outpost(tmp_path)
        accounts = _connect(outpost, mastodon, bluesky)
        ids = _schedule(outpost, accounts, posts, span)
        done: Counter[str] = Counter()
        self_killed = refresh_kills = 0
        timeline: list[str] = []
        for n in range(kills):
            kind = KINDS[n % len(KINDS)]
            before = _published_on_fakes(mastodon, bluesky)
            if kind in ("journaled", "answered"):
                proc = outpost.run(OUTPOST_CRASH_AT=f"{kind}:{rng.randint(1, 6)}")
                if wait_for(lambda p=proc: p.poll() is not None, 20):  # type: ignore[misc]
                    self_killed += proc.returncode == -signal.SIGKILL
            elif kind == "refresh":
                refreshes = bluesky.state()["session_calls"]["refresh"]
                bluesky.fault(path="/xrpc/com.atproto.server.refreshSession", kind="hang_after", method="POST",
                              hang_seconds=20, times=1)
                bluesky.configure(access_tokens={})  # every session ends: the next call refreshes
                proc = outpost.run(OUTPOST_TUNING=ADAPTER_TUNING_SLOW_READ)
                refresh_kills += wait_for(lambda r=refreshes: bluesky.state()["session_calls"]["refresh"] > r, 20)
            else:
                proc = outpost.run()
                wait_for(lambda p=proc: outpost.running(p), 20)
                # Land while posts go out: after the fakes saw progress, at a random instant.
                wait_for(lambda b=before: _published_on_fakes(mastodon, bluesky) > b, 10)
                time.sleep(rng.uniform(0, 0.3))
            _kill(proc)
            done[kind] += 1
            timeline.append(f"{kind}@{_published_on_fakes(mastodon, bluesky)}")
            assert quick_check(db_path(outpost.data_dir)) == "ok"
        proc = outpost.run()
        settled = wait_for(lambda: all(t.status in SETTLED or held for t, held in _targets(outpost)),
                           60 + posts * 0.1, interval=0.25)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        targets = _targets(outpost)
        assert settled, Counter(t.status.value for t, _ in targets)
        figures = _verdict(outpost, ids, targets, mastodon, bluesky, done, self_killed, started)
        figures.update(kills_during_refresh=refresh_kills, published_on_fakes_at_each_kill=timeline)
        return figures
    finally:
        mastodon.stop()
        bluesky.stop()


ADAPTER_TUNING_SLOW_READ = "connect_timeout=1,read_timeout=15,write_timeout=2,pool_timeout=2,poll_interval=0.02"


def _verdict(outpost: Outpost, ids: list[int], targets: list[Any], mastodon: FakeProcess, bluesky: FakeProcess,
             kills: Counter[str], self_killed: int, started: float) -> dict[str, Any]:
    on_mastodon = Counter(s["text"] for s in mastodon.state()["statuses"])
    bsky = bluesky.state()["records"]
    on_bluesky = Counter(r["value"]["text"] for r in bsky)
    uris = {r["uri"] for r in bsky}
    status_ids = {s["id"] for s in mastodon.state()["statuses"]}
    runtime = Runtime.open(outpost.data_dir, exclusive=False)
    try:
        texts = {i: runtime.planner.post(i).text for i in ids}
    finally:
        runtime.close()
    duplicates = sum(c - 1 for record in (on_mastodon, on_bluesky) for c in record.values() if c > 1)
    lost, false_success, outcome, reasons = [], [], Counter(), Counter()
    for t, held in targets:
        seen = (on_mastodon if t.platform is Platform.MASTODON else on_bluesky)[texts[t.post_id]]
        outcome[t.status.value if not held else "held_for_reconnect"] += 1
        if t.status is TargetStatus.PUBLISHED:
            known = status_ids if t.platform is Platform.MASTODON else uris
            if seen != 1 or t.external_id not in known:
                false_success.append(t)
        elif not t.last_error:
            lost.append(t)
        else:
            reasons[f"{t.status.value} ({'on' if seen else 'not on'} the platform): {t.last_error[:90]}"] += 1
    figures = {
        "posts": len(ids), "targets": len(targets), "kills": sum(kills.values()), "kills_by_moment": dict(kills),
        "self_kills_at_crash_points": self_killed, "duplicates": duplicates, "lost": len(lost),
        "false_success": len(false_success), "outcomes": dict(outcome), "reasons": dict(reasons),
        "integrity_check": quick_check(db_path(outpost.data_dir)), "seconds": round(time.monotonic() - started, 1),
    }
    print(figures)
    assert duplicates == 0, figures
    assert not lost, (figures, lost[:3])
    assert not false_success, (figures, false_success[:3])
    assert figures["integrity_check"] == "ok"
    return figures


def test_sixty_posts_on_two_platforms_survive_five_sigkills(tmp_path: Path) -> None:
    figures = crash_loop(tmp_path, posts=60, kills=5, span=4.0, seed=1)
    record_figures("crash_loop", {"default": figures})
    assert figures["kills"] == 5
    assert figures["outcomes"].get("published", 0) >= 100  # the fakes can always tell: nearly all publish


@pytest.mark.slow
def test_five_hundred_posts_survive_thirty_sigkills(tmp_path: Path) -> None:
    figures = crash_loop(tmp_path, posts=500, kills=30, span=30.0, seed=30)
    record_figures("crash_loop", {"slow": figures})
    assert figures["kills"] == 30


def test_a_kill_right_after_a_rotated_token_is_saved_loses_nothing(tmp_path: Path) -> None:
    """P9: the refreshed token pair is persisted before it is used, so a kill at that instant leaves
    a usable single-use refresh token: the restart refreshes with it and never needs the password."""
    bluesky = FakeProcess("bluesky", {"access_ttl": 3})
    try:
        outpost = Outpost(tmp_path)
        added = outpost("accounts", "add", "bluesky", "--handle", "alice.test", "--service", bluesky.url,
                        stdin="abcd-efgh-ijkl-mnop\n")
        assert added.returncode == 0, added.stderr
        runtime = Runtime.open(outpost.data_dir, exclusive=False)
        try:
            account = next(a.id for a in runtime.planner.accounts() if a.platform is Platform.BLUESKY)
        finally:
            runtime.close()
        ids = _schedule(outpost, (account,), 12, span=8.0)
        bluesky.configure(access_tokens={})  # the session ends: the first call refreshes
        crashing = {"PYTHON_KEYRING_BACKEND": "tests.reliability.crashkeyring.CrashAfterSaveKeyring",
                    "OUTPOST_TEST_CRASH_AFTER_SAVE": "1"}
        proc = outpost.run(**crashing)
        assert wait_for(lambda: proc.poll() is not None, 30)
        assert proc.returncode == -signal.SIGKILL
        calls = bluesky.state()["session_calls"]
        assert calls == {"create": 1, "refresh": 1}  # sign-in, then the refresh whose answer was saved
        assert bluesky.state()["records"] == []
        proc = outpost.run()
        settled = wait_for(lambda: all(t.status in SETTLED for t, _ in _targets(outpost)), 60, interval=0.25)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert settled
        calls = bluesky.state()["session_calls"]
        records = Counter(r["value"]["text"] for r in bluesky.state()["records"])
    finally:
        bluesky.stop()
    assert calls["create"] == 1, "the saved refresh token did not work: Outpost fell back to the password"
    assert calls["refresh"] >= 1
    assert all(t.status is TargetStatus.PUBLISHED for t, _ in _targets(outpost))
    assert len(records) == len(ids) and max(records.values()) == 1
    record_figures("crash_loop", {"kill_after_token_saved": {"posts": len(ids), "published": len(records),
                                                              "duplicates": 0, "password_sign_ins_after": 0,
                                                              "refreshes": calls["refresh"]}})
