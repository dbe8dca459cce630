"""Benchmark: the scenario Monte Carlo, vectorised with NumPy, versus a straightforward Python
loop of the same model; and the server time of re-projecting one place in the editor.

1. 400 places × 30 years × 1,000 draws of GHG per inhabitant under every lever of the
   "fossil-free-2045" preset (trend draws, lever shares, coefficient factors, clipping and
   the five quantiles), best of 3. Target: ≥ 10 million place-year-draw steps per second
   (under 1.2 s). The Python loop runs the same model on a SUBSET of places and is scaled to
   400 places (it is linear in places); the line says so.
2. The editor's live update: GET /scenarios/chart for one place (the scenario and its
   zero-lever baseline, 1,000 draws each, with the fan-chart SVG), in-process through the
   ASGI app, median of 20. Target: < 100 ms. Baseline: the Python loop for the same place.

The indicator histories are SYNTHETIC (generated here, seeded): falling per-capita emissions
around 3 t with noise, five annual values per place.

    .venv/bin/python bench/scenario_mc.py
    .venv/bin/python bench/scenario_mc.py --places 100 --loop-places 4
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.indicators.models import IndicatorValue
from bylab.places.models import Place
from bylab.scenarios.engine import (
    QUANTILES,
    achieved_shares,
    fit_trends,
    lever_effects,
    lever_exposure,
    project,
)
from bylab.scenarios.levers import GHG, LEVERS_BY_KEY
from bylab.scenarios.spec import ScenarioSpec, preset_show
from bylab.testing.backends import embedded_instance

YEARS = 30
HISTORY_YEARS = range(2019, 2024)


def synthetic_histories(places: int, seed: int = 7) -> list[list[tuple[int, float]]]:
    rng = np.random.default_rng(seed)
    starts = rng.uniform(2.0, 6.0, places)
    slopes = rng.uniform(-0.15, 0.0, places)
    return [[(year, float(start + slope * (year - 2019) + rng.normal(0, 0.05)))
             for year in HISTORY_YEARS] for start, slope in zip(starts, slopes, strict=True)]


def plan(places: int) -> ScenarioSpec:
    return preset_show("fossil-free-2045").model_copy(
        update={"places": [f"P{number}" for number in range(places)], "horizon": 2023 + YEARS})


def vectorised(spec: ScenarioSpec, histories: list[list[tuple[int, float]]], draws: int,
               seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    years = np.arange(2024, 2024 + YEARS)
    shares = achieved_shares(spec, draws, rng)
    relative, absolute = lever_effects(spec, GHG, years, shares, draws, rng)
    return project(fit_trends(histories), years, relative, absolute, GHG, draws, rng).quantiles


def python_loop(spec: ScenarioSpec, histories: list[list[tuple[int, float]]], draws: int,
                seed: int) -> list[list[list[float]]]:
    """The same model, one place, draw and year at a time, in plain Python."""
    generator = random.Random(seed)
    years = list(range(2024, 2024 + YEARS))
    trends = fit_trends(histories)
    effects = [(key, effect, lever_exposure(plan_, spec.start_year, np.array(years),
                                            effect.exposure).tolist())
               for key, plan_ in spec.levers.items() for effect in LEVERS_BY_KEY[key].effects
               if effect.kpi_code == GHG]
    per_draw = []
    for _draw in range(draws):
        shares = {key: max(0.0, generator.gauss(1.0, plan_.spread))
                  for key, plan_ in spec.levers.items()}
        coefficients = []
        for key, effect, exposure in effects:
            coefficient = effect.sign
            for factor in effect.factors:
                coefficient *= (factor.mode if factor.low == factor.high else
                                generator.triangular(factor.low, factor.high, factor.mode))
            coefficients.append((coefficient * shares[key], exposure))
        per_draw.append(coefficients)
    quantiles = []
    for place in range(len(histories)):
        by_year: list[list[float]] = [[] for _year in years]
        for coefficients in per_draw:
            level_shift = generator.gauss(0, trends.level_sd[place])
            slope_shift = generator.gauss(0, trends.slope_sd[place])
            for index, year in enumerate(years):
                offset = year - trends.centre_year[place]
                base = (trends.level[place] + level_shift + (trends.slope[place] + slope_shift)
                        * offset + generator.gauss(0, trends.residual_sd[place]))
                relative = sum(coefficient * exposure[index]
                               for coefficient, exposure in coefficients)
                by_year[index].append(max(0.0, base * (1 + relative)))
        quantiles.append([statistics.quantiles(values, n=20, method="inclusive")
                          for values in by_year])
    return quantiles


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """The best wall time and the best CPU time of this process over ``runs`` runs (on a
    shared, busy machine the wall time includes waiting for a core)."""
    walls, cpus = [], []
    for _run in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def monte_carlo(places: int, loop_places: int, draws: int) -> None:
    spec = plan(places)
    histories = synthetic_histories(places)
    steps = places * YEARS * draws
    fast, fast_cpu = best_of(3, lambda: vectorised(spec, histories, draws, 1))
    subset, subset_cpu = best_of(1, lambda: python_loop(spec, histories[:loop_places], draws, 1))
    loop, loop_cpu = subset * places / loop_places, subset_cpu * places / loop_places
    print(f"vectorised NumPy : {places} places × {YEARS} years × {draws} draws in {fast:.3f} s"
          f" wall = {steps / fast / 1e6:.1f} M steps/s; {fast_cpu:.3f} s CPU = "
          f"{steps / fast_cpu / 1e6:.1f} M steps/s (target ≥ 10 M/s, < 1.2 s)")
    print(f"Python loop      : {subset:.2f} s wall ({subset_cpu:.2f} s CPU) for {loop_places} "
          f"places, scaled to {places} = {loop:.1f} s wall = {steps / loop / 1e6:.2f} M steps/s;"
          f" {loop_cpu:.1f} s CPU")
    print(f"speed-up         : {loop / fast:.0f}× wall, {loop_cpu / fast_cpu:.0f}× CPU")
    check = vectorised(spec, histories[:1], 20_000, 2)[0, -1]
    looped = python_loop(spec, histories[:1], 20_000, 2)[0][-1]
    print(f"same model check : last-year median {check[QUANTILES.index(0.5)]:.3f} (NumPy) vs "
          f"{looped[9]:.3f} (loop), 20,000 draws each")


def one_place(draws: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bylab-bench-"))
    instance = embedded_instance(folder / "data")
    [history] = synthetic_histories(1)
    with instance.db.session() as session:
        session.add(Place(id="NO-4003", country="NO", level="municipality", code="4003",
                          code_scheme="kommunenummer", name="Skien (synthetic values)"))
        session.flush()
        session.execute(insert(IndicatorValue), [
            {"kpi_code": GHG, "place_id": "NO-4003", "period": str(year), "status": "computed",
             "value": value, "unit": "t / person", "reason": "", "dataset_ids": [],
             "provenance": {}} for year, value in history])
    query = {"place": "NO-4003", "horizon": "2050", "draws": str(draws), "seed": "1",
             "modal_shift.2030": "10", "ev_share_new_cars.2030": "30"}
    with TestClient(create_app(instance)) as client:
        client.get("/scenarios/chart", params=query)  # warm up templates and caches
        times = []
        for step in range(20):
            query["modal_shift.2040"] = str(step)
            started = time.perf_counter()
            response = client.get("/scenarios/chart", params=query)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200 and "<svg" in response.text
    spec = plan(1).model_copy(update={"horizon": 2050})
    loop = best_of(1, lambda: python_loop(spec, [history], draws, 1))[0] * 2
    print(f"one place, editor: {statistics.median(times) * 1000:.1f} ms median server time for"
          f" scenario + baseline, {draws} draws each, with the SVG (target < 100 ms)")
    print(f"Python loop      : {loop * 1000:.0f} ms for the same two projections")
    instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=400)
    parser.add_argument("--loop-places", type=int, default=8)
    parser.add_argument("--draws", type=int, default=1000)
    arguments = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    monte_carlo(arguments.places, arguments.loop_places, arguments.draws)
    one_place(arguments.draws)


if __name__ == "__main__":
    main()
