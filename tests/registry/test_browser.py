"""The registry in a real browser (Debian's chromium through Playwright) against a real
server: pose a challenge and see its matches with reasons, follow a project, have its stage
changed by another municipality's editor, and read the notification; record a project's KPI
result and see its before and after values; respond to a challenge."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import insert

from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.indicators.models import IndicatorValue
from bylab.registry.seed import registry_seed
from bylab.testing.server import running_server
from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser  # noqa: F401 (the shared chromium fixture)
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser, embedded: Bylab) -> Iterator[Page]:  # noqa: F811
    """The seed, with editors mia (Molde) and ola (Ålesund)."""
    ctx = embedded.system_context()
    registry_seed(ctx)
    for username, organisation in (("mia", "molde"), ("ola", "alesund")):
        accounts.user_create(ctx, username, PASSWORD)
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
    with running_server(embedded) as base_url:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900},
                                      locale="en-GB")
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def test_challenge_matches_follow_and_stage_change(page: Page) -> None:
    log_in(page, "mia")
    page.goto("/registry")
    page.get_by_role("link", name="Pose a challenge").click()
    page.get_by_label("Challenge owner").select_option("molde")
    page.get_by_label("Name in the address").fill("test-twin-harbour")
    page.get_by_label("Language of the texts").select_option("nb")
    page.get_by_label("Title").fill("Simulering av havneområdet")
    page.get_by_label("Needs", exact=True).fill("Vi trenger en digital tvilling med visualisering.")
    page.get_by_label("Urban planning").check()
    page.get_by_label("Related U4SSC KPI codes").fill("WATER-1")  # not a KPI code
    page.get_by_role("button", name="Pose the challenge").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown KPI code 'WATER-1'")
    expect(page.get_by_label("Title")).to_have_value("Simulering av havneområdet")
    page.get_by_label("Related U4SSC KPI codes").fill("")
    page.get_by_role("button", name="Pose the challenge").click()
    expect(page).to_have_url(re.compile(r"/registry/challenges/test-twin-harbour$"))

    matches = page.locator("table.matches tbody tr")
    top = matches.first
    expect(top.get_by_role("link")).to_have_text("Ålesund smart city lab and U4SSC membership")
    expect(top).to_contain_text("shared domain: urban planning")
    expect(top).to_contain_text("shared term: 'simulering' ↔ 'simulation'")
    expect(top).to_contain_text("stage reached: operation")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_text("You follow this.")).to_be_visible()

    top.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/registry/projects/alesund-smart-city-lab$"))
    page.get_by_role("button", name="Follow").click()
    expect(page.locator("form.stage-form")).to_have_count(0)  # not Molde's project
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ola")
    page.goto("/registry/projects/alesund-smart-city-lab")
    page.get_by_label("New stage").select_option("scaled")
    page.get_by_label("Why").fill("reused by Kristiansund")
    page.get_by_role("button", name="Change stage").click()
    expect(page.locator("h1 .badge")).to_have_text("scaled")
    last = page.locator("table.history tbody tr").last
    expect(last).to_contain_text("scaled")
    expect(last).to_contain_text("ola")
    expect(last).to_contain_text("reused by Kristiansund")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "mia")
    page.goto("/registry/notifications")
    note = page.locator("ol.notifications li.unread")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("ola moved project 'Ålesund smart city lab and U4SSC "
                                 "membership' to stage 'scaled': reused by Kristiansund")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("ol.notifications li.unread")).to_have_count(0)


def test_kpi_result_before_after_and_responding_to_a_challenge(page: Page,
                                                               embedded: Bylab) -> None:
    # Hand-made indicator values for the test, NOT real figures (lower is better).
    rows = [{"kpi_code": "EN: EN: AQ: 2C", "place_id": "NO-1506", "period": period,
             "status": "computed", "value": value, "unit": "t / person", "reason": "",
             "dataset_ids": [], "provenance": {}} for period, value in (("2019", 5.0),
                                                                         ("2023", 4.5))]
    with embedded.db.session() as session:
        session.execute(insert(IndicatorValue), rows)
    log_in(page, "mia")
    page.goto("/registry/projects/smart-molde-programme")
    page.get_by_text("Add a KPI result").click()
    page.get_by_label("U4SSC KPI code").fill("EN: EN: AQ: 2C")
    page.get_by_label("Place id").fill("NO-1506")
    page.get_by_label("Period before").fill("2019")
    page.get_by_label("Period after").fill("2023")
    page.get_by_role("button", name="Add the result").click()
    row = page.locator("table.results tbody tr").first
    expect(row).to_contain_text("EN: EN: AQ: 2C")
    expect(row.locator("td").nth(1)).to_contain_text("5 t / person")
    expect(row.locator("td").nth(2)).to_contain_text("4.5 t / person")
    expect(row).to_contain_text("improved")
    provenance = row.get_by_role("link", name="computed by bylab").first
    expect(provenance).to_have_attribute("href", re.compile(r"period=2019$"))
    page.goto("/registry/challenges/city-as-a-platform-silos")
    page.get_by_role("button", name="Follow").click()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ola")
    page.goto("/registry/challenges/city-as-a-platform-silos")
    page.get_by_label("Kind of response").select_option("case")
    page.get_by_label("Your response").fill("Our smart city lab brings departments together.")
    page.get_by_label("Project it is").fill("alesund-smart-city-lab")
    page.get_by_role("button", name="Send the response").click()
    response = page.locator("ol.responses li.response").first
    expect(response).to_contain_text("Ålesund kommune")
    expect(response).to_contain_text("Our smart city lab brings departments together.")
    expect(response.get_by_role("link", name="Ålesund smart city lab and U4SSC membership")
           ).to_be_visible()
    expect(response.locator(".response-status")).to_have_text("open")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "mia")
    page.goto("/registry/notifications")
    expect(page.locator("ol.notifications li.unread")).to_contain_text(
        "Ålesund kommune responded to challenge 'Breaking silos in smart city collaboration' "
        "with a case")
