"""Benchmark: reading the bundled demo series (about 1,800 day folders, REAL data from
../shared/data/sensors) before and after compacting closed months into one file each. The
baseline is the same store before compaction, in the same run. Best of 5.

    .venv/bin/python bench/sensor_compaction.py
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bylab.core import Context
from bylab.demo.loader import DATA_DIR
from bylab.sensors.actions import observation_store
from bylab.sensors.aggregate import datastream_aggregate
from bylab.sensors.demo import sensors_demo_load
from bylab.sensors.sta import ObservationScope, observations_page, parse_options
from bylab.testing.backends import embedded_instance


def best(run: Callable[[], Any]) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(ctx: Context) -> dict[str, float]:
    options = parse_options({"$filter": "result gt 40", "$top": "100"})
    return {
        "annual means of one datastream": best(lambda: datastream_aggregate(ctx, 1, "year")),
        "daily means of one datastream": best(lambda: datastream_aggregate(ctx, 1, "day")),
        "STA Observations result gt 40, $top=100": best(
            lambda: observations_page(ctx, ObservationScope((1,)), options)),
    }


def main() -> None:
    print(f"load average: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        instance = embedded_instance(Path(folder) / "data")
        ctx = instance.system_context()
        stored = sensors_demo_load(ctx, DATA_DIR / "sensors", compact=False)
        store = observation_store(ctx)
        before_files = len(store.files())
        before = measure(ctx)
        started = time.perf_counter()
        months = store.compact_months(before=date.today())
        compaction = time.perf_counter() - started
        after = measure(ctx)
        print(f"{stored:,} observations; {before_files} files → {len(store.files())} files "
              f"({months} months compacted in {compaction:.1f} s)")
        for name, seconds in after.items():
            print(f"{name:42} day files (baseline) {before[name] * 1000:8.1f} ms   "
                  f"compacted {seconds * 1000:8.1f} ms   {before[name] / seconds:5.1f}× faster")
        instance.close()


if __name__ == "__main__":
    main()
