"""The scenario editor in a real browser (Debian's chromium through Playwright) against a real
server: open a preset for a place, see its fan charts, move a lever and watch the chart and
its table update, then save the scenario as a logged-in editor."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.testing.server import running_server
from tests.web.test_browser import browser  # noqa: F401 (the shared chromium fixture)

pytestmark = pytest.mark.browser
PASSWORD = "a long test password"


@pytest.fixture
def page(request: pytest.FixtureRequest, towns: Bylab) -> Iterator[Page]:
    chromium: Browser = request.getfixturevalue("browser")
    system = towns.system_context()
    accounts.organisation_create(system, "skien", "Skien kommune", place_id="NO-4003")
    accounts.user_create(system, "siri", PASSWORD)
    accounts.membership_set(system, "siri", "skien", Role.EDITOR)
    with running_server(towns) as base_url:
        context = chromium.new_context(base_url=base_url, locale="en-GB",
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def median_2030(page: Page) -> str:
    row = page.locator("figure.fan", has_text="EN: EN: AQ: 2C").locator(
        "table.fan-table tbody tr", has_text="2030")
    return row.locator("td").nth(2).text_content() or ""


def test_moving_a_lever_updates_the_fan_chart_and_the_scenario_saves(page: Page) -> None:
    page.goto("/scenarios")
    page.get_by_role("link", name="Electrify transport").click()
    expect(page).to_have_url(re.compile(r"/scenarios/editor\?preset=electrify-transport"))
    page.get_by_label("Place id").fill("NO-4003")
    page.get_by_role("textbox", name="Place id").press("Enter")  # the form's GET, no script
    expect(page).to_have_url(re.compile(r"place=NO-4003"))
    ghg = page.locator("figure.fan", has_text="EN: EN: AQ: 2C")
    expect(ghg.get_by_role("img")).to_be_visible()
    page.locator("figure.fan", has_text="EN: EN: AQ: 2C").locator("summary").click()
    before = median_2030(page)
    page.get_by_label("Renewable share of electricity and district heat 2030 (value)").fill(
        "25")
    expect(ghg.locator("table.fan-table tbody tr", has_text="2030").locator("td").nth(2)
           ).not_to_have_text(before)  # the fragment was re-fetched and swapped in
    assert float(median_2030(page)) < float(before)  # more renewables, lower emissions

    page.goto("/login?next=/scenarios/editor%3Fpreset%3Dbaseline%26place%3DNO-4003")
    page.get_by_label("Username").fill("siri")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/scenarios/editor"))
    page.get_by_label("Modal shift to public transport and cycling 2030 (value)").fill("12")
    page.get_by_label("Name in the address").fill("skien-modal-shift")
    page.get_by_label("Title").fill("Skien modal shift")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator(".flash")).to_have_text("scenario saved")
    expect(page.get_by_label("Modal shift to public transport and cycling 2030 (value)")
           ).to_have_value("12.0")
    page.goto("/scenarios")
    expect(page.get_by_role("link", name="Skien modal shift")).to_be_visible()
