"""The start-up quick read returns exactly what the planner returns, and steps aside when unsure."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.core.models import MediaItem, MediaKind, PostSpec, TargetStatus
from app.core.timeutil import utcnow
from app.engine.runtime import Runtime
from app.store import quickread
from app.store.paths import db_path
from app.store.schema import Target


@pytest.fixture
def seeded(tmp_path: Path):  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    rt = Runtime.open(data_dir)
    p = rt.planner
    sandbox = p.default_account_id()
    assert sandbox is not None
    other = p.add_account(p.accounts()[0].platform, "second", display_name="", timezone="Asia/Tokyo").id
    start = utcnow() + timedelta(days=1)
    image = tmp_path / "photo.png"
    image.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    photo = MediaItem(str(image), MediaKind.IMAGE, alt_text="A bowl — glazed", mime_type="image/png",
                      size_bytes=image.stat().st_size)
    ids = []
    for i in range(40):
        ids.append(p.create_post(PostSpec(
            f"Post {i} ✨ with ünïcode and a link https://example.com/{i}", (sandbox, other) if i % 3 else (sandbox,),
            start + timedelta(hours=7 * i), "Europe/Berlin",
            media=(photo,) if i % 4 == 0 else (), first_comment="first!" if i % 5 == 0 else "",
            thread=("part two", "part three") if i % 6 == 0 else (), overrides={other: "only here"} if i % 7 == 0 else {},
            title="A title" if i % 8 == 0 else "", draft=i % 9 == 0,
            recurrence={"kind": "weekly", "weekdays": [0], "until": None} if i == 10 else None)))
    with rt.db.write() as s:  # a few targets in other states, as after publishing
        s.execute(update(Target).where(Target.post_id == ids[3]).values(
            status=TargetStatus.FAILED.value, last_error="HTTP 500: try again later", attempts=3))
        s.execute(update(Target).where(Target.post_id == ids[4]).values(
            status=TargetStatus.PUBLISHED.value, external_id="at://did/123", external_url="https://example.com/p/1"))
        s.execute(update(Target).where(Target.post_id == ids[5]).values(natively_scheduled=True, due_at=None))
    yield rt, start
    rt.close()


def test_the_quick_read_equals_the_planners_read(seeded) -> None:  # type: ignore[no-untyped-def]
    rt, start = seeded
    for lo, hi in ((start - timedelta(days=1), start + timedelta(days=6)), (start + timedelta(days=3), start + timedelta(days=9)),
                   (start - timedelta(days=9), start - timedelta(days=1))):
        quick = quickread.posts_between(db_path(rt.data_dir), lo, hi)
        assert quick is not None
        assert quick == rt.planner.posts_between(lo, hi)
    everything = quickread.posts_between(db_path(rt.data_dir), start - timedelta(days=1), start + timedelta(days=30))
    assert everything is not None and len(everything) >= 30  # the comparison covered real rows


def test_it_reads_while_another_connection_is_writing(seeded) -> None:  # type: ignore[no-untyped-def]
    rt, start = seeded
    writer = sqlite3.connect(db_path(rt.data_dir))
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE post SET text = 'uncommitted' WHERE id = (SELECT min(id) FROM post)")
        quick = quickread.posts_between(db_path(rt.data_dir), start - timedelta(days=1), start + timedelta(days=2))
        assert quick and all(p.text != "uncommitted" for p in quick)  # WAL: the last committed state
    finally:
        writer.rollback()
        writer.close()


def test_it_steps_aside_when_unsure(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rt, start = seeded
    span = (start - timedelta(days=1), start + timedelta(days=2))
    assert quickread.posts_between(tmp_path / "missing.sqlite3", *span) is None
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    assert quickread.posts_between(junk, *span) is None
    path = db_path(rt.data_dir)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = 'older'")  # an upgrade is due
    before = path.read_bytes()
    assert quickread.posts_between(path, *span) is None
    assert path.read_bytes() == before  # read-only: nothing written
