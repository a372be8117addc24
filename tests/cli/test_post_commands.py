"""`outpost post list/add/show`: nothing cut silently, every --media kept, threads in and out
(issue 12, items 4, 5 and 7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli import main
from app.core.models import PostSpec
from app.engine.runtime import Runtime
from tests.fakes.support import png

START = datetime(2031, 1, 1, 9, 0, tzinfo=UTC)


def _run(data_dir: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(data_dir: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = _run(data_dir, capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    assert main(["--data-dir", str(path), "accounts", "add", "sandbox", "--name", "Second"]) == 0
    return path


def _make_posts(data_dir: Path, n: int, *, account: int = 1, drafts: int = 0) -> list[int]:
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        specs = [PostSpec(text=f"post {i}", account_ids=(account,), scheduled_at=START + timedelta(hours=i),
                          timezone="UTC") for i in range(n)]
        specs += [PostSpec(text=f"draft {i}", account_ids=(account,), draft=True) for i in range(drafts)]
        return runtime.planner.create_posts(specs)
    finally:
        runtime.close()


# ---- item 4: post list ------------------------------------------------------------------------


def test_post_list_shows_every_post_past_500_with_undated_drafts_last(data_dir, capsys):
    ids = _make_posts(data_dir, 620, drafts=2)
    listed = _json(data_dir, capsys, "post", "list")
    assert [p["id"] for p in listed] == ids  # all 622, soonest first, the two undated drafts last
    code, out, _ = _run(data_dir, capsys, "post", "list")
    assert code == 0 and len(out.splitlines()) == 622 and "left out" not in out


def test_planner_posts_no_longer_stops_at_500(data_dir):
    ids = _make_posts(data_dir, 505)
    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        assert [p.id for p in runtime.planner.posts()] == ids
        page = runtime.planner.post_page(limit=10, offset=500)
        assert [p.id for p in page.posts] == ids[500:] and page.total == 505
    finally:
        runtime.close()


def test_a_page_says_how_many_posts_it_left_out(data_dir, capsys):
    ids = _make_posts(data_dir, 30)
    code, out, _ = _run(data_dir, capsys, "post", "list", "--limit", "10", "--offset", "5")
    rows = out.splitlines()
    assert code == 0 and [int(r.split()[0]) for r in rows[:-1]] == ids[5:15]
    assert rows[-1] == "Showing posts 6-15 of 30; 20 left out (--offset 15 shows the next)."
    code, out, err = _run(data_dir, capsys, "post", "list", "--limit", "10", "--offset", "25", "--json")
    assert [p["id"] for p in json.loads(out)] == ids[25:]
    assert "Showing posts 26-30 of 30; 25 left out." in err  # JSON stays a plain list; the note goes to stderr


def test_post_list_filters_by_dates_instants_and_account(data_dir, capsys):
    first = _make_posts(data_dir, 48)  # hourly from 2031-01-01T09:00Z
    second = _make_posts(data_dir, 3, account=2)
    on_day = _json(data_dir, capsys, "post", "list", "--from", "2031-01-02", "--to", "2031-01-02", "--timezone", "UTC")
    assert [p["id"] for p in on_day] == first[15:39]
    window = _json(data_dir, capsys, "post", "list", "--from", "2031-01-01T10:00Z", "--to", "2031-01-01T12:00Z")
    assert [p["id"] for p in window] == [first[1], second[1], first[2], second[2]]
    only_second = _json(data_dir, capsys, "post", "list", "--account", "second")
    assert [p["id"] for p in only_second] == second
    scheduled_second = _json(data_dir, capsys, "post", "list", "--account", "2", "--status", "scheduled",
                             "--status", "draft")
    assert [p["id"] for p in scheduled_second] == second


# ---- item 5: every --media is kept, --alt pairs with each --------------------------------------


@pytest.fixture
def pictures(tmp_path: Path) -> list[Path]:
    out = []
    for name, (w, h) in (("a.png", (2, 1)), ("b.png", (3, 1)), ("c.png", (4, 1))):
        path = tmp_path / name
        path.write_bytes(png(w, h))
        out.append(path)
    return out


@pytest.mark.parametrize("style", ["repeated", "several-after-one", "mixed"])
def test_every_media_file_is_kept_with_its_alt_text(data_dir, capsys, pictures, style):
    a, b, c = (str(p) for p in pictures)
    media = {"repeated": ["--media", a, "--alt", "A", "--media", b, "--alt", "B", "--media", c, "--alt", "C"],
             "several-after-one": ["--media", a, b, c, "--alt", "A", "--alt", "B", "--alt", "C"],
             "mixed": ["--media", a, b, "--alt", "A", "--media", c, "--alt", "B", "--alt", "C"]}[style]
    post = _json(data_dir, capsys, "post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x",
                 *media)
    assert [(Path(m["source"]).name, m["alt_text"]) for m in post["media"]] == [("a.png", "A"), ("b.png", "B"),
                                                                               ("c.png", "C")]


def test_fewer_alt_texts_than_files_leave_the_last_files_without(data_dir, capsys, pictures):
    post = _json(data_dir, capsys, "post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00", "--text", "x",
                 "--media", str(pictures[0]), "--media", str(pictures[1]), "--alt", "first only")
    assert [m["alt_text"] for m in post["media"]] == ["first only", ""]


# ---- item 7: threads ---------------------------------------------------------------------------


def test_post_add_thread_parts_come_back_in_show_and_json(data_dir, capsys):
    post = _json(data_dir, capsys, "post", "add", "--account", "sandbox", "--at", "2031-01-01T09:00",
                 "--text", "part 1", "--thread", "part 2", "--thread", "part 3\nsecond line")
    assert post["text"] == "part 1" and post["thread"] == ["part 2", "part 3\nsecond line"]
    shown = _json(data_dir, capsys, "post", "show", str(post["id"]))
    assert shown["thread"] == ["part 2", "part 3\nsecond line"]
    assert [p["thread"] for p in _json(data_dir, capsys, "post", "list")] == [["part 2", "part 3\nsecond line"]]
    code, out, _ = _run(data_dir, capsys, "post", "show", str(post["id"]))
    assert code == 0
    assert "  part 1:  part 1\n  part 2:  part 2\n  part 3:  part 3\n           second line\n" in out


def test_a_post_without_a_thread_shows_an_empty_list(data_dir, capsys):
    post = _json(data_dir, capsys, "post", "add", "--account", "sandbox", "--draft", "--text", "alone")
    assert post["thread"] == []
    code, out, _ = _run(data_dir, capsys, "post", "show", str(post["id"]))
    assert code == 0 and "  text:  alone\n" in out and "part 2" not in out


def test_post_show_numbers_tries_per_account_at_the_minute_they_belong_to(data_dir, capsys):
    from app.core.models import AttemptOutcome
    from app.store.schema import Attempt, Target

    runtime = Runtime.open(data_dir, exclusive=False)
    try:
        post_id = runtime.planner.create_post(PostSpec(text="two accounts", account_ids=(1, 2), scheduled_at=START,
                                                       timezone="Europe/Berlin"))
        with runtime.db.write() as s:
            targets = s.query(Target).filter_by(post_id=post_id).order_by(Target.id).all()
            for i, target in enumerate(targets):  # journaled a moment before 10:00 Berlin, as the engine does
                s.add(Attempt(target_id=target.id, started_at=START - timedelta(milliseconds=300 - i),
                              idempotency_key=f"k{i}", payload_hash="h", outcome=AttemptOutcome.SUCCEEDED.value,
                              steps={}, error="", error_kind=""))
    finally:
        runtime.close()
    code, out, err = _run(data_dir, capsys, "post", "show", str(post_id))
    assert code == 0, err
    tries = [line.strip() for line in out.splitlines() if line.strip().startswith("try")]
    assert len(tries) == 2 and all(t.startswith("try 1 on ") for t in tries), out  # never "attempt 2"
    assert all("2031-01-01 10:00" in t for t in tries), out  # the post's minute in its zone, not 08:59:59Z
