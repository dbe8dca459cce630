"""Take the README's screenshots of the dashboard (PNG, 1280 wide and a phone) into
docs/screenshots/, from a throw-away demo instance (the real bundled data of `bylab demo`).

    .venv/bin/python -m tests.dashboard.screenshots [output folder]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from bylab.core import Bylab
from bylab.demo.loader import demo_load
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# (path, file name, what shows the page is drawn)
PAGES = (
    ("/dashboard", "dashboard-overview", "#overview-map[data-ready]"),
    ("/dashboard/places/NO-1506", "dashboard-profile", "table.profile-kpis"),
    ("/dashboard/compare?places=NO-1506,NO-1508,NO-1505", "dashboard-compare",
     "canvas[data-ready]"),
    ("/indicators/EC-ICT-ICT-4C", "dashboard-kpi", "canvas[data-ready]"),
)


def shoot(page: Page, base_url: str, output: Path, suffix: str) -> list[Path]:
    taken = []
    for path, name, ready in PAGES:
        page.goto(base_url + path)
        expect(page.locator(ready).first).to_be_attached()
        target = output / f"{name}{suffix}.png"
        size = page.viewport_size or {"width": 1280, "height": 900}
        # Down to twice the window's height: the KPI page's value table runs to 400 rows.
        tall = {"x": 0, "y": 0, "width": size["width"],
                "height": min(size["height"] * 2,
                              page.evaluate("document.documentElement.scrollHeight"))}
        page.screenshot(path=target, full_page=True, clip=tall)
        taken.append(target)
    return taken


def take_screenshots(bylab: Bylab, output: Path = OUTPUT) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with running_server(bylab) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height, suffix in ((1280, 900, ""), (390, 844, "-phone")):
            page = browser.new_page(locale="en-GB", viewport={"width": width, "height": height})
            taken += shoot(page, base_url, output, suffix)
            page.close()
        browser.close()
    return taken


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    with tempfile.TemporaryDirectory() as data_dir:
        bylab = embedded_instance(Path(data_dir))
        demo_load(bylab)
        for screenshot in take_screenshots(bylab, output):
            print(screenshot)
        bylab.close()


if __name__ == "__main__":
    main()
