"""The re-check schedule of unknown outcomes and the words a person reads: pure functions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.engine.retry_policy import (
    CANNOT_TELL,
    RECHECK_DELAYS,
    UNREACHABLE,
    USED_UP,
    answer_lost,
    ask_the_person,
    checking_again,
    decide,
    not_sent,
)

NOW = datetime(2026, 12, 7, 14, 4, tzinfo=UTC)


@pytest.fixture
def utc_here(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This computer's clock shows UTC (messages show local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_default_schedule_is_1_5_15_and_60_minutes():
    assert [d.total_seconds() / 60 for d in RECHECK_DELAYS] == [1, 5, 15, 60]


@pytest.mark.parametrize("checks, wait", [(1, 1), (2, 5), (3, 15), (4, 60)])
def test_while_the_platform_cannot_be_reached_each_check_is_followed_by_the_next_wait(checks, wait):
    decision = decide(checks, platform_answered=False, now=NOW)
    assert decision.why == UNREACHABLE and not decision.ask_the_person
    assert decision.recheck_at == NOW + timedelta(minutes=wait)


def test_once_the_schedule_is_used_up_the_person_is_asked():
    decision = decide(len(RECHECK_DELAYS) + 1, platform_answered=False, now=NOW)
    assert decision.why == USED_UP and decision.ask_the_person and decision.recheck_at is None


@pytest.mark.parametrize("checks", [1, 3, 5])
def test_a_platform_that_answered_and_cannot_say_asks_the_person_at_once(checks):
    decision = decide(checks, platform_answered=True, now=NOW)
    assert decision.why == CANNOT_TELL and decision.ask_the_person


def test_a_custom_schedule_is_followed():
    delays = (timedelta(seconds=2),) * 2
    assert decide(2, False, NOW, delays).recheck_at == NOW + timedelta(seconds=2)
    assert decide(3, False, NOW, delays).why == USED_UP


@pytest.mark.parametrize("kwargs, sentence", [
    ({"code": "ReadTimeout"}, "The answer from Bluesky was lost (timeout)."),
    ({"code": "PublishTimeout"}, "The answer from Bluesky was lost (timeout)."),
    ({"http_status": 503}, "Bluesky had a server error (HTTP 503) while receiving the post."),
    ({"code": "RemoteProtocolError"}, "The answer from Bluesky was lost (the connection broke)."),
    ({"stopped": True}, "Outpost stopped before Bluesky answered."),
    ({}, "The answer from Bluesky was lost."),
])
def test_what_happened_is_one_sentence_naming_the_cause(kwargs, sentence):
    assert answer_lost("Bluesky", **kwargs) == sentence


def test_the_first_waiting_message_says_what_happened_and_when_outpost_looks_again_once(utc_here):
    what = answer_lost("Bluesky", code="ReadTimeout")
    text = checking_again(what, "Bluesky", 1, NOW + timedelta(minutes=1), NOW)
    assert text == ("The answer from Bluesky was lost (timeout). Outpost checks again at 14:05 whether it went out; "
                    "it will not send it twice.")
    later = checking_again(what, "Bluesky", 3, NOW + timedelta(minutes=15), NOW)
    assert "could not be reached to check (3 tries so far)" in later and later.count("checks again") == 1


def test_a_check_on_another_day_names_the_day(utc_here):
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    text = checking_again("x.", "Bluesky", 4, late + timedelta(minutes=60), late)
    assert "at Dec 8 00:30" in text


def test_asking_the_person_says_what_to_do_and_promises_nothing():
    what = answer_lost("Bluesky", code="ReadTimeout")
    used_up = ask_the_person(what, "Bluesky", "alice.test (Bluesky)", decide(5, False, NOW), 5, "HTTP 503")
    assert used_up == ("The answer from Bluesky was lost (timeout). Bluesky could not be reached in 5 checks, so "
                       "Outpost cannot tell whether it went out and stopped checking. Check alice.test (Bluesky), "
                       "then mark it published or publish it again.")
    cannot = ask_the_person(what, "Bluesky", "alice.test (Bluesky)", decide(1, True, NOW), 1, "no lookup.")
    assert "Bluesky cannot tell whether it went out (no lookup)." in cannot
    for text in (used_up, cannot):
        assert "will try" not in text and "checks again" not in text


def test_a_post_found_unpublished_says_when_it_goes_out_again_or_that_the_attempts_are_spent(utc_here):
    what = answer_lost("Mastodon", http_status=502)
    assert not_sent(what, NOW + timedelta(minutes=1), NOW, 1).endswith(
        "It was not published; Outpost sends it again at 14:05.")
    assert not_sent(what, None, NOW, 3).startswith("Gave up after 3 attempts: Mastodon had a server error")
