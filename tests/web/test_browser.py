"""The catalogue in a real browser (Debian's chromium, driven by Playwright) against a real
server: log in, publish a private CSV, check who sees it, share it, a bad file's message,
and the language switch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bylab.core import Bylab
from bylab.testing.server import running_server
from tests.web.conftest import PASSWORD, POPULATION_CSV

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, web_instance: Bylab) -> Iterator[Page]:
    with running_server(web_instance) as base_url:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900},
                                      locale="en-GB")
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header .who")).to_have_text(username)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def fill_publish_form(page: Page, data_file: Path, name: str) -> None:
    page.goto("/datasets/new")
    page.get_by_label("Data file").set_input_files(data_file)
    page.get_by_label("Name in the address").fill(name)
    page.get_by_label("Title (English)").fill("Population of Molde and Ålesund")
    page.get_by_label("Population and society").check()
    page.get_by_label("Places covered").fill("NO-1506, NO-1508")
    page.get_by_role("button", name="Publish").click()


def catalogue_titles(page: Page) -> list[str]:
    page.goto("/datasets")
    return page.locator(".results h2 a").all_inner_texts()


def test_private_upload_is_seen_only_by_its_publisher_until_shared(page: Page) -> None:
    log_in(page, "mia")
    fill_publish_form(page, POPULATION_CSV, "population-molde")
    expect(page).to_have_url(re.compile(r"/datasets/population-molde$"))
    expect(page.locator("h1 .badge.private")).to_be_visible()
    schema = page.locator("table.schema tbody th")
    expect(schema).to_contain_text(["municipality_code", "municipality_name", "year",
                                    "population"])
    preview = page.locator("table.preview")
    # Molde's registered population on 1 January 2024 (SSB table 07459), row 20 of the file.
    expect(preview.locator("tr", has_text="32816")).to_contain_text("Molde")
    expect(page.get_by_role("link", name="Molde", exact=True)).to_have_attribute("href", "/places/NO-1506")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    assert "Population of Molde and Ålesund" in catalogue_titles(page)

    log_out(page)
    log_in(page, "ola")
    assert "Population of Molde and Ålesund" not in catalogue_titles(page)
    assert page.goto("/datasets/population-molde").status == 404

    log_out(page)
    log_in(page, "mia")
    page.goto("/datasets/population-molde")
    page.get_by_role("link", name="Change sharing").click()
    page.get_by_role("radio", name=re.compile(r"^Shared")).check()
    page.get_by_label("Smart Molde region").check()
    page.get_by_role("button", name="Save sharing").click()
    expect(page.locator("h1 .badge.shared")).to_be_visible()

    log_out(page)
    log_in(page, "ola")
    assert "Population of Molde and Ålesund" in catalogue_titles(page)
    assert page.goto("/datasets/population-molde").status == 200
    expect(page.locator("table.preview")).to_contain_text("Ålesund")


def test_ragged_csv_shows_the_row_and_keeps_the_entries(page: Page, tmp_path: Path) -> None:
    lines = POPULATION_CSV.read_text(encoding="utf-8").splitlines()
    broken_line = 12  # errors name the line in the file (the header is line 1)
    lines[broken_line - 1] = lines[broken_line - 1].rsplit(",", 1)[0]
    ragged = tmp_path / "ragged_population.csv"
    ragged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log_in(page, "mia")
    # The form is sent by bylab.js (XMLHttpRequest, for upload progress), not as a page load.
    with page.expect_request(lambda request: request.method == "POST"
                             and request.resource_type == "xhr") as upload:
        fill_publish_form(page, ragged, "population-ragged")
    assert upload.value.url.endswith("/datasets/new")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("ragged_population.csv")
    expect(alert).to_contain_text(re.compile(rf"row {broken_line}\b"))
    expect(page.get_by_label("Name in the address")).to_have_value("population-ragged")
    expect(page.get_by_label("Population and society")).to_be_checked()
    assert page.goto("/datasets/population-ragged").status == 404


def test_language_switch_changes_the_lang_attribute(page: Page) -> None:
    page.goto("/datasets?q=molde")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Norsk bokmål").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    assert "q=molde" in page.url  # the search is kept
    page.goto("/datasets")
    expect(page.locator("html")).to_have_attribute("lang", "nb")  # remembered in a cookie
