from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.recurrence import (
    GapPolicy,
    MonthEndPolicy,
    Recurrence,
    RepeatKind,
    next_occurrence,
    occurrences,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def local(instants, tz):
    return [i.astimezone(tz).replace(tzinfo=None) for i in instants]


def test_spring_forward_shifts_a_time_in_the_gap_forward_by_default():
    rule = Recurrence(RepeatKind.DAILY)
    got = local(occurrences(rule, datetime(2025, 3, 8, 2, 30), NY, 3), NY)
    assert got == [datetime(2025, 3, 8, 2, 30), datetime(2025, 3, 9, 3, 30), datetime(2025, 3, 10, 2, 30)]


def test_spring_forward_can_skip_the_missing_time_instead():
    rule = Recurrence(RepeatKind.DAILY, gap=GapPolicy.SKIP)
    got = local(occurrences(rule, datetime(2025, 3, 8, 2, 30), NY, 2), NY)
    assert got == [datetime(2025, 3, 8, 2, 30), datetime(2025, 3, 10, 2, 30)]


def test_fall_back_publishes_an_ambiguous_time_once_at_its_first_occurrence():
    rule = Recurrence(RepeatKind.DAILY)
    got = occurrences(rule, datetime(2025, 11, 1, 1, 30), NY, 3)
    assert [g.astimezone(UTC) for g in got] == [
        datetime(2025, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),  # 01:30 EDT, the first of the two 01:30s
        datetime(2025, 11, 3, 6, 30, tzinfo=UTC),
    ]


def test_daily_keeps_the_wall_clock_time_across_dst_in_berlin():
    rule = Recurrence(RepeatKind.DAILY)
    got = local(occurrences(rule, datetime(2025, 10, 25, 9, 0), BERLIN, 3), BERLIN)
    assert [g.time().isoformat() for g in got] == ["09:00:00"] * 3


def test_monthly_on_the_31st_skips_short_months_by_default():
    rule = Recurrence(RepeatKind.MONTHLY, monthday=31)
    got = [d.date() for d in occurrences(rule, datetime(2025, 1, 31, 9), ZoneInfo("UTC"), 3)]
    assert got == [date(2025, 1, 31), date(2025, 3, 31), date(2025, 5, 31)]


def test_monthly_on_the_31st_can_use_the_last_day_instead():
    rule = Recurrence(RepeatKind.MONTHLY, monthday=31, month_end=MonthEndPolicy.LAST_DAY)
    got = [d.date() for d in occurrences(rule, datetime(2025, 1, 31, 9), ZoneInfo("UTC"), 4)]
    assert got == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]


def test_weekly_with_interval_two_follows_rfc_5545_with_monday_week_start():
    rule = Recurrence(RepeatKind.WEEKLY, weekdays=(1, 6), interval=2)
    got = [d.date() for d in occurrences(rule, datetime(1997, 8, 5, 9), ZoneInfo("UTC"), 4)]
    assert got == [date(1997, 8, 5), date(1997, 8, 10), date(1997, 8, 19), date(1997, 8, 24)]


def test_a_date_range_ends_on_its_last_day():
    rule = Recurrence(RepeatKind.DAILY, until=date(2026, 1, 3))
    got = occurrences(rule, datetime(2026, 1, 1, 23, 30), BERLIN, 10)
    assert len(got) == 3
    assert next_occurrence(rule, datetime(2026, 1, 1, 23, 30), BERLIN, got[-1]) is None


def test_next_occurrence_is_strictly_after_the_given_instant():
    rule = Recurrence.parse("weekly:mon,thu")
    anchor = datetime(2026, 11, 23, 9)  # a Monday
    first = occurrences(rule, anchor, BERLIN, 1)[0]
    nxt = next_occurrence(rule, anchor, BERLIN, first)
    assert nxt is not None and nxt.astimezone(BERLIN).strftime("%a %H:%M") == "Thu 09:00"


@pytest.mark.parametrize("spec", ["weekly:", "weekly:funday", "monthly:0", "monthly:32", "hourly"])
def test_bad_repeat_rules_say_how_to_write_them(spec):
    with pytest.raises(ValueError, match=r"like|use"):
        Recurrence.parse(spec)


def test_a_rule_survives_a_round_trip_through_its_stored_form():
    rule = Recurrence.parse("monthly:31:last", until=date(2027, 1, 1))
    assert Recurrence.from_dict(rule.to_dict()) == rule


def test_occurrences_between_walks_only_the_range_and_keeps_local_time_across_dst():
    from app.core.recurrence import occurrences_between

    rule = Recurrence(RepeatKind.DAILY)
    start = datetime(2026, 3, 27, 0, 0, tzinfo=BERLIN)
    end = datetime(2026, 3, 31, 0, 0, tzinfo=BERLIN)
    got = occurrences_between(rule, datetime(2020, 1, 1, 9, 0), BERLIN, start, end)
    assert local(got, BERLIN) == [datetime(2026, 3, d, 9, 0) for d in (27, 28, 29, 30)]
    assert [g.astimezone(UTC).hour for g in got] == [8, 8, 7, 7]


def test_a_rule_shifted_by_days_moves_its_weekdays_and_monthday():
    assert Recurrence(RepeatKind.WEEKLY, (0, 3)).shifted(1).weekdays == (1, 4)
    assert Recurrence(RepeatKind.WEEKLY, (6,)).shifted(1).weekdays == (0,)
    assert Recurrence(RepeatKind.MONTHLY, monthday=15).shifted(-2).monthday == 13


def test_a_rule_ending_before_a_day_stops_the_day_before_and_never_later_than_it_did():
    assert Recurrence(RepeatKind.DAILY).ending_before(date(2026, 4, 13)).until == date(2026, 4, 12)
    assert Recurrence(RepeatKind.DAILY, until=date(2026, 4, 1)).ending_before(date(2026, 4, 13)).until == date(2026, 4, 1)
