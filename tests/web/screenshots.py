"""Take the README's screenshots of the catalogue and a dataset page (PNG, 1280 wide) into
docs/screenshots/, from a throw-away instance holding real bundled data.

    .venv/bin/python -m tests.web.screenshots
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind, Role
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_publish
from bylab.core import Bylab
from bylab.places.models import Place
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
STATISTICS = ROOT / "src" / "bylab" / "demo" / "data" / "statistics"
OUTPUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshots only"
SSB = "Statistics Norway (SSB), table 07459, via FHI's csdata. Attribution: Statistisk sentralbyrå."

# (file, metadata): every file and fact below is from src/bylab/demo/data/SOURCES.md.
DATASETS = [
    (ROOT / "tests" / "data" / "web" / "no_population_molde_alesund.csv", DatasetMetadata(
        name="population-molde-alesund", organisation="molde", visibility="public",
        title={"en": "Population of Molde and Ålesund", "nb": "Folketal i Molde og Ålesund"},
        description={"en": "Registered population on 1 January, by sex and age group, on 2024 "
                           "municipal borders. Also Oslo and Bergen 2024–2026 for comparison."},
        themes=["SOCI"], keywords=["population", "folketall"], licence_id="NLOD-2.0",
        spatial=["NO-1506", "NO-1508"], frequency="ANNUAL", source_note=SSB,
        contact_name="Molde kommune", landing_page="https://www.ssb.no/statbank/table/07459")),
    (STATISTICS / "no_broadband_coverage_municipalities_1h2022.csv", DatasetMetadata(
        name="broadband-coverage-2022", organisation="molde", visibility="shared",
        shared_with=["smart-molde"],
        title={"en": "Broadband and mobile coverage, first half of 2022"},
        description={"en": "Share of households covered, per municipality and technology."},
        themes=["TECH"], keywords=["broadband", "5G"], licence_id="NLOD-2.0",
        source_note="Nasjonal kommunikasjonsmyndighet (Nkom), 1H2022.")),
    (STATISTICS / "no_ghg_emissions_telemark_by_sector.csv", DatasetMetadata(
        name="ghg-emissions-telemark", organisation="molde", visibility="private",
        title={"en": "Greenhouse-gas emissions in Telemark by sector"},
        description={"en": "Tonnes CO2-equivalent by municipality, year and sector."},
        themes=["ENVI"], keywords=["climate"], licence_id="NLOD-2.0",
        source_note="Miljødirektoratet, Klimagassutslipp fra kommuner.")),
]


def _instance(data_dir: Path) -> Bylab:
    bylab = embedded_instance(data_dir)
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "smart-molde", "Smart Molde region",
                                 OrganisationKind.NETWORK)
    accounts.network_add_member(ctx, "smart-molde", "molde")
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    with ctx.db.session() as session:
        for code, name in (("1506", "Molde"), ("1508", "Ålesund")):
            session.add(Place(id=f"NO-{code}", country="NO", level="municipality", code=code,
                              code_scheme="kommunenummer", name=name, names={"nb": name}))
    for source, metadata in DATASETS:
        dataset_publish(ctx, metadata, source)
    return bylab


def _log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def take_screenshots(output: Path = OUTPUT) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory() as data_dir:
        bylab = _instance(Path(data_dir))
        with running_server(bylab) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, height, suffix in ((1280, 1000, ""), (390, 844, "-phone")):
                page = browser.new_page(base_url=base_url, locale="en-GB",
                                        viewport={"width": width, "height": height})
                _log_in(page)
                for path, name in (("/datasets", "catalogue"),
                                   ("/datasets/population-molde-alesund", "dataset")):
                    page.goto(path)
                    target = output / f"{name}{suffix}.png"
                    # The dataset page down to its preview table; the catalogue whole.
                    tall = {"x": 0, "y": 0, "width": width, "height": height * 2}
                    page.screenshot(path=target, full_page=True,
                                    clip=tall if name == "dataset" else None)
                    taken.append(target)
                page.close()
            browser.close()
        bylab.close()
    return taken


if __name__ == "__main__":
    for screenshot in take_screenshots(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT):
        print(screenshot)
