"""Dashboard load: server time of the region overview and city profile pages and their data
endpoints under an open-loop request rate from a second process, beside the framework's floor
(/api/health) at the same rate, and the page weight of a first load in chromium.

    .venv/bin/python bench/dashboard_load.py [--rate 100] [--seconds 15] [--workers N]
                                             [--no-weight] [--cold] [--data-dir DIR]

1. Loads the demo region (the real bundled data of `bylab demo`, indicators computed) into an
   embedded instance in a temporary folder.
2. Serves it with ``bylab serve`` (its default workers unless ``--workers``) in a separate
   process on 127.0.0.1.
3. Sends requests on a fixed schedule with the catalogue benchmark's generator (see
   bench/catalog_load.py: open loop, keep-alive, gzip), first to /api/health (baseline),
   then a mix of overview pages (every KPI and year of the default region, two peer groups)
   with their data endpoints (overview JSON, the map's boundaries) and profile pages (every
   municipality of the region) with theirs (values CSV), and prints p50/p95/p99 per endpoint
   against the target (p95 < 50 ms). Views and their serialised answers are kept per server
   process until the stored values, targets, places or catalogue change
   (bylab.dashboard.actions.cached_view, bylab.dashboard.routes.cached_response); a warm-up
   opens every address of the mix first, several times over fresh connections from parallel
   clients so that each worker process meets it, so the figures are of the steady state; the
   warm-up's own time (the first views, which read the stored values) is printed.
4. Cold views (``--cold`` runs only this step, in-process, no server): the first GET of the
   profile of several municipalities and of the overview of several KPI/year selections in a
   fresh app over the same data (an empty view cache, as in a new worker or after any stored
   value changes), beside the p95 of the same addresses once warm, from the same run. Each
   round opens a new app, prepared as a worker of ``bylab serve`` prepares it; the first
   round also pays this process's one-time loads (KPI catalogue, definitions, templates), so
   it is printed apart.
5. Page weight: opens the overview and a profile in Debian's chromium with an empty cache and
   sums the bytes transferred (compressed bodies and headers) of every request, beside the
   catalogue page as a baseline; the target is < 1 MB. No map tiles are used.
Only 127.0.0.1 is contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from catalog_load import (  # bench/
    RequestPicker,
    load_average,
    open_loop,
    percentile,
    report,
    serve,
)
from fastapi.testclient import TestClient

from bylab.app import create_app, worker_warm_up_steps

from bylab.core import Bylab
from bylab.demo.loader import demo_load
from bylab.indicators.actions import indicator_values, kpi_slug
from bylab.places.queries import place_children
from bylab.settings import Settings
from bylab.testing.server import free_port

TARGET_P95_MS = 50.0
WARM_UP_ROUNDS = 6  # per address, over fresh connections: reaches each of a few workers
WARM_UP_CLIENTS = 4
TARGET_PAGE_BYTES = 1_000_000
CHROMIUM = "/usr/bin/chromium"
COLD_PLACES = 8  # profiles opened cold per round
COLD_SELECTIONS = 4  # overview selections opened cold per round
COLD_ROUNDS = 3  # fresh apps; the first also loads this process's caches
WARM_REPEATS = 20  # GETs of each address once warm
REGION = Settings.model_fields["default_region"].default


def build_instance(data_dir: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The demo instance; returns the region's municipality ids and its (KPI slug, year)
    selections that have values."""
    bylab = Bylab(Settings(data_dir=data_dir, secret_key="bench"))
    bylab.setup()
    demo_load(bylab)
    ctx = bylab.system_context()
    places = [place.id for place in place_children(ctx, REGION)
              if place.level == "municipality" and place.valid_to is None]
    members = set(places)
    selections = sorted({(row.kpi_code, row.period) for row in indicator_values(ctx)
                         if row.place_code in members})
    bylab.close()
    return places, [(kpi_slug(code), period) for code, period in selections]


def dashboard_picker(region: str, places: list[str], selections: list[tuple[str, str]],
                     seed: int = 5) -> RequestPicker:
    rng = random.Random(seed)
    # The map's boundaries, as the overview page asks for them.
    boundaries = f"/api/dashboard/boundaries?region={region}"

    def pick(number: int) -> tuple[str, str]:
        kind = number % 5
        kpi, year = rng.choice(selections)
        peers = rng.choice(["region", "country"])
        if kind == 0:
            return "overview (HTML)", f"/dashboard?kpi={kpi}&year={year}&peers={peers}"
        if kind == 1:
            return "overview JSON", f"/api/dashboard/overview?kpi={kpi}&year={year}"
        if kind == 2:
            return "boundaries GeoJSON", boundaries
        place = rng.choice(places)
        if kind == 3:
            return "profile (HTML)", f"/dashboard/places/{place}"
        return "profile CSV", f"/dashboard/places/{place}/values.csv"

    return pick


def mix_addresses(region: str, places: list[str], selections: list[tuple[str, str]]
                  ) -> list[str]:
    """Every address ``dashboard_picker`` may ask for."""
    addresses = [f"/dashboard?kpi={kpi}&year={year}&peers={peers}"
                 for kpi, year in selections for peers in ("region", "country")]
    addresses += [f"/api/dashboard/overview?kpi={kpi}&year={year}" for kpi, year in selections]
    addresses.append(f"/api/dashboard/boundaries?region={region}")
    for place in places:
        addresses += [f"/dashboard/places/{place}", f"/dashboard/places/{place}/values.csv"]
    return addresses


async def warm_up(base_url: str, addresses: list[str]) -> None:
    """Each address WARM_UP_ROUNDS times, from WARM_UP_CLIENTS clients at once, each request
    on a new connection (so the server's workers share them out)."""
    queue = [address for _round in range(WARM_UP_ROUNDS) for address in addresses]

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while queue:
                (await http.get(queue.pop())).raise_for_status()

    await asyncio.gather(*(client() for _ in range(WARM_UP_CLIENTS)))


def cold_addresses(places: list[str], selections: list[tuple[str, str]]
                   ) -> dict[str, list[str]]:
    """The addresses opened cold, by page: profiles of several municipalities and overviews
    of several KPI/year selections spread over the list."""
    latest_first = sorted(selections, key=lambda selection: selection[1], reverse=True)
    return {"profile (HTML)": [f"/dashboard/places/{place}" for place in places[:COLD_PLACES]],
            "overview (HTML)": [f"/dashboard?kpi={kpi}&year={year}"
                                for kpi, year in latest_first[:COLD_SELECTIONS]]}


def _timed_get(client: TestClient, address: str) -> float:
    started = time.perf_counter()
    client.get(address).raise_for_status()
    return (time.perf_counter() - started) * 1000


def cold_round(data_dir: Path, addresses: dict[str, list[str]]
               ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """In a fresh app over ``data_dir``: each address's first GET (ms), then WARM_REPEATS
    GETs of each once warm (ms), by page."""
    for name in ("httpx", "httpx2"):  # one line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    bylab = Bylab(Settings(data_dir=data_dir, secret_key="bench"))
    try:
        app = create_app(bylab)
        for step in worker_warm_up_steps(app):  # as each `bylab serve` worker does, idle
            step()
        with TestClient(app, base_url="http://127.0.0.1") as client:
            cold = {page: [_timed_get(client, address) for address in paths]
                    for page, paths in addresses.items()}
            warm = {page: [_timed_get(client, address) for _ in range(WARM_REPEATS)
                           for address in paths] for page, paths in addresses.items()}
    finally:
        bylab.close()
    return cold, warm


def report_cold(data_dir: Path, places: list[str], selections: list[tuple[str, str]]) -> None:
    """Cold first views beside the warm p95 of the same addresses (see the docstring)."""
    addresses = cold_addresses(places, selections)
    rounds = [cold_round(data_dir, addresses) for _ in range(COLD_ROUNDS)]
    print(f"\ncold views (first GET in a fresh app, in-process; {COLD_ROUNDS} rounds; "
          f"load average {load_average()}):")
    for page, paths in addresses.items():
        first = rounds[0][0][page]
        later = [ms for cold, _warm in rounds[1:] for ms in cold[page]]
        warm = [ms for _cold, warm in rounds for ms in warm[page]]
        print(f"  {page:<16} {len(paths)} addresses: first round median "
              f"{statistics.median(first):7.1f} ms (max {max(first):7.1f}); later rounds "
              f"median {statistics.median(later):7.1f} ms, p95 {percentile(later, 0.95):7.1f} ms"
              f"   | warm p95 {percentile(warm, 0.95):5.1f} ms (baseline)")


def page_weight(base_url: str, path: str) -> tuple[int, int]:
    """Bytes transferred (bodies as sent, plus headers) and request count of a first load."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        responses = []
        page.on("requestfinished", lambda request: responses.append(request))
        page.goto(base_url + path, wait_until="networkidle", timeout=120_000)
        total = 0
        for request in responses:
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        browser.close()
    return total, len(responses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes (default: bylab serve's own default)")
    parser.add_argument("--no-weight", action="store_true", help="skip the page weight")
    parser.add_argument("--cold", action="store_true",
                        help="only the cold views (step 4), in-process")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the demo instance here and reuse it when it exists")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores; load average before the run {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bylab-bench-") as folder:
        data_dir = args.data_dir or Path(folder) / "data"
        started = time.perf_counter()
        places, selections = build_instance(data_dir)
        print(f"loaded the demo region in {time.perf_counter() - started:.1f} s: "
              f"{len(places)} municipalities, {len(selections)} KPI/year selections")
        if args.cold:
            report_cold(data_dir, places, selections)
            return 0
        port = free_port()
        server = serve(data_dir, port, args.workers)
        try:
            base_url = f"http://127.0.0.1:{port}"
            addresses = mix_addresses(REGION, places, selections)
            started = time.perf_counter()
            asyncio.run(warm_up(base_url, addresses))
            print(f"warm-up: {len(addresses)} addresses x {WARM_UP_ROUNDS} in "
                  f"{time.perf_counter() - started:.1f} s")
            baseline = asyncio.run(open_loop(base_url, args.rate, args.seconds,
                                             lambda _n: ("/api/health (baseline)", "/api/health")))
            report("baseline", baseline, args.rate)
            dashboard = asyncio.run(open_loop(base_url, args.rate, args.seconds,
                                              dashboard_picker(REGION, places, selections)))
            p95s = report("dashboard", dashboard, args.rate)
            report_cold(data_dir, places, selections)
            weights = {} if args.no_weight else {
                path: page_weight(base_url, path)
                for path in ("/datasets", "/dashboard", f"/dashboard/places/{places[0]}")}
        finally:
            server.terminate()
            server.wait(timeout=10)
    worst = max(p95s.values(), default=float("inf"))
    print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms at {args.rate:.0f} req/s: "
          f"{'met' if worst < TARGET_P95_MS else 'MISSED'} (worst endpoint p95 {worst:.1f} ms)")
    if weights:
        print("\npage weight, first load (compressed bytes transferred, all requests):")
        for path, (size, count) in weights.items():
            note = " (baseline: catalogue page)" if path == "/datasets" else (
                " met" if size < TARGET_PAGE_BYTES else " MISSED")
            print(f"  {path:<32} {size / 1000:8.1f} kB in {count:3d} requests{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
