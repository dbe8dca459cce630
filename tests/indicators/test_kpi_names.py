"""KPI names and classification labels in nb/sv/pl: bylab's own translations, labelled so."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab
from bylab.indicators.actions import kpi_show
from bylab.indicators.kpis import (
    CATALOGUE_DIR,
    NAME_BYLAB_TRANSLATION,
    NAME_ENGLISH_FALLBACK,
    NAME_FROM_CATALOGUE,
    classification_label,
    u4ssc_kpis,
)
from bylab.testing.backends import embedded_instance
from bylab.web.i18n import translations_for

TRANSLATED = ("nb", "sv", "pl")


def _csv_rows(filename: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(CATALOGUE_DIR / filename, encoding="utf-8", newline="") as csv_file:
        reader = csv.DictReader(csv_file)
        return list(reader.fieldnames or []), list(reader)


def _catalogue_labels() -> set[str]:
    return {label for kpi in u4ssc_kpis()
            for label in (kpi.dimension, kpi.subdimension, kpi.category)}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    instance: Bylab = embedded_instance(tmp_path_factory.mktemp("names") / "data")
    with TestClient(create_app(instance), base_url="http://testserver") as client:
        yield client
    instance.close()


def test_name_file_has_one_row_per_catalogue_kpi_and_no_other() -> None:
    header, rows = _csv_rows("u4ssc_names_bylab_translations.csv")
    assert header == ["code", *TRANSLATED]
    codes = [row["code"] for row in rows]
    assert [code for code, count in Counter(codes).items() if count > 1] == []
    assert set(codes) == {kpi.code for kpi in u4ssc_kpis()}


def test_every_kpi_has_a_name_in_every_language_marked_as_bylabs_translation() -> None:
    for kpi in u4ssc_kpis():
        for language in TRANSLATED:
            assert kpi.names[language].strip(), (kpi.code, language)
            assert kpi.name_is_translation(language)
            assert kpi.name_source(language) == NAME_BYLAB_TRANSLATION
        assert not kpi.name_is_translation("en")
        assert kpi.name_source("en") == NAME_FROM_CATALOGUE


def test_names_use_the_national_statistics_terms() -> None:
    unemployment = kpi_show("EC-P-EM-1C").kpi
    assert unemployment.name("en") == "Unemployment Rate"
    assert [unemployment.name(language) for language in TRANSLATED] == [
        "Arbeidsledighet", "Arbetslöshet", "Stopa bezrobocia"]
    assert kpi_show("EC-ICT-ICT-1C").kpi.name("nb") == "Husholdninger med internettilgang"
    assert kpi_show("EN-EN-AQ-2C").kpi.name("sv") == "Utsläpp av växthusgaser"


def test_a_context_indicator_has_no_translation_and_says_it_falls_back() -> None:
    density = kpi_show("CTX: POPULATION-DENSITY").kpi
    assert density.name("nb") == density.name("en")
    assert not density.name_is_translation("nb")
    assert density.name_source("nb") == NAME_ENGLISH_FALLBACK


def test_label_file_covers_exactly_the_catalogue_labels() -> None:
    header, rows = _csv_rows("u4ssc_labels_bylab_translations.csv")
    assert header == ["en", *TRANSLATED]
    labels = [row["en"] for row in rows]
    assert len(labels) == len(set(labels))
    assert set(labels) == _catalogue_labels()
    assert all(row[language].strip() for row in rows for language in TRANSLATED)


def test_label_lookup_translates_and_falls_back_to_english() -> None:
    assert [classification_label("Society and Culture", language)
            for language in ("en", *TRANSLATED)] == [
        "Society and Culture", "Samfunn og kultur", "Samhälle och kultur",
        "Społeczeństwo i kultura"]
    assert classification_label("Employment", "pl") == "Zatrudnienie"
    assert classification_label("Employment", "de") == "Employment"
    assert classification_label("Not a label", "nb") == "Not a label"


@pytest.mark.parametrize("language", TRANSLATED)
def test_labels_agree_with_the_ui_translations(language: str) -> None:
    # Pages translate the same labels through the .po files; the two must not drift apart.
    ui = translations_for(language)
    for label in _catalogue_labels():
        assert classification_label(label, language) == ui.gettext(label), label


def test_api_gives_every_name_with_its_source(api: httpx.Client) -> None:
    response = api.get("/api/indicators/kpis")
    assert response.status_code == 200
    by_code = {item["code"]: item for item in response.json()}
    unemployment = by_code["EC: P: EM: 1C"]
    assert unemployment["names"] == {"en": "Unemployment Rate", "nb": "Arbeidsledighet",
                                     "sv": "Arbetslöshet", "pl": "Stopa bezrobocia"}
    assert unemployment["name_sources"] == {"en": "catalogue", "nb": "bylab_translation",
                                            "sv": "bylab_translation",
                                            "pl": "bylab_translation"}
    density = by_code["CTX: POPULATION-DENSITY"]
    assert density["name_sources"]["pl"] == "english_fallback"
    assert density["names"]["pl"] == density["names"]["en"]
    detail = api.get("/api/indicators/kpis/EC-P-EM-1C").json()
    assert detail["names"]["sv"] == "Arbetslöshet"
    assert detail["name_sources"]["sv"] == "bylab_translation"


def test_catalogue_page_shows_the_name_in_the_chosen_language(api: httpx.Client) -> None:
    page = api.get("/indicators", params={"lang": "pl"})
    assert page.status_code == 200
    assert "Stopa bezrobocia" in page.text and "Emisja gazów cieplarnianych" in page.text
    assert "własne tłumaczenia bylab" in page.text


def test_kpi_page_says_a_translated_name_is_bylabs(api: httpx.Client) -> None:
    norwegian = api.get("/indicators/EC-P-EM-1C", params={"lang": "nb"})
    assert norwegian.status_code == 200
    assert "<h1>Arbeidsledighet" in norwegian.text
    assert "Dette navnet er bylabs egen oversettelse" in norwegian.text
    assert '<span lang="en">Unemployment Rate</span>' in norwegian.text
    english = api.get("/indicators/EC-P-EM-1C", params={"lang": "en"})
    assert "<h1>Unemployment Rate" in english.text
    assert "the sourced name is the English one" not in english.text
