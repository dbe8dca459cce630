"""Error messages in the reader's language: a page translates the message template of a
``bylab.errors`` error and then fills it; the API and the CLI keep the English text."""

from __future__ import annotations

import io
from html import unescape
from typing import Literal

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from gettext import GNUTranslations

from bylab.auth import actions as accounts
from bylab.core import Bylab
from bylab.errors import PYDANTIC_MESSAGES, InvalidInput, NotFound, invalid_input_from
from bylab.web import templating
from bylab.web.i18n import (
    KEYWORDS,
    extract_python_messages,
    extracted_catalog,
    format_number,
    missing_translations,
    translations_for,
)
from tests.web.conftest import csrf_of, log_in

WRONG_LOGIN = "wrong username or password"
WRONG_LOGIN_NB = "feil brukernavn eller passord"
PYDANTIC_TEMPLATES = {template for template, _limit in PYDANTIC_MESSAGES.values()}
TOO_MANY_TRIPS = ("the demand gives {trips:,} car trips; a run simulates at most "
                  "{limit:,}")  # bylab.mobility.runs.run_submit


def translations_of(language: str, messages: dict[str, str]) -> GNUTranslations:
    """A compiled catalogue holding just ``messages`` (msgid -> translation)."""
    catalog = Catalog(locale=language, domain="bylab")
    for msgid, translation in messages.items():
        catalog.add(msgid, translation)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return GNUTranslations(compiled)


NB = translations_of("nb", {
    "no place with id '{place}'": "ingen sted med id '{place}'",
    "row {row}": "rad {row}", "field '{field}'": "felt '{field}'",
    "compare {low} to {high} places, not {count}": "sammenlign {low} til {høy} steder",
})


def test_the_message_is_english_from_a_template_with_named_values() -> None:
    error = NotFound("no place with id '{place}'", field="id", place="NO-9999")
    assert error.message == "no place with id 'NO-9999'"
    assert str(error) == "field 'id': no place with id 'NO-9999'"
    assert error.as_dict() == {"message": "no place with id 'NO-9999'",
                               "message_id": "no place with id '{place}'", "field": "id"}


def test_a_page_translates_the_template_then_fills_it() -> None:
    error = NotFound("no place with id '{place}'", field="id", row=3, place="NO-9999")
    shown = error.in_language(NB.gettext)
    assert shown.message == "ingen sted med id 'NO-9999'"
    assert str(shown) == "rad 3, felt 'id': ingen sted med id 'NO-9999'"
    assert shown.field == "id" and shown.status_code == 404
    assert error.message == "no place with id 'NO-9999'"  # the raised error stays English


def test_a_translation_with_other_fields_falls_back_to_english() -> None:
    error = InvalidInput("compare {low} to {high} places, not {count}", field="places",
                         low=2, high=6, count=1)
    assert error.in_language(NB.gettext).message == "compare 2 to 6 places, not 1"


def test_a_plain_message_keeps_its_braces_and_is_translated_when_catalogued() -> None:
    plain = InvalidInput("expected {\"q\": …}", field="query")
    assert plain.message == plain.message_id == "expected {\"q\": …}"
    assert plain.in_language(NB.gettext).message == plain.message
    fixed = InvalidInput("missing or wrong CSRF token: reload the page and try again")
    assert fixed.in_language(translations_for("nb").gettext).message == (
        "manglende eller feil CSRF-token: last inn siden på nytt og prøv igjen")


def test_error_templates_are_extracted_and_their_fields_checked() -> None:
    catalog = extracted_catalog()
    assert catalog.get(WRONG_LOGIN) is not None  # NotAuthorized(...) in bylab.auth.actions
    assert catalog.get("no place with id '{place}'") is not None
    assert catalog.get("row {row}") is not None
    nb = Catalog(locale="nb", domain="bylab")
    nb.add("no place with id '{place}'", "ingen sted med id '{sted}'")
    nb.add("row {row}", "rad {row}")
    assert missing_translations(nb) == [
        "fields differ from the msgid's: \"no place with id '{place}'\""]


def test_a_form_error_shows_in_norwegian(web_client: httpx.Client,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = translations_of("nb", {WRONG_LOGIN: WRONG_LOGIN_NB})
    monkeypatch.setattr(templating, "translations_for",
                        lambda language: catalogue if language == "nb"
                        else translations_for(language))
    token = csrf_of(web_client.get("/login?lang=nb").text)
    wrong = {"username": "mia", "password": "not the password", "csrf_token": token}
    norwegian = web_client.post("/login?lang=nb", data=wrong)
    assert norwegian.status_code == 401
    assert f'<p class="error" role="alert">{WRONG_LOGIN_NB}</p>' in norwegian.text
    english = web_client.post("/login?lang=en", data=wrong)
    assert f'<p class="error" role="alert">{WRONG_LOGIN}</p>' in english.text


def test_the_error_page_is_translated_and_the_api_stays_english(
        web_client: httpx.Client) -> None:
    page = web_client.post("/login?lang=nb", data={"username": "mia", "password": "x"})
    assert page.status_code == 403
    assert "manglende eller feil CSRF-token" in page.text
    body = web_client.get("/api/places/NO-9999?lang=nb").json()["error"]
    assert body["message"] == "no place with id 'NO-9999'"
    assert body["message_id"] == "no place with id '{place}'"


def test_only_literal_error_messages_are_extracted() -> None:
    """Of an f-string message Babel (before Python 3.12) would keep the parts without a
    field; they are no message, so they are left out."""
    source = (b'raise InvalidInput(f"unknown code {code} (codes look like "\n'
              b'                   f"\'EC: I: WS: 1C\')", field="code")\n'
              b'raise NotFound("no place with id \'{place}\'", place=place)\n'
              b'label = _("Places")\n')
    found = [messages for _line, _name, messages, _comments in extract_python_messages(
        io.BytesIO(source), KEYWORDS, [], {})]
    assert found == [("no place with id '{place}'", None), "Places"]


def test_numbers_in_a_translated_error_are_written_as_the_language_does() -> None:
    error = InvalidInput("the file is {size:,} bytes; {share:g} %, year {year}", field="file",
                         row=12345, size=12345678, share=12.5, year=2024)
    shown = error.in_language(translations_for("nb").gettext, "nb")
    assert str(shown) == ("rad 12345, feltet 'file': the file is 12\xa0345\xa0678 bytes; 12,5 %, "
                          "year 2024")
    assert str(error) == "row 12345, field 'file': the file is 12,345,678 bytes; 12.5 %, year 2024"
    assert error.in_language(translations_for("en").gettext).message == error.message


def test_a_too_large_run_shows_norwegian_numbers_on_the_page_and_english_in_the_api(
        web_instance: Bylab, web_client: httpx.Client) -> None:
    token = accounts.token_create(web_instance.system_context(), "runs", "mia")
    body = {"organisation": "molde", "demand": {"population": 10_000_000, "mode_share": {
        "car": 1.0, "public_transport": 0, "bicycle": 0, "walk": 0}}}
    api = web_client.post("/api/mobility/runs?lang=nb", json=body,
                          headers={"Authorization": f"Bearer {token}"}).json()["error"]
    assert api["message_id"] == TOO_MANY_TRIPS
    assert api["message"].endswith(" car trips; a run simulates at most 500,000")
    log_in(web_client, "mia")
    form = {"organisation": "molde", "population": "10000000", "car": "100",
            "public_transport": "0", "bicycle": "0", "walk": "0", "size": "3",
            "csrf_token": csrf_of(web_client.get("/mobility?lang=nb").text)}
    page = web_client.post("/mobility/runs?lang=nb", data=form)
    assert page.status_code == 413
    nb_template = translations_for("nb").gettext(TOO_MANY_TRIPS)
    assert nb_template != TOO_MANY_TRIPS
    trips = int(api["message"].split()[3].replace(",", ""))
    shown = nb_template.replace(":,}", "}").format(trips=format_number(trips, "nb", 0),
                                                   limit="500\xa0000")
    assert shown in unescape(page.text) and "500,000" not in page.text


class Survey(BaseModel):
    title: str = Field(max_length=5)
    population: int = Field(ge=1, le=10_000_000)
    share: float = 0.5
    kind: Literal["idea", "case"] = "idea"


def problem_with(**values: object) -> InvalidInput:
    with pytest.raises(ValidationError) as raised:
        Survey.model_validate({"title": "Molde", "population": 1, **values})
    return invalid_input_from(raised.value)


def test_pydantic_problems_become_bylab_templates_naming_the_field() -> None:
    cases = [
        (problem_with(title=None), "field 'title': must be text"),
        (problem_with(title="Kristiansund"), "field 'title': must be at most 5 characters"),
        (problem_with(population=0), "field 'population': must be at least 1"),
        (problem_with(population=20_000_000), "field 'population': must be at most 10,000,000"),
        (problem_with(population="many"), "field 'population': must be a whole number"),
        (problem_with(share="half"), "field 'share': must be a number"),
    ]
    for error, english in cases:
        assert str(error) == english
        assert error.message_id in PYDANTIC_TEMPLATES
    missing = invalid_input_from(_validation_error({"population": 3}))
    assert (missing.field, missing.message) == ("title", "is required")


def test_pydantic_problems_show_translated_and_the_rest_in_pydantic_english() -> None:
    nb = translations_for("nb").gettext
    too_many = problem_with(population=20_000_000).in_language(nb, "nb")
    assert too_many.message == nb("must be at most {limit:,}").replace(
        "{limit:,}", "10\xa0000\xa0000")
    assert too_many.message != "must be at most 10,000,000"
    other = problem_with(kind="plan")  # a type bylab has no template of
    assert other.message == "Input should be 'idea' or 'case'"
    assert other.in_language(nb, "nb").message == other.message


def _validation_error(values: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        Survey.model_validate(values)
    return raised.value
