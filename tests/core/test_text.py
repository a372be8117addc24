"""Counting follows each platform's published rule (platforms.md, "Limits"; reliability.md case 56)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.models import MediaItem, MediaKind, Platform, PostContent
from app.core.rules import RULES, validate_content
from app.core.text import CountingRule, _units, count, measure, utf8_offset


def test_x_counts_140_cjk_characters_as_full_and_rejects_141():
    rules = RULES[Platform.X]
    assert validate_content(PostContent("字" * 140), rules) == []
    problems = validate_content(PostContent("字" * 141), rules)
    assert [p.field for p in problems] == ["text"]
    assert "282" in problems[0].message


def test_x_counts_any_url_as_23():
    short = "https://x.co"
    long = "https://example.com/" + "a" * 200
    assert count(short, CountingRule.X_WEIGHTED) == 23
    assert count(long, CountingRule.X_WEIGHTED) == 23


def test_x_counts_an_emoji_zwj_sequence_as_2():
    assert count("👩‍👩‍👧‍👦", CountingRule.X_WEIGHTED) == 2


def test_bluesky_counts_graphemes_and_bytes():
    family = "👩‍👩‍👧‍👦"
    assert count(family * 300, CountingRule.GRAPHEMES) == 300
    problems = validate_content(PostContent(family * 300), RULES[Platform.BLUESKY])
    assert any("3,000 bytes" in p.message and "7,500" in p.message for p in problems)  # 300 graphemes
    assert validate_content(PostContent("é" * 300), RULES[Platform.BLUESKY]) == []


def test_threads_counts_an_emoji_as_its_utf8_bytes():
    assert count("hi 👍", CountingRule.EMOJI_AS_UTF8_BYTES) == 3 + 4
    assert count("é", CountingRule.EMOJI_AS_UTF8_BYTES) == 1


def test_mastodon_counts_links_as_23_and_remote_mentions_by_username():
    text = "see https://example.com/a/very/long/path/that/goes/on @bob@mastodon.social"
    assert count(text, CountingRule.URL_WEIGHTED) == len("see ") + 23 + 1 + len("@bob")


def test_measure_points_at_the_first_character_over_the_limit():
    m = measure("abcdef", CountingRule.CHARACTERS, 4)
    assert (m.count, m.over_from, m.fits) == (6, 4, False)
    m = measure("ab👩‍👩‍👧‍👦c", CountingRule.GRAPHEMES, 2)
    assert m.over_from == 2
    x = measure("a" * 279 + "字字", CountingRule.X_WEIGHTED, 280)
    assert x.count == 283 and x.over_from == 279


def test_utf8_offsets_for_facets_account_for_emoji():
    text = "👍 #tag"
    assert utf8_offset(text, text.index("#")) == 5


def test_media_rules_are_checked_while_composing():
    img = MediaItem("/tmp/a.png", MediaKind.IMAGE, mime_type="image/png", size_bytes=3_000_000)
    problems = validate_content(PostContent("x", media=(img,) * 5), RULES[Platform.BLUESKY])
    messages = " ".join(p.message for p in problems)
    assert "at most 4" in messages and "3.0 MB" in messages
    problems = validate_content(PostContent("x", media=(img,)), RULES[Platform.THREADS])
    assert "public web address" in problems[0].message


@pytest.mark.parametrize("platform", [Platform.INSTAGRAM, Platform.TIKTOK, Platform.YOUTUBE, Platform.PINTEREST])
def test_media_first_platforms_say_they_need_media(platform):
    problems = validate_content(PostContent("caption only"), RULES[platform])
    assert problems and problems[0].field == "media"


_TEXTS = st.text(alphabet=st.sampled_from(list("ab \r\n@:/.xé字👍\u200d👩#")) | st.characters(), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from([r for r in CountingRule if r is not CountingRule.X_WEIGHTED]))
def test_the_fast_count_agrees_with_the_unit_by_unit_count(text, rule):
    assert count(text, rule) == sum(w for _, _, w in _units(text, rule, 23))
    m = measure(text, rule, 10)
    assert m.count == count(text, rule)
    assert (m.over_from is None) == (m.count <= 10)


def test_a_lone_surrogate_is_a_clear_problem_not_a_crash():
    broken = "caf\udce9 au lait"  # what undecodable command-line bytes turn into
    for platform in (Platform.BLUESKY, Platform.THREADS, Platform.X, Platform.MASTODON):
        problems = validate_content(PostContent(broken), RULES[platform])
        assert any("broken character" in p.message for p in problems)


@pytest.mark.parametrize("rule", list(CountingRule))
@pytest.mark.parametrize("unit", ["a", "é ", "👩\u200d👩\u200d👧", "see https://example.com/a-long-path ", "字"])
def test_a_huge_text_is_counted_only_until_it_is_clearly_over(rule, unit):
    """Counting stops at a bound: the excess starts where an exact count says, the count is a lower bound."""
    limit = 300
    huge = unit * (200_000 // len(unit))
    head = huge[:30_000]  # longer than any bound, and short enough to count exactly here
    m = measure(huge, rule, limit)
    exact = measure(head, rule, limit)
    assert not m.fits and m.over_from == exact.over_from
    cheap = rule in (CountingRule.CHARACTERS, CountingRule.UTF8_BYTES)
    assert m.exact is cheap
    if cheap:
        assert m.count == count(huge, rule)
    else:
        assert limit < m.count <= exact.count  # a lower bound, and already over
        assert m.shown.endswith("+") and m.excess.startswith("at least ")


def test_a_long_text_under_the_bound_is_still_counted_exactly():
    text = "word " * 3_000  # 15,000 characters: under the bound, over the limit
    m = measure(text, CountingRule.GRAPHEMES, 300)
    assert m.exact and m.count == 15_000 and m.over_from == 300 and m.excess == "14,700"


def test_a_long_text_of_links_that_fits_is_never_cut_short():
    """Mastodon counts each link as 23: 30,000 characters of one link can still fit, counted in full."""
    text = "https://example.com/" + "a" * 30_000
    m = measure(text, CountingRule.URL_WEIGHTED, 500)
    assert m.exact and m.fits and m.count == 23
