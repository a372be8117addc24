"""Recurring series on a real SQLite file: the coming occurrences, and changes to one, some or all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.errors import OutpostError
from app.core.models import PostSpec, PostStatus
from app.core.recurrence import Recurrence, RepeatKind
from app.core.timeutil import localize
from app.engine import series
from app.engine.recurring import spawn_next_occurrence
from app.engine.repeat import Repeat
from app.engine.runtime import Runtime
from app.engine.series import Scope
from app.store import repo
from app.store.schema import Post

ZONE = "Europe/Berlin"
TZ = ZoneInfo(ZONE)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(tmp_path / "data", clock=lambda: NOW)
    yield rt
    rt.close()


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return localize(datetime.combine(day, time(hour, minute)), TZ)


def make_series(runtime: Runtime, first: datetime, rule: Recurrence, text: str = "Studio hours") -> int:
    account = runtime.planner.default_account_id()
    assert account is not None
    return runtime.planner.create_post(PostSpec(text, (account,), first, ZONE, recurrence=rule.to_dict()))


def month(runtime: Runtime, year: int, mon: int) -> list:  # type: ignore[type-arg]
    """What the month view shows: the stored posts and the repeats, by time."""
    start = localize(datetime(year, mon, 1), TZ)
    end = localize(datetime(year + mon // 12, mon % 12 + 1, 1), TZ)
    return series.with_repeats(runtime.planner, start, end, runtime.planner.posts_between(start, end))


def walls(posts: list) -> list[datetime]:  # type: ignore[type-arg]
    return [p.scheduled_at.astimezone(TZ).replace(tzinfo=None) for p in posts if p.status is PostStatus.SCHEDULED]


MON_THU = Recurrence(RepeatKind.WEEKLY, (0, 3))


def test_the_coming_occurrences_are_projected_at_the_same_local_time_across_dst(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 3, 26)), Recurrence(RepeatKind.DAILY))
    shown = month(runtime, 2026, 3)
    repeats = [p for p in shown if isinstance(p, Repeat)]
    assert [p.id for p in shown if not isinstance(p, Repeat)] == [head]
    assert [r.scheduled_at.astimezone(TZ).time() for r in repeats] == [time(9, 0)] * 5  # 27..31 March
    assert [r.scheduled_at.astimezone(UTC).hour for r in repeats] == [8, 8, 7, 7, 7]  # CET, then CEST (29th)
    assert all(r.head_id == head and r.text == "Studio hours" for r in repeats)


def test_a_month_shows_every_occurrence_of_a_weekly_series_once(runtime: Runtime) -> None:
    make_series(runtime, at(date(2026, 4, 2)), MON_THU)  # Thursday 2 April
    april = month(runtime, 2026, 4)
    assert [d.day for d in walls(april)] == [2, 6, 9, 13, 16, 20, 23, 27, 30]
    assert sum(isinstance(p, Repeat) for p in april) == 8
    assert len(month(runtime, 2026, 3)) == 0  # nothing before the series starts


def test_moving_this_one_stores_it_alone_and_the_rule_skips_its_date(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    repeat = next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == "2026-04-09")
    change = series.move(runtime.planner, repeat, at(date(2026, 4, 10), 10), Scope.THIS)
    april = month(runtime, 2026, 4)
    assert [(d.day, d.hour) for d in walls(april)][:4] == [(2, 9), (6, 9), (10, 10), (13, 9)]
    moved = runtime.planner.post(change.created[0])
    assert moved.recurrence is None and moved.series_id == runtime.planner.post(head).series_id
    series.undo(runtime.planner, change)
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 6, 9, 13, 16, 20, 23, 27, 30]
    with pytest.raises(OutpostError):
        runtime.planner.post(change.created[0])


def test_moving_this_and_following_splits_the_series(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    repeat = next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == "2026-04-13")
    change = series.move(runtime.planner, repeat, at(date(2026, 4, 14), 9), Scope.FOLLOWING)
    days = [d.day for d in walls(month(runtime, 2026, 4))]
    assert days == [2, 6, 9, 14, 17, 21, 24, 28]  # Mon/Thu until the 12th, Tue/Fri from the 14th
    old = Recurrence.from_dict(runtime.planner.post(head).recurrence)
    assert old.until == date(2026, 4, 12)
    new = runtime.planner.post(change.created[0])
    assert new.series_id != runtime.planner.post(head).series_id
    assert Recurrence.from_dict(new.recurrence).weekdays == (1, 4)
    series.undo(runtime.planner, change)
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 6, 9, 13, 16, 20, 23, 27, 30]
    assert Recurrence.from_dict(runtime.planner.post(head).recurrence).until is None


def test_moving_all_changes_the_rule_of_the_coming_occurrences(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    repeat = next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == "2026-04-16")
    change = series.move(runtime.planner, repeat, at(date(2026, 4, 16), 11, 30), Scope.ALL)
    april = walls(month(runtime, 2026, 4))
    assert [d.day for d in april] == [2, 6, 9, 13, 16, 20, 23, 27, 30]
    assert {d.time() for d in april} == {time(11, 30)}
    assert runtime.planner.post(head).scheduled_at == at(date(2026, 4, 2), 11, 30)
    series.undo(runtime.planner, change)
    assert {d.time() for d in walls(month(runtime, 2026, 4))} == {time(9, 0)}


def test_moving_the_stored_occurrence_alone_lets_the_series_go_on(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    change = series.move(runtime.planner, runtime.planner.post(head), at(date(2026, 4, 3), 18), Scope.THIS)
    april = month(runtime, 2026, 4)
    assert [(d.day, d.hour) for d in walls(april)][:3] == [(3, 18), (6, 9), (9, 9)]
    assert runtime.planner.post(head).recurrence is None
    assert runtime.planner.post(change.created[0]).recurrence is not None  # the 6th carries the rule now
    series.undo(runtime.planner, change)
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 6, 9, 13, 16, 20, 23, 27, 30]


def test_cancelling_this_one_following_or_all(runtime: Runtime) -> None:
    make_series(runtime, at(date(2026, 4, 2)), MON_THU)

    def repeat_on(key: str) -> Repeat:
        return next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == key)

    one = series.cancel(runtime.planner, repeat_on("2026-04-06"), Scope.THIS)
    april = month(runtime, 2026, 4)
    assert [d.day for d in walls(april)] == [2, 9, 13, 16, 20, 23, 27, 30]
    assert [p.status for p in april if p.id == one.created[0]] == [PostStatus.CANCELLED]  # shown struck through
    following = series.cancel(runtime.planner, repeat_on("2026-04-20"), Scope.FOLLOWING)
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 9, 13, 16]
    assert walls(month(runtime, 2026, 5)) == []
    everything = series.cancel(runtime.planner, repeat_on("2026-04-13"), Scope.ALL)
    assert walls(month(runtime, 2026, 4)) == []
    for change in (everything, following, one):
        series.undo(runtime.planner, change)
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 6, 9, 13, 16, 20, 23, 27, 30]


def test_editing_opens_the_occurrence_alone_a_new_series_or_the_series(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)

    def repeat_on(key: str) -> Repeat:
        return next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == key)

    assert series.prepare_edit(runtime.planner, repeat_on("2026-04-09"), Scope.ALL).open_id == head
    alone = series.prepare_edit(runtime.planner, repeat_on("2026-04-09"), Scope.THIS)
    post = runtime.planner.post(alone.open_id)  # type: ignore[arg-type]
    assert post.scheduled_at == at(date(2026, 4, 9)) and post.recurrence is None
    split = series.prepare_edit(runtime.planner, repeat_on("2026-04-16"), Scope.FOLLOWING)
    new = runtime.planner.post(split.open_id)  # type: ignore[arg-type]
    assert new.recurrence is not None and new.series_id != runtime.planner.post(head).series_id
    assert [d.day for d in walls(month(runtime, 2026, 4))] == [2, 6, 9, 13, 16, 20, 23, 27, 30]  # nothing moved


def test_the_series_goes_on_past_a_date_held_by_an_occurrence_changed_alone(runtime: Runtime) -> None:
    head = make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    repeat = next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat) and p.occurrence_key == "2026-04-06")
    series.move(runtime.planner, repeat, at(date(2026, 4, 7), 9), Scope.THIS)
    with runtime.db.write() as s:
        post = repo.get_post(s, head)
        assert post is not None
        nxt = spawn_next_occurrence(s, post, at(date(2026, 4, 2), 9), timedelta(hours=1))
        assert nxt is not None and nxt.occurrence_key == "2026-04-09"
        again = spawn_next_occurrence(s, post, at(date(2026, 4, 2), 9), timedelta(hours=1))
        assert again is None  # one next occurrence per occurrence
        assert len(s.scalars(select(Post.id).where(Post.series_id == post.series_id)).all()) == 3


def test_a_repeat_changed_meanwhile_is_refused_with_a_clear_line(runtime: Runtime) -> None:
    make_series(runtime, at(date(2026, 4, 2)), MON_THU)
    repeat = next(p for p in month(runtime, 2026, 4) if isinstance(p, Repeat))
    series.move(runtime.planner, repeat, at(date(2026, 4, 28), 9), Scope.THIS)
    with pytest.raises(OutpostError, match="changed in the meantime"):
        series.move(runtime.planner, repeat, at(date(2026, 4, 29), 9), Scope.THIS)
