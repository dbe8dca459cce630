"""Switching the UI language in a real browser (Debian's chromium through Playwright): the
language links, the page's text and number format, and the choice kept for the next page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bylab.core import Bylab
from tests.web.test_browser import browser, page  # noqa: F401 (the browser fixtures)
from tests.web.test_i18n import PLACE_PAGE, molde_with_area  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_switching_language_translates_the_page_and_is_remembered(
    molde_with_area: Bylab, page: Page  # noqa: F811
) -> None:
    page.goto("/places/NO-1506")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("dl.facts")).to_contain_text(PLACE_PAGE["en"][1])

    languages = page.get_by_role("navigation", name="Language")
    polish = languages.get_by_role("link", name="Polski")
    expect(polish).to_have_attribute("hreflang", "pl")
    expect(polish).to_have_attribute("lang", "pl")
    polish.focus()
    page.keyboard.press("Enter")  # the switch works from the keyboard

    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page).to_have_url(re.compile(r"/places/NO-1506\?lang=pl$"))
    expect(page.locator("dl.facts")).to_contain_text(PLACE_PAGE["pl"][1])
    expect(page.get_by_role("navigation", name="Język")
            .get_by_role("link", name="Polski")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("navigation", name="Menu główne")
            .get_by_role("link", name="Miejsca")).to_be_visible()

    page.get_by_role("link", name="Katalog danych").click()  # no ?lang=: the cookie keeps it
    expect(page).to_have_url(re.compile(r"/datasets$"))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Katalog danych")

    page.get_by_role("link", name="Norsk bokmål").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datakatalog")
