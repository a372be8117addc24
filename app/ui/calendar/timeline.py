"""Date arithmetic for the calendar views: grids, visible ranges, moves that keep wall-clock time.

Pure functions, no Qt: every instant in and out is an aware UTC datetime; days and times of day are
wall-clock values in the zone the calendar is shown in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.core.timeutil import localize, to_local
from app.store.views import PostView

SLOT_MINUTES = 15


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of the week holding `day` (0 = Monday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def month_grid_start(anchor: date, first_weekday: int = 0) -> date:
    """The first day shown in a six-week month grid for `anchor`'s month."""
    return week_start(anchor.replace(day=1), first_weekday)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def range_utc(first_day: date, days: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants bounding `days` whole local days from `first_day` (end exclusive)."""
    start = localize(datetime.combine(first_day, time()), tz)
    end = localize(datetime.combine(first_day + timedelta(days=days), time()), tz)
    return start, end


def local_wall(instant: datetime, tz: tzinfo) -> datetime:
    """The naive wall-clock time of `instant` in `tz`."""
    return to_local(instant, tz).replace(tzinfo=None)


def bucket_by_day(posts: Iterable[PostView], tz: tzinfo) -> dict[date, list[PostView]]:
    """Posts grouped by local day, each day sorted by time (then id for a stable order)."""
    out: dict[date, list[PostView]] = defaultdict(list)
    for post in posts:
        if post.scheduled_at is not None:
            out[local_wall(post.scheduled_at, tz).date()].append(post)
    for day_posts in out.values():
        day_posts.sort(key=lambda p: (p.scheduled_at or datetime.min.replace(tzinfo=UTC), p.id))
    return dict(out)


def snap_minutes(minutes: float, step: int = SLOT_MINUTES) -> int:
    """Minutes since midnight snapped down to the slot that contains them, clamped to the day."""
    slot = int(minutes // step) * step
    return max(0, min(slot, 24 * 60 - step))


def shifted(instant: datetime, wall_delta: timedelta, tz: tzinfo) -> datetime:
    """`instant` moved by `wall_delta` of wall-clock time in `tz` (DST-safe: 09:00 stays 09:00)."""
    return localize(local_wall(instant, tz) + wall_delta, tz)


def plan_moves(
    posts: Iterable[PostView], anchor: PostView, anchor_target_wall: datetime, tz: tzinfo
) -> dict[int, datetime]:
    """New instants for `posts` when `anchor` is dropped at `anchor_target_wall` (naive, in `tz`).

    Every post moves by the same wall-clock distance as the anchor, so a group keeps its shape
    and each post keeps its own time of day when the anchor does.
    """
    if anchor.scheduled_at is None:
        raise ValueError("the anchor of a move has a date")
    delta = anchor_target_wall - local_wall(anchor.scheduled_at, tz)
    return {p.id: shifted(p.scheduled_at, delta, tz) for p in posts if p.scheduled_at is not None}


def default_time_for(day: date, now: datetime, tz: tzinfo, preferred: time = time(9, 0)) -> datetime:
    """The instant a draft dropped on `day` gets: `preferred` o'clock, or the next whole hour today."""
    candidate = localize(datetime.combine(day, preferred), tz)
    if candidate > now:
        return candidate
    wall_now = local_wall(now, tz)
    next_hour = wall_now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if next_hour.date() == day:
        return localize(next_hour, tz)
    return candidate  # refused later as the past


def first_words(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
