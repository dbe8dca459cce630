"""One SUMO simulation, driven through TraCI in steps so that it reports progress and can be
cancelled, and the aggregation of its outputs (tripinfo with the emissions device, hourly
edge counts) into indicator inputs."""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import IO

import sumolib
from traci.connection import Connection

from bylab.errors import Conflict
from bylab.mobility.sumo import SumoFailed, binary
from bylab.web.i18n import N_  # SumoFailed and Cancelled are no extraction keywords

DRAIN_S = 3600  # after the last departure, how long vehicles may take to arrive
STEP_CHUNK_S = 60  # simulated seconds between progress reports and cancel checks
COUNT_INTERVAL_S = 3600  # edge counts per hour, as counter data comes
CONNECT_TIMEOUT_S = 120  # a large network takes a while to load
START_ATTEMPTS = 3

ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]


class Cancelled(Conflict):
    """The run was cancelled while it ran."""


@dataclass(frozen=True)
class Simulation:
    """The files one simulation wrote and how long it took."""

    tripinfo: Path
    edge_counts: Path
    statistics: Path
    wall_seconds: float


def simulate(network: Path, routes: Path, begin_s: int, end_s: int, seed: int, folder: Path,
             progress: ProgressCallback | None = None,
             cancelled: CancelCheck | None = None) -> Simulation:
    """Run SUMO on ``routes`` from ``begin_s`` until every vehicle has arrived (at most
    ``DRAIN_S`` after ``end_s``)."""
    tripinfo, edge_counts = folder / "tripinfo.xml", folder / "edgecounts.xml"
    statistics = folder / "statistics.xml"
    additional = folder / "edgecounts.add.xml"
    additional.write_text(
        f'<additional><edgeData id="counts" file="{edge_counts.name}" '
        f'period="{COUNT_INTERVAL_S}" begin="{begin_s}"/></additional>\n')
    command = [str(binary("sumo")), "--net-file", str(network), "--route-files", str(routes),
               "--additional-files", str(additional), "--begin", str(begin_s),
               "--end", str(end_s + DRAIN_S), "--seed", str(seed),
               "--tripinfo-output", str(tripinfo), "--tripinfo-output.write-unfinished",
               "--statistic-output", str(statistics),
               "--device.emissions.probability", "1", "--ignore-route-errors",
               "--no-step-log", "--no-warnings", "--output-prefix", ""]
    started = time.perf_counter()
    with (folder / "sumo.log").open("w") as log:
        connection = _start(command, log)
    try:
        _step_until_done(connection, begin_s, end_s, progress, cancelled)
    finally:
        connection.close()
    return Simulation(tripinfo, edge_counts, statistics, time.perf_counter() - started)


def _start(command: list[str], log: IO[str]) -> Connection:
    """Start SUMO as a TraCI server and connect to it. Unlike ``traci.start`` this is safe
    in several threads at once (no shared connection pool) and polls every 50 ms rather
    than every second while SUMO loads. A port taken meanwhile is retried with another."""
    for _attempt in range(START_ATTEMPTS):
        port = sumolib.miscutils.getFreeSocketPort()
        process = subprocess.Popen([*command, "--remote-port", str(port)], stdout=log,
                                   stderr=subprocess.STDOUT)
        connection = _connect(process, port)
        if connection is not None:
            return connection
    raise SumoFailed(N_("SUMO did not start: {log}"), log=_log_tail(log.name))


def _connect(process: subprocess.Popen[bytes], port: int) -> Connection | None:
    """The connection to SUMO on ``port``, or None if SUMO ended without listening."""
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            return Connection("localhost", port, process, None, False, None)
        except OSError:
            if process.poll() is not None:
                return None
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise SumoFailed(N_("SUMO did not listen within {seconds} s"),
                                 seconds=CONNECT_TIMEOUT_S) from None
            time.sleep(0.05)


def _log_tail(path: str) -> str:
    return " ".join(Path(path).read_text(errors="replace").strip().splitlines()[-3:])


def _step_until_done(connection: Connection, begin_s: int, end_s: int,
                     progress: ProgressCallback | None, cancelled: CancelCheck | None) -> None:
    now = float(begin_s)
    while now < end_s + DRAIN_S:
        now += STEP_CHUNK_S
        connection.simulationStep(now)
        if progress:
            progress(min(1.0, (now - begin_s) / (end_s - begin_s)))
        if cancelled and cancelled():
            raise Cancelled(N_("the run was cancelled"))
        if now >= end_s and connection.simulation.getMinExpectedNumber() == 0:
            return


# parse_fast reads attributes in the order SUMO writes them
TRIP_ATTRIBUTES = ["id", "departDelay", "arrival", "duration", "routeLength", "timeLoss"]
EMISSION_ATTRIBUTES = ["CO2_abs", "PMx_abs", "NOx_abs"]


def trip_results(tripinfo: Path) -> dict[str, float]:
    """Travel times, delays, the travel time index, distance and emissions of the simulated
    vehicles, in the period simulated. SUMO writes emissions in mg; these are kg (CO2) and g (NOx, PMx)."""
    trips = []
    for trip, emissions in sumolib.xml.parse_fast_nested(
            str(tripinfo), "tripinfo", TRIP_ATTRIBUTES, "emissions", EMISSION_ATTRIBUTES):
        trips.append((trip, emissions))
    arrived = [trip for trip, _ in trips if float(trip.arrival) >= 0]
    vehicle_km = sum(float(trip.routeLength) for trip, _ in trips) / 1000
    co2_g = sum(float(emissions.CO2_abs) for _, emissions in trips) / 1000
    hours_driving = sum(float(trip.duration) for trip, _ in trips) / 3600
    travel_s = sum(float(trip.duration) for trip in arrived)
    free_flow_s = travel_s - sum(float(trip.timeLoss) for trip in arrived)
    return {
        "vehicles_simulated": float(len(trips)),
        "vehicles_arrived": float(len(arrived)),
        "mean_travel_time_s": _mean(float(trip.duration) for trip in arrived),
        "mean_delay_s": _mean(float(trip.timeLoss) for trip in arrived),
        # U4SSC EC:I:T:5A, peak over free-flow travel time; SUMO's free flow is every
        # vehicle at its desired speed (timeLoss is the time lost below it)
        "travel_time_index": travel_s / free_flow_s if free_flow_s else 0.0,
        "mean_depart_delay_s": _mean(float(trip.departDelay) for trip, _ in trips),
        "vehicle_km": vehicle_km,
        "mean_speed_kmh": vehicle_km / hours_driving if hours_driving else 0.0,
        "co2_kg": co2_g / 1000,
        "co2_g_per_vehicle_km": co2_g / vehicle_km if vehicle_km else 0.0,
        "nox_g": sum(float(emissions.NOx_abs) for _, emissions in trips) / 1000,
        "pmx_g": sum(float(emissions.PMx_abs) for _, emissions in trips) / 1000,
    }


def teleports(statistics: Path) -> int:
    """Vehicles SUMO moved ahead because they were stuck (jams, deadlocks): a sign that the
    network cannot carry the demand and the travel times are understated."""
    for element in sumolib.xml.parse_fast(str(statistics), "teleports", ["total"]):
        return int(element.total)
    return 0


def _mean(values: object) -> float:
    collected = list(values)  # type: ignore[call-overload]
    return fmean(collected) if collected else 0.0


def edge_counts(path: Path) -> dict[tuple[str, int], int]:
    """Vehicles that drove on each edge in each hour (entered from upstream or departed on
    it, as a route through the edge is counted), keyed by (edge id, hour of day)."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for interval, edge in sumolib.xml.parse_fast_nested(
            str(path), "interval", ["begin"], "edge", ["id", "departed", "entered"]):
        hour = int(float(interval.begin)) // 3600
        counts[(edge.id, hour)] += int(float(edge.entered)) + int(float(edge.departed))
    return dict(counts)
