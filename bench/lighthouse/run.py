"""Lighthouse scores of the dashboard's region overview and city profile pages, beside the
catalogue page as a baseline, from a local server on the demo data, with Debian's chromium.

    (cd bench/lighthouse && npm ci)
    .venv/bin/python bench/lighthouse/run.py [--keep-reports DIR]

Lighthouse (from the npm registry, pinned in package.json here) runs its default mobile
emulation and throttling against a throw-away demo instance served on 127.0.0.1; targets
(issue 4): accessibility >= 95, best practices >= 95, performance >= 90. Exits 1 when a
target is missed, so it can gate a release.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bylab.demo.loader import demo_load
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
PAGES = {"catalogue (baseline)": "/datasets", "region overview": "/dashboard",
         "city profile": "/dashboard/places/NO-1506"}


def scores(url: str, report_path: Path) -> tuple[dict[str, int], list[str]]:
    """The category scores (0–100) of one page and the titles of its failed audits."""
    subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report_path}",
         f"--only-categories={','.join(CATEGORIES)}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
        check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    result = json.loads(report_path.read_text())
    categories = result["categories"]
    failed = sorted({result["audits"][ref["id"]]["title"]
                     for category in categories.values() for ref in category["auditRefs"]
                     if ref["weight"] > 0
                     and (result["audits"][ref["id"]].get("score") or 0) < 0.9
                     and result["audits"][ref["id"]].get("scoreDisplayMode") == "binary"})
    return {name: round(100 * (categories[name]["score"] or 0)) for name in CATEGORIES}, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep-reports", type=Path, help="folder for the JSON reports")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        print(f"Lighthouse is not installed: run `npm ci` in {HERE}", file=sys.stderr)
        return 2
    missed = False
    with tempfile.TemporaryDirectory(prefix="bylab-lighthouse-") as folder:
        reports = args.keep_reports or Path(folder)
        reports.mkdir(parents=True, exist_ok=True)
        bylab = embedded_instance(Path(folder) / "data")
        demo_load(bylab)
        with running_server(bylab) as base_url:
            print(f"{'page':<22} " + " ".join(f"{name:>15}" for name in CATEGORIES))
            for label, path in PAGES.items():
                found, failed = scores(base_url + path,
                                       reports / f"{path.strip('/').replace('/', '_')}.json")
                print(f"{label:<22} " + " ".join(f"{found[name]:>15}" for name in CATEGORIES))
                for title in failed:
                    print(f"{'':<24}failed audit: {title}")
                if "baseline" not in label:
                    missed |= any(found[name] < TARGETS[name] for name in CATEGORIES)
        bylab.close()
    print("targets " + ", ".join(f"{name} >= {TARGETS[name]}" for name in CATEGORIES) + ": "
          + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
