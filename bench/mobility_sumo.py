"""SUMO through bylab: wall time and simulated vehicles per second for the demo network,
beside plain SUMO on the same files in the same run.

    .venv/bin/python bench/mobility_sumo.py [--population 20000] [--size 8] [--seed 1]

1. Builds an embedded instance in a temporary folder and runs the demo town as a bylab job
   (``run_submit`` + ``run_execute``): a SYNTHETIC 8 × 8 grid of two-lane streets and the
   demand of 20,000 inhabitants (3,600 car trips, 07:00-08:00, random origins and
   destinations), simulated through TraCI in 60 s steps with progress and cancel checks,
   outputs aggregated and published as a dataset. It prints the job's total wall time and
   the simulation's, and simulated vehicles per second of simulation wall time.
2. Baseline: the ``sumo`` binary alone on the same network and routes with the same outputs,
   run to the same end, without TraCI or anything of bylab around it.
The load average is printed with the figures: on a shared machine, read them beside it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bylab.auth import actions as accounts
from bylab.mobility.demand import DEMO_DEMAND
from bylab.mobility.network import DEMO_NETWORK
from bylab.mobility.runs import RunRequest, run_execute, run_folder, run_submit
from bylab.mobility.simulate import DRAIN_S
from bylab.mobility.sumo import binary, sumo_environment, sumo_version
from bylab.testing.backends import embedded_instance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=DEMO_DEMAND.population)
    parser.add_argument("--size", type=int, default=DEMO_NETWORK.size)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    network = DEMO_NETWORK.model_copy(update={"size": options.size})
    demand = DEMO_DEMAND.model_copy(update={"population": options.population})
    print(f"{sumo_version()}; {network.label()}; {demand.car_trips()} car trips "
          f"(SYNTHETIC demand); load average {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-mobility-") as folder:
        bylab = embedded_instance(Path(folder) / "data")
        try:
            ctx = bylab.system_context()
            accounts.organisation_create(ctx, "bench", "Benchmark (synthetic)")
            queued = run_submit(ctx, RunRequest(organisation="bench", network=network,
                                                demand=demand, seed=options.seed))
            started = time.perf_counter()
            run = run_execute(ctx, queued.id)
            job_s = time.perf_counter() - started
            assert run.status == "succeeded", run.error
            vehicles = run.results["indicators"]["vehicles_simulated"]
            simulation_s = run.results["simulation_wall_s"]
            baseline_s = _plain_sumo(run_folder(ctx, run.id), demand.begin_s, demand.end_s,
                                     options.seed)
        finally:
            bylab.close()
    print(f"bylab job (network, demand, simulation, publish): {job_s:8.2f} s wall")
    print(f"bylab simulation (TraCI, 60 s steps):            {simulation_s:8.2f} s wall, "
          f"{vehicles / simulation_s:8.0f} simulated vehicles/s, "
          f"{(demand.end_s - demand.begin_s) / simulation_s:6.0f}× real time")
    print(f"baseline: plain sumo, same files and outputs:    {baseline_s:8.2f} s wall, "
          f"{vehicles / baseline_s:8.0f} simulated vehicles/s")
    print(f"teleports: {run.results['indicators']['teleports']:.0f}; "
          f"mean delay {run.results['indicators']['mean_delay_s']:.1f} s; "
          f"load average {_load()}")


def _plain_sumo(folder: Path, begin_s: int, end_s: int, seed: int) -> float:
    outputs = folder / "baseline"
    outputs.mkdir()
    command = [str(binary("sumo")), "--net-file", str(folder / "network.net.xml"),
               "--route-files", str(folder / "demand.rou.xml"),
               "--additional-files", str(folder / "edgecounts.add.xml"),
               "--begin", str(begin_s), "--end", str(end_s + DRAIN_S), "--seed", str(seed),
               "--tripinfo-output", str(outputs / "tripinfo.xml"),
               "--tripinfo-output.write-unfinished", "--statistic-output",
               str(outputs / "statistics.xml"), "--device.emissions.probability", "1",
               "--ignore-route-errors", "--no-step-log", "--no-warnings"]
    started = time.perf_counter()
    subprocess.run(command, cwd=outputs, env=sumo_environment(), check=True,
                   capture_output=True)
    return time.perf_counter() - started


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
