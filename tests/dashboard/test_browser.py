"""The dashboard in a real browser (Debian's chromium via Playwright) against a real server on
the demo data: every page type loads and draws, the map's KPI, year and peer selectors change
the URL and the map, a click on the map opens a profile, the language switch, the PDF
download (read back with pdftotext) and a chart's PNG download."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bylab.core import Bylab
from bylab.testing.server import running_server
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(demo: Bylab) -> Iterator[str]:
    with running_server(demo) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900},
                                  locale="en-GB", accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_overview_map_draws_and_follows_kpi_year_and_peer_selection(page: Page) -> None:
    page.goto("/dashboard")
    expect(page.locator("#overview-map[data-ready]")).to_be_attached()
    expect(page.locator("#overview-map path.leaflet-interactive")).to_have_count(27)
    expect(page.locator("h1")).to_contain_text("Wireless Broadband Coverage")
    page.get_by_label("Indicator").select_option(label="Population density")
    expect(page).to_have_url(re.compile(r"kpi=CTX-POPULATION-DENSITY"))
    expect(page.locator("h1")).to_contain_text("2026")
    slider = page.get_by_label("Year slider")
    slider.focus()
    slider.press("Home")  # the keyboard moves the slider to the first year
    expect(page).to_have_url(re.compile(r"year=2005"))
    expect(page.locator("h1")).to_contain_text("2005")
    expect(page.locator("#overview-map[data-ready]")).to_be_attached()
    first_rank = page.locator("table.ranking tbody tr").first
    expect(first_rank).to_contain_text("Kristiansund")  # densest in 2005
    page.get_by_label("Peer group").select_option("country")
    expect(page).to_have_url(re.compile(r"peers=country"))
    expect(page.locator(".map-figure figcaption")).to_contain_text("the whole country")


def test_clicking_a_municipality_on_the_map_opens_its_profile(page: Page) -> None:
    page.goto("/dashboard")
    expect(page.locator("#overview-map[data-ready]")).to_be_attached()
    box = page.locator("#overview-map").bounding_box()
    assert box is not None
    # The ranked table's first place, found on the map by its fill colour class.
    page.locator("#overview-map path.leaflet-interactive").nth(5).dispatch_event("click")
    expect(page).to_have_url(re.compile(r"/dashboard/places/NO-15\d\d$"))
    expect(page.locator("table.profile-kpis")).to_be_visible()
    expect(page.locator("table.profile-kpis svg.sparkline").first).to_be_attached()


def test_profile_compare_and_kpi_pages_draw_their_charts(page: Page) -> None:
    page.goto("/dashboard/places/NO-1506")
    expect(page.locator("h1")).to_contain_text("Molde")
    page.get_by_label("Place ids to compare").fill("NO-1506, NO-1505, NO-1508")
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/dashboard/compare\?places="))
    expect(page.locator("canvas[data-ready]")).to_have_count(2)
    page.goto("/indicators/CTX-POPULATION-DENSITY")
    expect(page.locator("canvas[data-ready]")).to_have_count(2)
    expect(page.locator("#overview-map[data-ready]")).to_be_attached()
    page.goto("/datasets/no-population-municipalities")
    frame = page.frame_locator("iframe.dataset-chart")
    expect(frame.locator("canvas[data-ready]")).to_be_attached()
    frame.get_by_label("By", exact=True).select_option("municipality_name")
    expect(frame.locator("h3")).to_contain_text("sum of population by municipality_name")


def test_language_switch_keeps_the_selection(page: Page) -> None:
    page.goto("/dashboard?kpi=CTX-POPULATION-DENSITY&year=2010")
    page.get_by_role("navigation", name="Language").get_by_role("link",
                                                                name="Norsk bokmål").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page).to_have_url(re.compile(r"year=2010"))
    expect(page.locator("h1")).to_contain_text("2010")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_download_holds_the_profile(page: Page, tmp_path: Path) -> None:
    page.goto("/dashboard/places/NO-1505")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "bylab-NO-1505.pdf"
    saved = tmp_path / "report.pdf"
    download.save_as(saved)
    text = " ".join(subprocess.run(["pdftotext", str(saved), "-"], capture_output=True,
                                   check=True).stdout.decode("utf-8").split())
    assert "Kristiansund" in text and "Population density" in text


def test_chart_downloads_as_png(page: Page, tmp_path: Path) -> None:
    page.goto("/dashboard/compare?places=NO-1506,NO-1505")
    expect(page.locator("canvas[data-ready]")).to_have_count(2)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PNG").last.click()
    saved = tmp_path / "chart.png"
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\x89PNG") and saved.stat().st_size > 5_000


def test_phone_width_has_no_horizontal_scroll(browser: Browser, base_url: str) -> None:  # noqa: F811
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    for path in ("/dashboard", "/dashboard/places/NO-1506",
                 "/dashboard/compare?places=NO-1506,NO-1505"):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a phone"
    context.close()
