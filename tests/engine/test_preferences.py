"""Publishing preferences in the Setting table: checked before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import OutpostError
from app.engine.preferences import (
    Preferences,
    PublishingPreferences,
    back_up_now,
    backups,
    check_language,
    normalise_language,
)
from app.engine.runtime import Runtime


@pytest.mark.parametrize("tag", ["", "en", "de", "pt-BR", "zh-Hant", "sr-Latn-RS", "es-419", "en, ja"])
def test_language_tags_people_use_are_accepted(tag: str) -> None:
    assert check_language(tag) is None


@pytest.mark.parametrize("tag", ["english", "e", "pt_BR!", "not a language", "en-"])
def test_other_text_is_refused_with_an_example(tag: str) -> None:
    problem = check_language(tag)
    assert problem is not None and "pt-BR" in problem


def test_more_than_bluesky_takes_is_refused() -> None:
    assert check_language("en, de, fr, it") == "Bluesky takes at most 3 languages per post; 4 are listed."


def test_tags_are_stored_in_their_recommended_spelling() -> None:
    assert [normalise_language(t) for t in ("PT-br", "zh-hant", " en ", "", "en ja")] == [
        "pt-BR", "zh-Hant", "en", "", "en, ja"]


def test_a_refused_value_writes_nothing(tmp_path: Path) -> None:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    try:
        prefs = Preferences(rt.db)
        prefs.save(PublishingPreferences(catchup_window_hours=2, post_language="fr"))
        with pytest.raises(OutpostError, match="between 0 and 168"):
            prefs.save(PublishingPreferences(catchup_window_hours=500, post_language="de"))
        assert (prefs.load().catchup_window_hours, prefs.load().post_language) == (2, "fr")
    finally:
        rt.close()


def test_back_up_now_is_listed_newest_first(tmp_path: Path) -> None:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    try:
        first = back_up_now(rt.data_dir)
        second = back_up_now(rt.data_dir)
        assert [b.path for b in backups(rt.data_dir)][:2] == [second, first]
        assert backups(rt.data_dir)[0].kind == "manual"
    finally:
        rt.close()
