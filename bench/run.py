"""Run every benchmark in this folder, one after another, each in its own process.

    .venv/bin/python bench/run.py            # all, full size
    .venv/bin/python bench/run.py --quick    # all, scaled down (a smoke check, not figures)
    .venv/bin/python bench/run.py import_csv # one

Each benchmark prints its figures beside a baseline measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).parent
QUICK_ARGS = {
    "import_csv": ["--rows", "200000"],
    "catalog_load": ["--datasets", "1000", "--seconds", "5"],
    "registry_search": ["--records", "5000", "--rounds", "1", "--scan-queries", "2"],
    "mobility_sumo": ["--population", "5000", "--size", "5"],
    "indicators_recompute": ["--places", "50", "--years", "5", "--runs", "1"],
    "scenario_mc": ["--places", "100", "--loop-places", "2"],
    "sensor_aggregate": ["--rows", "2000000"],
    "sensor_sta": ["--rows", "2000000", "--requests", "30"],
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    chosen = [name for name in argv if not name.startswith("-")]
    names = chosen or sorted(
        path.stem for path in BENCH_DIR.glob("*.py") if path.stem not in {"run", "__init__"}
    )
    failures = 0
    for name in names:
        args = QUICK_ARGS.get(name, []) if quick else []
        print(f"\n=== {name} {' '.join(args)}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py"), *args])
        print(f"=== {name}: {'ok' if result.returncode == 0 else 'FAILED'} "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
