"""Error messages of the connectors are translatable templates (issue 4): raised with a literal
English template whose ``{fields}`` are its keyword arguments, in the extracted catalogue;
a message that used to be pieced together from English words is one sentence per variant, in
the former English."""

from __future__ import annotations

import httpx
import pytest

from bylab.connectors.harvest import HarvestTarget, harvest_parsed
from bylab.connectors.jsonstat import parse_document
from bylab.connectors.pxweb import pxweb_fetch
from bylab.core import Bylab
from bylab.errors import BylabError, InvalidInput
from tests.connectors.conftest import SCB_V2, load
from tests.connectors.test_pxweb import V2_SOURCE
from tests.scenarios.test_error_templates import checked_templates

NORWEGIAN = {"the server answered HTTP {status}: {detail}":
             "tjeneren svarte HTTP {status}: {detail}"}


def test_connector_errors_are_catalogued_templates_with_their_fields() -> None:
    templates = checked_templates("bylab.connectors")
    assert len(templates) >= 70
    assert {"no harvest source '{source}'", "the resource is larger than {limit:,} bytes",
            "'{key}' is missing or not an object", "'{key}' is missing or not a list",
            "the server answered HTTP {status}", "the server answered HTTP {status}: {detail}",
            } <= templates


@pytest.mark.parametrize(("status", "body", "error_type", "message", "template"), [
    (404, "no such table", InvalidInput, "the server answered HTTP 404: no such table",
     "the server answered HTTP {status}: {detail}"),
    (404, "  ", InvalidInput, "the server answered HTTP 404", "the server answered HTTP {status}"),
    (503, "", BylabError, "the server answered HTTP 503", "the server answered HTTP {status}"),
])
def test_an_http_error_with_and_without_a_detail(status: int, body: str,
                                                 error_type: type[BylabError], message: str,
                                                 template: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text=body))
    with pytest.raises(error_type) as caught:
        pxweb_fetch(V2_SOURCE, transport)
    assert type(caught.value) is error_type
    assert (caught.value.message, caught.value.message_id) == (message, template)
    assert caught.value.field == ("query" if status < 500 else None)


def test_a_page_shows_the_http_error_translated_and_the_api_english() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(400, text="bad selection"))
    with pytest.raises(InvalidInput) as caught:
        pxweb_fetch(V2_SOURCE, transport)
    shown = caught.value.in_language(lambda text: NORWEGIAN.get(text, text))
    assert shown.message == "tjeneren svarte HTTP 400: bad selection"
    assert caught.value.as_dict()["message"] == "the server answered HTTP 400: bad selection"


@pytest.mark.parametrize(("key", "kind"), [("dimension", "an object"), ("id", "a list")])
def test_a_missing_object_and_a_missing_list_are_two_sentences(key: str, kind: str) -> None:
    document = load(SCB_V2)
    document[key] = "neither"
    with pytest.raises(InvalidInput) as caught:
        parse_document(document, "TAB638.json")
    assert caught.value.message == f"'{key}' is missing or not {kind}"
    assert caught.value.message_id == f"'{{key}}' is missing or not {kind}"
    assert caught.value.field == key


@pytest.mark.parametrize(("expected", "message"), [
    (["Region", "Civilstand", "Alder", "Kon", "ContentsCode", "Tid", "Sex"],
     "(missing Sex)"),
    (["Region", "Alder", "Kon", "ContentsCode", "Tid"], "(new Civilstand)"),
    (["Region", "Alder", "Kon", "ContentsCode", "Tid", "Sex"], "(missing Sex; new Civilstand)"),
    (["Civilstand", "Region", "Alder", "Kon", "ContentsCode", "Tid"],
     "(the same variables in another order)"),
])
def test_each_change_of_variables_is_its_own_sentence(embedded: Bylab, expected: list[str],
                                                      message: str) -> None:
    parsed = parse_document(load(SCB_V2), "TAB638.json")
    with pytest.raises(InvalidInput) as caught:
        harvest_parsed(embedded.system_context(), parsed, HarvestTarget("tab638", "molde"),
                       "SE", "TAB638.json", expected_variables=expected)
    assert caught.value.message == (
        f"the table changed its variables {message}; it had {', '.join(expected)}. Check the "
        "table and set the source up again")
    assert "{expected}" in caught.value.message_id
    assert (caught.value.file, caught.value.field) == ("TAB638.json", "variables")
