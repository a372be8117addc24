"""Language tags for a post's `langs`, from settings and locales as people and systems write them."""

from __future__ import annotations

import pytest

from app.core.language import MAX_LANGS, language_tag, language_tags, system_language


@pytest.mark.parametrize(("written", "tag"), [
    ("en", "en"), ("de_DE.UTF-8", "de-DE"), ("pt-br", "pt-BR"), ("zh_Hant_TW", "zh-Hant-TW"),
    ("sr@latin", "sr"), ("es-419", "es-419"),
    ("C", None), ("POSIX", None), ("English_United States", None), ("", None), ("e", None), ("en-", None),
])
def test_a_tag_is_normalised_or_refused(written: str, tag: str | None) -> None:
    assert language_tag(written) == tag


def test_several_tags_are_checked_deduplicated_and_capped_at_three() -> None:
    assert language_tags("en, en-US;de fr ja") == ("en", "en-US", "de")
    assert len(language_tags("en de fr ja it")) == MAX_LANGS
    assert language_tags("C, nonsense-tag-!!") == ()


def test_the_system_language_comes_from_the_posix_variables_in_order() -> None:
    assert system_language({"LC_ALL": "", "LC_MESSAGES": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}) == "fr-FR"
    assert system_language({"LANG": "C.UTF-8"}, "en_GB") == "en-GB"
    assert system_language({}, None) == ""
