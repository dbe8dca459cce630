"""Match and search reasons: the API's English text, and the pages' text in the reader's
language with a proper plural and the language's decimal separator."""

from __future__ import annotations

import pytest

from bylab.registry.reasons import Reason, embedding_reason


def test_the_english_text_keeps_python_numbers_and_pages_write_the_languages() -> None:
    reason = embedding_reason(0.4567)
    assert reason.text == "embedding similarity 0.46 (USE multilingual v3)"
    assert reason.in_language("en") == reason.text
    assert reason.in_language("pl") == "podobieństwo osadzeń 0,46 (USE multilingual v3)"
    area = Reason("size", "similar_area", {"other": "NO-1505", "other_km2": 1633.4,
                                           "mine": "NO-1506", "mine_km2": 363.2})
    assert area.text == "similar area: NO-1505 1633 km², NO-1506 363 km²"
    assert "NO-1505 1 633 km²" in area.in_language("nb").replace("\xa0", " ")


@pytest.mark.parametrize(("count", "english"), [(1, "deployed in 1 project"),
                                                (3, "deployed in 3 projects")])
def test_deployed_counts_projects_in_the_right_form(count: int, english: str) -> None:
    reason = Reason("deployed", "deployed", {"count": count})
    assert reason.text == english
    assert reason.as_dict() == {"code": "deployed", "count": count}


def test_a_plural_reason_needs_its_count() -> None:
    with pytest.raises(ValueError, match="count"):
        Reason("deployed", "deployed", {})


def test_vocabulary_words_are_translated_on_pages_only() -> None:
    stage = Reason("stage", "stage", {"stage": "operation"})
    assert stage.text == "stage reached: operation"
    assert stage.in_language("nb").endswith(": i drift")
