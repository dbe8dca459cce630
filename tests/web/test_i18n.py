"""The UI in four languages: every marked text translated in nb, sv and pl (the same check as
``python -m bylab.web.i18n check``), catalogues compiled from the .po files, locale number and
date formats, and a page rendered in each language."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po, write_po
from typer.testing import CliRunner

from bylab.catalog.metadata import FREQUENCIES
from bylab.core import Bylab
from bylab.places.models import Place
from bylab.web import i18n
from bylab.web.templating import templates
from tests.web.conftest import log_in

NBSP = "\u00a0"
# A fixture value, near Molde's official 1,505 km² (SSB).
MOLDE_AREA_KM2 = 1505.46
# What the place page of Molde says in each language: the "Places" link, the area with the
# language's decimal and grouping separators, the vocabulary note beside it (AREA_NOTE).
PLACE_PAGE = {
    "en": ("Places", "1,505.5 km²", "approximate: geodesic area"),
    "nb": ("Steder", f"1{NBSP}505,5 km²", "omtrentlig: geodetisk areal"),
    "sv": ("Platser", f"1{NBSP}505,5 km²", "ungefärlig: geodetisk area"),
    "pl": ("Miejsca", f"1{NBSP}505,5 km²", "przybliżona: powierzchnia geodezyjna"),
}


def test_every_ui_text_is_translated_in_nb_sv_and_pl() -> None:
    problems = i18n.check()
    assert not problems, (
        "untranslated UI text: run `python -m bylab.web.i18n update`, translate the new "
        "entries in src/bylab/web/locale/*/LC_MESSAGES/bylab.po\n"
        + "\n".join(f"{language}: {problem}" for language, found in problems.items()
                    for problem in found))


def test_check_command_fails_listing_missing_and_broken_translations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    swedish = locale_dir / "sv" / "LC_MESSAGES" / "bylab.po"
    with swedish.open("rb") as po_file:
        catalog = read_po(po_file, locale="sv")
    catalog["Skip to content"].string = ""
    catalog["Page %(page)d of %(pages)d"].string = "Sida %(sida)d av %(pages)d"
    with swedish.open("wb") as po_file:
        write_po(po_file, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    monkeypatch.setattr(i18n, "TEMPLATE_PATH", locale_dir / "bylab.pot")

    result = CliRunner().invoke(i18n.cli, ["check"])

    assert result.exit_code == 1
    assert "sv: untranslated: 'Skip to content'" in result.output
    assert re.search(r"sv: .*placeholder.*'Page %\(page\)d of %\(pages\)d'", result.output)
    assert "nb: untranslated: 'Skip to content'" not in result.output


def test_catalogues_compile_in_memory_from_the_po_files() -> None:
    assert not list(i18n.LOCALE_DIR.rglob("*.mo")), "no compiled catalogue is committed"
    assert i18n.translations_for("nb").gettext("Log in") == "Logg inn"
    assert i18n.translations_for("sv").gettext("municipality") == "kommun"
    assert i18n.translations_for("pl").gettext("municipality") == "gmina"
    assert i18n.translations_for("en").gettext("Log in") == "Log in"
    polish = i18n.translations_for("pl")
    forms = [polish.ngettext("%(num)d dataset", "%(num)d datasets", count) % {"num": count}
             for count in (1, 3, 5, 22, 112)]
    assert forms == ["1 zbiór danych", "3 zbiory danych", "5 zbiorów danych",
                     "22 zbiory danych", "112 zbiorów danych"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "1,234,567.9 | 2.5 | 25% | 25.4% | 22 Nov 2026 | 22/11/2026, 21:05 | –"),
    ("nb", f"1{NBSP}234{NBSP}567,9 | 2,5 | 25{NBSP}% | 25,4{NBSP}% | 22. nov. 2026"
           " | 22.11.2026, 21:05 | –"),
    ("sv", f"1{NBSP}234{NBSP}567,9 | 2,5 | 25{NBSP}% | 25,4{NBSP}% | 22 nov. 2026"
           " | 2026-11-22 21:05 | –"),
    ("pl", f"1{NBSP}234{NBSP}567,9 | 2,5 | 25% | 25,4% | 22 lis 2026 | 22.11.2026, 21:05 | –"),
])
def test_filters_format_numbers_and_dates_in_the_page_language(
    language: str, expected: str
) -> None:
    page = templates.env.from_string(
        "{{ big|number(1) }} | {{ small|number }} | {{ share|percent }} | {{ share|percent(1) }}"
        " | {{ day|date }} | {{ moment|datetime('short') }} | {{ nothing|number }}")
    rendered = page.render(lang=language, big=1234567.89, small=2.5, share=0.254,
                           day=date(2026, 11, 22),
                           moment=datetime(2026, 11, 22, 21, 5, tzinfo=UTC), nothing=None)
    assert rendered == expected


@pytest.fixture
def molde_with_area(web_instance: Bylab) -> Bylab:
    with web_instance.system_context().db.session() as session:
        session.get(Place, "NO-1506").area_km2 = MOLDE_AREA_KM2
    return web_instance


@pytest.mark.parametrize("language", list(PLACE_PAGE))
def test_a_page_in_each_language_has_its_text_and_number_format(
    molde_with_area: Bylab, web_client: httpx.Client, language: str
) -> None:
    places_link, area, area_note = PLACE_PAGE[language]
    response = web_client.get(f"/places/NO-1506?lang={language}")
    assert response.status_code == 200
    page = response.text
    assert f'<html lang="{language}">' in page
    assert f'<a href="/places">{places_link}</a>' in page
    assert area in page and area_note in page
    # The other languages' formats do not appear.
    assert ("1,505.5" in page) == (language == "en")
    current = re.search(r'<a href="([^"]+)" hreflang="(\w+)" lang="\w+" aria-current="true">',
                        page)
    assert current and current.group(2) == language
    assert current.group(1) == f"/places/NO-1506?lang={language}"
    assert response.cookies.get("lang") == language


def test_the_language_links_keep_the_page_and_its_query(web_client: httpx.Client) -> None:
    page = web_client.get("/datasets?q=molde&lang=sv").text
    links = dict(re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', page))
    assert links == {"/datasets?q=molde&amp;lang=en": "en", "/datasets?q=molde&amp;lang=nb": "nb",
                     "/datasets?q=molde&amp;lang=sv": "sv", "/datasets?q=molde&amp;lang=pl": "pl"}
    assert '<link rel="alternate" hreflang="pl" href="/datasets?q=molde&amp;lang=pl">' in page
    assert "Datakatalog" in page and "Sök bland dataset" in page


def test_vocabulary_values_show_in_the_page_language(web_client: httpx.Client) -> None:
    organisations = web_client.get("/organisations?lang=nb").text
    assert "<td>bedrift</td>" in organisations and "<td>nettverk</td>" in organisations
    assert "<td>company</td>" not in organisations
    assert set(i18n.FREQUENCY_LABELS) == FREQUENCIES  # every code the form offers has a label
    log_in(web_client, "mia")
    form = web_client.get("/datasets/new?lang=pl").text
    assert '<option value="ANNUAL" >rocznie</option>' in form
    assert '<option value="IRREG" >nieregularnie</option>' in form
