"""Mobility runs as background jobs: submit, execute (with progress), cancel, list.

A run builds its network, generates its demand, simulates it with SUMO and aggregates the
outputs into indicator inputs, which it publishes as a catalogue dataset (so KPI and scenario
pages can use them) with the run's provenance: network, demand inputs, SUMO version, seed.
A calibration run first fits the demand to counter data with routeSampler and reports the
GEH fit per counter before and after.

Runs belong to an organisation: its editors start and cancel them, its members see them;
anyone else is told a run does not exist. Cancelling is a flag in the database, so a run
started by the server can be cancelled from the CLI and the other way round."""

from __future__ import annotations

import csv
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import select

from bylab import __version__
from bylab.auth.actions import organisation_get
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.ingest.table_schema import file_sha256
from bylab.catalog.publish import dataset_publish
from bylab.core import Context
from bylab.errors import (
    BylabError,
    Conflict,
    InvalidInput,
    NotAuthorized,
    NotFound,
    TooLarge,
)
from bylab.mobility import calibration
from bylab.mobility.demand import DemandInput, demand_generate, random_routes
from bylab.mobility.kpi import SIMULATED_OUTPUTS, SYNTHETIC_LABEL, simulated_kpi_inputs
from bylab.mobility.models import (
    FINISHED,
    MobilityRun,
    RunKind,
    RunStatus,
    error_detail_of,
)
from bylab.mobility.network import NetworkInfo, NetworkSpec, network_build, network_edge_ids
from bylab.mobility.simulate import Cancelled, edge_counts, simulate, teleports, trip_results
from bylab.mobility.sumo import sumo_version
from bylab.places.queries import place_get
from bylab.storage.base import utcnow
from bylab.web.i18n import N_  # phases are shown translated on the run pages

logger = logging.getLogger(__name__)
PhaseProgress = Callable[[str, float], None]
REPORT_EVERY_S = 0.5  # at most this often a running job writes progress and reads the cancel flag
MAX_CAR_TRIPS = 500_000  # more is a job for a dedicated SUMO set-up, not a shared server
CANDIDATE_ROUTES_FACTOR = 5  # calibration samples from this many candidate routes per trip
# Why a run cannot be cancelled or executed, one sentence per status (a status is an English
# word a translation must not be given to fill in).
ALREADY_FINISHED = {
    RunStatus.SUCCEEDED: N_("the run has already succeeded"),
    RunStatus.FAILED: N_("the run has already failed"),
    RunStatus.CANCELLED: N_("the run has already been cancelled"),
}
NOT_QUEUED = {
    RunStatus.RUNNING: N_("the run is already running"),
    RunStatus.SUCCEEDED: N_("the run has already succeeded"),
    RunStatus.FAILED: N_("the run has already failed"),
    RunStatus.CANCELLED: N_("the run has already been cancelled"),
}

RESULT_UNITS = {
    "vehicles_simulated": "vehicles", "vehicles_arrived": "vehicles",
    "mean_travel_time_s": "s", "mean_delay_s": "s", "travel_time_index": "ratio",
    "mean_depart_delay_s": "s",
    "vehicle_km": "km", "mean_speed_kmh": "km/h", "co2_kg": "kg",
    "co2_g_per_vehicle_km": "g/km", "nox_g": "g", "pmx_g": "g", "teleports": "vehicles",
}


class RunRequest(BaseModel):
    """What to simulate, for which organisation (and optionally which place)."""

    organisation: str = Field(description="Organisation running it (name or id)")
    title: str = Field(default="", max_length=300)
    place: str | None = Field(default=None, description="Place id the run is about, e.g. NO-1506")
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    demand: DemandInput
    seed: int = Field(default=1, ge=0, le=2**31 - 1)
    publish: bool = Field(default=True, description="Publish the results as a dataset")
    visibility: Visibility = Visibility.PRIVATE
    derived_from: dict[str, Any] = Field(
        default_factory=dict, description="Where the demand inputs came from (e.g. a scenario "
        "and its labelled assumptions), kept in the run's provenance")


def run_folder(ctx: Context, run_id: str) -> Path:
    return ctx.settings.data_dir / "mobility" / run_id


# ---------------------------------------------------------------- submit, list, cancel

def run_submit(ctx: Context, request: RunRequest, counts_file: Path | None = None,
               counts_filename: str | None = None) -> MobilityRun:
    """Record a run (queued). With ``counts_file`` it is a calibration: the counts are checked
    now (against the network, which is built now for that) so bad input fails at once.
    ``counts_filename`` is the user's name for that file (for messages and provenance)."""
    if request.demand.car_trips() > MAX_CAR_TRIPS:
        raise TooLarge("the demand gives {trips:,} car trips; a run simulates at most "
                       "{limit:,}", field="demand", trips=request.demand.car_trips(),
                       limit=MAX_CAR_TRIPS)
    with ctx.db.session() as session:
        organisation = organisation_get(session, request.organisation)
        if not ctx.actor.can_edit(organisation.id):
            raise NotAuthorized("you need the editor role in the organisation",
                                field="organisation")
        if request.place:
            place_get(session, request.place)
        run = MobilityRun(
            kind=RunKind.CALIBRATION if counts_file else RunKind.SIMULATION,
            organisation_id=organisation.id, place_id=request.place,
            title=request.title or _default_title(request, counts_file is not None),
            seed=request.seed, network=request.network.model_dump(mode="json"),
            demand=request.demand.model_dump(mode="json"),
            provenance={"publish": request.publish, "visibility": request.visibility.value,
                        **({"derived_from": request.derived_from} if request.derived_from
                           else {})},
            created_by=ctx.actor.username or "")
        session.add(run)
        session.flush()
        if counts_file:
            _stage_counts(ctx, run, request.network, counts_file,
                          counts_filename or counts_file.name)
    return run


def _default_title(request: RunRequest, calibration_run: bool) -> str:
    what = "Calibration" if calibration_run else "Simulation"
    return f"{what}: {request.demand.population} inhabitants, {request.network.label()}"


def _stage_counts(ctx: Context, run: MobilityRun, spec: NetworkSpec, counts_file: Path,
                  filename: str) -> None:
    folder = run_folder(ctx, run.id)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        info = network_build(spec, folder / "network.net.xml")
        calibration.counts_read(counts_file, network_edge_ids(folder / "network.net.xml"),
                                filename)
        shutil.copyfile(counts_file, folder / "counts.csv")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    run.provenance = {**run.provenance, "network": info.model_dump(),
                      "counts": {"file": filename,
                                 "sha256": file_sha256(counts_file)}}


def run_list(ctx: Context) -> list[MobilityRun]:
    """The runs the actor may see, newest first."""
    query = select(MobilityRun).order_by(MobilityRun.created.desc())
    if not ctx.actor.is_sysadmin:
        query = query.where(MobilityRun.organisation_id.in_(ctx.actor.member_org_ids))
    with ctx.db.session() as session:
        return list(session.scalars(query))


def run_get(ctx: Context, run_id: str) -> MobilityRun:
    with ctx.db.session() as session:
        run = session.get(MobilityRun, run_id)
        if run is None or not _may_see(ctx, run):
            raise NotFound("no mobility run '{run}'", field="run", run=run_id)
        return run


def _may_see(ctx: Context, run: MobilityRun) -> bool:
    return ctx.actor.is_sysadmin or run.organisation_id in ctx.actor.member_org_ids


def run_cancel(ctx: Context, run_id: str) -> MobilityRun:
    """Cancel a queued run at once, or ask a running one to stop (it stops within a second)."""
    with ctx.db.session() as session:
        run = session.get(MobilityRun, run_id)
        if run is None or not _may_see(ctx, run):
            raise NotFound("no mobility run '{run}'", field="run", run=run_id)
        if not ctx.actor.can_edit(run.organisation_id):
            raise NotAuthorized("you need the editor role in the run's organisation")
        if run.status in FINISHED:
            raise Conflict(ALREADY_FINISHED[RunStatus(run.status)], field="status")
        run.cancel_requested = True
        if run.status == RunStatus.QUEUED:
            _finish(run, RunStatus.CANCELLED, "cancelled before it started")
    return run


def _finish(run: MobilityRun, status: RunStatus, phase: str) -> None:
    run.status, run.phase, run.finished = status, phase, utcnow()


# ---------------------------------------------------------------- execute

def run_start(ctx: Context, run_id: str) -> threading.Thread:
    """Execute a queued run in a background thread of this process, as soon as fewer than
    ``mobility_parallel_runs`` runs are executing here."""
    thread = threading.Thread(target=_execute_when_free, args=(ctx, run_id), daemon=True,
                              name=f"mobility-run-{run_id}")
    thread.start()
    return thread


_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slots_of(ctx: Context) -> threading.BoundedSemaphore:
    with _slots_lock:
        key = str(ctx.settings.data_dir)
        if key not in _slots:
            _slots[key] = threading.BoundedSemaphore(ctx.settings.mobility_parallel_runs)
        return _slots[key]


def _execute_when_free(ctx: Context, run_id: str) -> None:
    with _slots_of(ctx):
        try:
            run_execute(ctx, run_id)
        except Conflict:
            logger.info("mobility run %s was cancelled before it started", run_id)
        except Exception:  # recorded on the run; a background thread has no one to raise to
            logger.exception("mobility run %s failed", run_id)


class _Job:
    """A running job's link to its row: progress written and the cancel flag read at most
    every REPORT_EVERY_S, so a fast simulation is not slowed by the database."""

    def __init__(self, ctx: Context, run_id: str, listener: PhaseProgress | None) -> None:
        self.ctx, self.run_id, self.listener = ctx, run_id, listener
        self.phase, self.base, self.span = "", 0.0, 0.0
        self._last_write = 0.0
        self._cancelled = False

    def enter(self, phase: str, start: float, end: float) -> None:
        """Start a phase that covers [start, end] of the whole job."""
        self.phase, self.base, self.span = phase, start, end - start
        self.report(0.0, force=True)
        if self._cancelled:
            raise Cancelled(N_("the run was cancelled"))

    def report(self, fraction: float, force: bool = False) -> None:
        overall = self.base + self.span * fraction
        if self.listener:
            self.listener(self.phase, overall)
        now = time.monotonic()
        if not force and now - self._last_write < REPORT_EVERY_S:
            return
        self._last_write = now
        with self.ctx.db.session() as session:
            run = session.get(MobilityRun, self.run_id)
            assert run is not None
            run.phase, run.progress = self.phase, overall
            self._cancelled = run.cancel_requested

    def cancelled(self) -> bool:
        return self._cancelled


def run_execute(ctx: Context, run_id: str, listener: PhaseProgress | None = None) -> MobilityRun:
    """Execute a queued run to its end (succeeded, failed or cancelled) and return it."""
    with ctx.db.session() as session:
        run = session.get(MobilityRun, run_id)
        if run is None:
            raise NotFound("no mobility run '{run}'", field="run", run=run_id)
        if run.status != RunStatus.QUEUED:
            raise Conflict(NOT_QUEUED[RunStatus(run.status)], field="status")
        run.status, run.started = RunStatus.RUNNING, utcnow()
    job = _Job(ctx, run_id, listener)
    try:
        outcome = _execute(ctx, run, job)
    except Cancelled:
        return _close(ctx, run_id, RunStatus.CANCELLED, "cancelled")
    except KeyboardInterrupt:  # Ctrl+C in `bylab mobility run`
        _close(ctx, run_id, RunStatus.CANCELLED, "interrupted")
        raise
    except BylabError as error:
        return _close(ctx, run_id, RunStatus.FAILED, "failed", error=error)
    except Exception as error:  # a bug or a crash of SUMO: the job must not stay "running"
        _close(ctx, run_id, RunStatus.FAILED, "failed", error=f"{type(error).__name__}: {error}")
        raise
    return _close(ctx, run_id, RunStatus.SUCCEEDED, "done", outcome=outcome)


def _close(ctx: Context, run_id: str, status: RunStatus, phase: str,
           error: BylabError | str = "", outcome: dict[str, Any] | None = None) -> MobilityRun:
    """Finish the run; a BylabError is kept in English and as its template (for the pages)."""
    with ctx.db.session() as session:
        run = session.get(MobilityRun, run_id)
        assert run is not None
        _finish(run, status, phase)
        run.error = str(error)
        run.error_detail = error_detail_of(error) if isinstance(error, BylabError) else None
        if outcome:
            run.progress = 1.0
            run.results, run.provenance = outcome["results"], outcome["provenance"]
            run.dataset_id = outcome["dataset_id"]
    return run


def _execute(ctx: Context, run: MobilityRun, job: _Job) -> dict[str, Any]:
    folder = run_folder(ctx, run.id)
    folder.mkdir(parents=True, exist_ok=True)
    spec = NetworkSpec.model_validate(run.network)
    demand = DemandInput.model_validate(run.demand)
    job.enter(N_("building the network"), 0.0, 0.05)
    network = folder / "network.net.xml"
    info = network_build(spec, network)
    job.enter(N_("generating demand"), 0.05, 0.15)
    routes = folder / "demand.rou.xml"
    trips = demand_generate(network, demand, run.seed, routes)
    provenance = _provenance(run, info, trips)
    calibrating = run.kind == RunKind.CALIBRATION
    if calibrating:
        calibrated = _calibrate(job, folder, network, routes, demand, run.seed, trips)
        routes = calibrated.routes
        provenance["demand_calibrated_with"] = run.provenance.get("counts")
    job.enter(N_("simulating"), 0.5 if calibrating else 0.15, 0.95)
    simulation = simulate(network, routes, demand.begin_s, demand.end_s, run.seed, folder,
                          progress=job.report, cancelled=job.cancelled)
    indicators = {**trip_results(simulation.tripinfo),
                  "teleports": float(teleports(simulation.statistics))}
    results: dict[str, Any] = {
        "indicators": indicators, "simulated_kpis": simulated_kpi_inputs(indicators),
        "simulation_wall_s": round(simulation.wall_seconds, 3)}
    if calibrating:
        fits_after = calibration.counter_fits(calibrated.counts,
                                              edge_counts(simulation.edge_counts))
        results["calibration"] = {**_fit_report(calibrated.fits_before, fits_after),
                                  "counts_outside_period": calibrated.outside_period}
    job.enter(N_("publishing"), 0.95, 1.0)
    dataset_id = (_publish(ctx, run, results["indicators"], provenance, info, folder)
                  if run.provenance.get("publish", True) else None)
    return {"results": results, "provenance": provenance, "dataset_id": dataset_id}


def _provenance(run: MobilityRun, info: NetworkInfo, trips: int) -> dict[str, Any]:
    return {
        **run.provenance, "network": info.model_dump(), "demand": run.demand,
        "car_trips": trips, "seed": run.seed, "sumo_version": sumo_version(),
        "bylab_version": __version__,
        "synthetic": {"network": info.synthetic, "demand": True,
                      "note": "origins and destinations are random over the network"},
    }


class _Calibrated(NamedTuple):
    routes: Path
    counts: list[calibration.Count]  # those in the simulated period
    fits_before: list[calibration.CounterFit]
    outside_period: int  # counts of other hours, left out


def _calibrate(job: _Job, folder: Path, network: Path, routes: Path, demand: DemandInput,
               seed: int, trips: int) -> _Calibrated:
    """Measure the fit of the generated demand, then fit the demand to the counts in the
    simulated period with routeSampler."""
    all_counts = calibration.counts_read(folder / "counts.csv", network_edge_ids(network))
    counts = calibration.counts_in_period(all_counts, demand.begin_s, demand.end_s)
    if not counts:
        raise InvalidInput("no count falls in the simulated period ({hour}:00 for {hours:g} h)",
                           file="counts.csv", field="hour", hour=demand.start_hour,
                           hours=demand.simulated_hours)
    job.enter(N_("simulating the uncalibrated demand"), 0.15, 0.3)
    before_folder = folder / "uncalibrated"
    before_folder.mkdir(exist_ok=True)
    before = simulate(network, routes, demand.begin_s, demand.end_s, seed, before_folder,
                      progress=job.report,
                      cancelled=job.cancelled)
    job.enter(N_("sampling routes to match the counts"), 0.3, 0.5)
    candidates = folder / "candidates.rou.xml"
    random_routes(network, demand.begin_s, demand.end_s,
                  max(trips, 100) * CANDIDATE_ROUTES_FACTOR, seed + 1, candidates, prefix="c")
    calibrated = folder / "calibrated.rou.xml"
    calibration.route_sample(candidates, counts, seed, calibrated)
    return _Calibrated(calibrated, counts,
                       calibration.counter_fits(counts, edge_counts(before.edge_counts)),
                       len(all_counts) - len(counts))


def _fit_report(before: list[calibration.CounterFit],
                after: list[calibration.CounterFit]) -> dict[str, Any]:
    """GEH per counter before and after calibration, and the share with GEH < 5."""
    counters = [{"edge_id": old.edge_id, "hour": old.hour, "counted": old.counted,
                 "modelled_before": old.modelled, "geh_before": round(old.geh, 3),
                 "modelled_after": new.modelled, "geh_after": round(new.geh, 3)}
                for old, new in zip(before, after, strict=True)]
    return {"counters": counters,
            "share_geh_below_5_before": calibration.share_accepted(before),
            "share_geh_below_5_after": calibration.share_accepted(after),
            "mean_geh_before": _mean_geh(before), "mean_geh_after": _mean_geh(after)}


def _mean_geh(fits: list[calibration.CounterFit]) -> float:
    return round(sum(fit.geh for fit in fits) / len(fits), 3) if fits else 0.0


def _publish(ctx: Context, run: MobilityRun, indicators: dict[str, float],
             provenance: dict[str, Any], info: NetworkInfo, folder: Path) -> str:
    table = folder / "indicator_inputs.csv"
    with table.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(["run_id", "place_code", "variable", "value", "unit", "period_start_hour",
                         "period_hours", "synthetic_network", "synthetic_demand", "kpi_code",
                         "kpi_role", "label"])
        demand = DemandInput.model_validate(run.demand)
        for variable, value in indicators.items():
            output = SIMULATED_OUTPUTS.get(variable)
            writer.writerow([run.id, run.place_id or "", variable, round(value, 6),
                             RESULT_UNITS[variable], demand.start_hour, demand.simulated_hours,
                             info.synthetic, True, (output.kpi_code or "") if output else "",
                             output.role if output else "", SYNTHETIC_LABEL])
    metadata = DatasetMetadata(
        name=f"mobility-run-{run.id[:8]}", organisation=run.organisation_id,
        title={"en": f"SUMO simulation results: {run.title}"[:300]},
        description={"en": _description(provenance)},
        visibility=Visibility(run.provenance.get("visibility", Visibility.PRIVATE)),
        themes=["TRAN", "ENVI"], keywords=["SUMO", "mobility simulation", "synthetic"],
        spatial=[run.place_id] if run.place_id else [],
        licence_id="ODbL-1.0" if not info.synthetic else "CC-BY-4.0",
        source_note=f"bylab mobility run {run.id}; {provenance['sumo_version']}; "
                    f"seed {run.seed}")
    return dataset_publish(ctx, metadata, table).id


def _description(provenance: dict[str, Any]) -> str:
    network = provenance["network"]
    demand = provenance["demand"]
    return (
        f"Indicator inputs (travel times, delays, distance, emissions) aggregated from an "
        f"Eclipse SUMO simulation. Network: {network['label']} ({network['edges']} edges, "
        f"{network['length_km']} km). Demand: {provenance['car_trips']} car trips from "
        f"{demand['population']} inhabitants × {demand['trips_per_person_per_day']} trips per "
        f"day × car share {demand['mode_share']['car']} × {demand['peak_hour_share']} of the "
        f"day's trips per hour, with random origins and destinations: SYNTHETIC demand"
        f"{', on a SYNTHETIC network' if network['synthetic'] else ''}, not observed traffic. "
        f"travel_time_index is the U4SSC KPI EC: I: T: 5A (Travel Time Index) of the "
        f"simulated period; kpi_code and kpi_role say which KPI a variable is the value or "
        f"an input of (co2_kg: an input of the GHG KPI, not its per-capita value).")
