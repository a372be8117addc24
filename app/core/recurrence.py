"""Recurring posts: once, daily within a date range, weekly on chosen weekdays, monthly on a day.

Occurrences are wall-clock times in the post's zone, computed with dateutil.rrule and turned
into UTC instants with the policies in timeutil. Explicit, tested policies:
- DST gap: SHIFT_FORWARD (02:30 becomes 03:30) or SKIP the occurrence;
- DST fold: the first occurrence only (an occurrence never fires twice);
- monthly on the 29th-31st: SKIP months without that day (RFC 5545) or LAST_DAY (clamp).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule, weekday

from app.core.timeutil import as_utc, localize, wall_time_exists

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class RepeatKind(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class MonthEndPolicy(StrEnum):
    SKIP = "skip"
    LAST_DAY = "last_day"


class GapPolicy(StrEnum):
    SHIFT_FORWARD = "shift_forward"
    SKIP = "skip"


@dataclass(frozen=True)
class Recurrence:
    kind: RepeatKind = RepeatKind.ONCE
    weekdays: tuple[int, ...] = ()  # 0 = Monday
    monthday: int | None = None
    until: date | None = None  # inclusive, in the post's zone
    interval: int = 1
    month_end: MonthEndPolicy = MonthEndPolicy.SKIP
    gap: GapPolicy = GapPolicy.SHIFT_FORWARD

    @property
    def repeats(self) -> bool:
        return self.kind is not RepeatKind.ONCE

    def shifted(self, days: int) -> Recurrence:
        """The same rule with its days moved by `days` (a Monday-and-Thursday series dragged a day
        later repeats on Tuesday and Friday; monthly on the 15th becomes the 16th)."""
        if self.kind is RepeatKind.WEEKLY:
            return replace(self, weekdays=tuple(sorted({(d + days) % 7 for d in self.weekdays})))
        if self.kind is RepeatKind.MONTHLY and self.monthday is not None:
            return replace(self, monthday=min(31, max(1, self.monthday + days)))
        return self

    def ending_before(self, day: date) -> Recurrence:
        """The rule stopped the day before `day` (the series is split there, or cut short)."""
        last = day - timedelta(days=1)
        return replace(self, until=min(last, self.until) if self.until else last)

    @classmethod
    def parse(cls, spec: str, until: date | None = None) -> Recurrence:
        """Read the CLI form: ``once``, ``daily``, ``weekly:mon,thu``, ``monthly:15`` (``monthly:31:last``)."""
        raw = spec.strip().lower()
        head, _, rest = raw.partition(":")
        if head in ("", "once", "none"):
            return cls()
        if head == "daily":
            return cls(RepeatKind.DAILY, until=until)
        if head == "weekly":
            names = [n.strip()[:3] for n in rest.split(",") if n.strip()]
            bad = [n for n in names if n not in WEEKDAY_NAMES]
            if not names or bad:
                raise ValueError("Write weekly days like weekly:mon,thu (mon tue wed thu fri sat sun).")
            return cls(RepeatKind.WEEKLY, tuple(sorted({WEEKDAY_NAMES.index(n) for n in names})), until=until)
        if head == "monthly":
            day_text, _, policy = rest.partition(":")
            if not day_text.isdigit() or not 1 <= int(day_text) <= 31:
                raise ValueError("Write a monthly day from 1 to 31, like monthly:15 (or monthly:31:last).")
            month_end = MonthEndPolicy.LAST_DAY if policy.startswith("last") else MonthEndPolicy.SKIP
            return cls(RepeatKind.MONTHLY, monthday=int(day_text), until=until, month_end=month_end)
        raise ValueError(f"Unknown repeat {spec!r}; use daily, weekly:mon,thu or monthly:15.")

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "weekdays": list(self.weekdays),
            "monthday": self.monthday,
            "until": self.until.isoformat() if self.until else None,
            "interval": self.interval,
            "month_end": self.month_end.value,
            "gap": self.gap.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> Recurrence:
        if not data:
            return cls()
        until = data.get("until")
        weekdays = data.get("weekdays") or []
        monthday = data.get("monthday")
        interval = data.get("interval") or 1
        return cls(
            kind=RepeatKind(str(data.get("kind", "once"))),
            weekdays=tuple(int(d) for d in weekdays) if isinstance(weekdays, list) else (),
            monthday=int(monthday) if isinstance(monthday, int) else None,
            until=date.fromisoformat(until) if isinstance(until, str) else None,
            interval=int(interval) if isinstance(interval, int) else 1,
            month_end=MonthEndPolicy(str(data.get("month_end", "skip"))),
            gap=GapPolicy(str(data.get("gap", "shift_forward"))),
        )

    def describe(self) -> str:
        until = f" until {self.until:%d %b %Y}" if self.until else ""
        if self.kind is RepeatKind.ONCE:
            return "Once"
        if self.kind is RepeatKind.DAILY:
            return f"Every day{until}"
        if self.kind is RepeatKind.WEEKLY:
            days = ", ".join(WEEKDAY_LABELS[d] for d in self.weekdays) or "week"
            return f"Every {days}{until}"
        suffix = " (last day in shorter months)" if self.month_end is MonthEndPolicy.LAST_DAY else ""
        return f"Monthly on day {self.monthday}{suffix}{until}"


def _rule(rec: Recurrence, dtstart: datetime) -> rrule:
    until = datetime.combine(rec.until, time(23, 59, 59)) if rec.until else None
    if rec.kind is RepeatKind.DAILY:
        return rrule(DAILY, dtstart=dtstart, interval=rec.interval, until=until)
    if rec.kind is RepeatKind.WEEKLY:
        days = [weekday(d) for d in (rec.weekdays or (dtstart.weekday(),))]
        return rrule(WEEKLY, dtstart=dtstart, interval=rec.interval, byweekday=days, until=until, wkst=0)
    if rec.kind is RepeatKind.MONTHLY:
        day = rec.monthday or dtstart.day
        if rec.month_end is MonthEndPolicy.LAST_DAY and day >= 29:
            # Day `day` where the month has it, else the month's last day (first of the set).
            return rrule(MONTHLY, dtstart=dtstart, interval=rec.interval, bymonthday=(day, -1),
                         bysetpos=1, until=until)
        return rrule(MONTHLY, dtstart=dtstart, interval=rec.interval, bymonthday=day, until=until)
    raise ValueError("a one-off post has no rule")


def occurrences(rec: Recurrence, anchor_local: datetime, tz: tzinfo, limit: int = 1000) -> list[datetime]:
    """UTC instants of the series from its anchor (a naive wall-clock time in `tz`)."""
    if not rec.repeats:
        return [localize(anchor_local, tz)]
    out: list[datetime] = []
    for wall in _rule(rec, anchor_local):
        instant = _resolve(wall, tz, rec.gap)
        if instant is not None:
            out.append(instant)
        if len(out) >= limit:
            break
    return out


def next_occurrence(rec: Recurrence, anchor_local: datetime, tz: tzinfo, after: datetime) -> datetime | None:
    """The first occurrence strictly after the instant `after`, or None when the series has ended."""
    if not rec.repeats:
        return None
    after_utc = as_utc(after)
    # Start the search a day before `after` in wall-clock terms, so DST shifts cannot skip one.
    after_wall = after_utc.astimezone(tz).replace(tzinfo=None)
    rule = _rule(rec, anchor_local)
    for wall in rule.xafter(max(anchor_local, after_wall - timedelta(days=1)), count=400, inc=True):
        instant = _resolve(wall, tz, rec.gap)
        if instant is not None and instant > after_utc:
            return instant
    return None


def series_start(rec: Recurrence, scheduled_at: datetime, tz: tzinfo) -> datetime | None:
    """The instant a series really starts: its first occurrence from `scheduled_at` (weekly:mon,thu
    set on a Tuesday starts on Thursday). None when the rule has none before its end date."""
    anchor = as_utc(scheduled_at).astimezone(tz).replace(tzinfo=None)
    first = occurrences(rec, anchor, tz, limit=1)
    return first[0] if first else None


def occurrences_between(rec: Recurrence, anchor_local: datetime, tz: tzinfo, start: datetime,
                        end: datetime) -> list[datetime]:
    """UTC instants of the series in [start, end): only that stretch of the rule is walked, so a
    month view costs the same whether the series began last week or five years ago."""
    if not rec.repeats:
        instant = localize(anchor_local, tz)
        return [instant] if as_utc(start) <= instant < as_utc(end) else []
    lo, hi = as_utc(start), as_utc(end)
    # A day of slack on each side in wall-clock terms: zone offsets are never more than that.
    wall_lo = lo.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    wall_hi = hi.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    out: list[datetime] = []
    for wall in _rule(rec, anchor_local).between(max(wall_lo, anchor_local), wall_hi, inc=True):
        resolved = _resolve(wall, tz, rec.gap)
        if resolved is not None and lo <= resolved < hi:
            out.append(resolved)
    return out


def _resolve(wall: datetime, tz: tzinfo, gap: GapPolicy) -> datetime | None:
    if not wall_time_exists(wall, tz) and gap is GapPolicy.SKIP:
        return None
    return localize(wall, tz)
