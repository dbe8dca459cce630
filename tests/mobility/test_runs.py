"""SUMO runs end to end on a small generated network: results, provenance, the published
dataset, reproducibility, calibration, cancelling and who may see what."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bylab.catalog.ingest.table_schema import file_sha256
from bylab.catalog.queries import dataset_show
from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound, TooLarge
from bylab.mobility.demand import DemandInput
from bylab.mobility.models import MobilityRun, RunStatus
from bylab.mobility.network import NetworkKind, NetworkSpec, network_build, network_edge_ids
from bylab.mobility.runs import (
    run_cancel,
    run_execute,
    run_folder,
    run_get,
    run_list,
    run_start,
    run_submit,
)
from bylab.testing.backends import embedded_instance
from tests.mobility.conftest import (
    context_of,
    small_request,
    sumo_children,
    system_with_molde,
    wait_until_finished,
    write_counts,
)

DATA = Path(__file__).parent / "data"


def test_run_end_to_end(bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    mia = context_of(bylab, accounts_setup["mia"])
    phases: list[str] = []
    queued = run_submit(mia, small_request(title="Small grid"))
    assert queued.status == RunStatus.QUEUED
    run = run_execute(mia, queued.id, lambda phase, _done: phases.append(phase))
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.progress == 1.0 and run.finished is not None
    assert phases[0] == "building the network" and "simulating" in phases
    values = run.results["indicators"]
    assert values["vehicles_simulated"] == values["vehicles_arrived"] == 54  # see SMALL_DEMAND
    assert values["teleports"] == 0  # nobody got stuck
    assert 20 < values["mean_travel_time_s"] < 300
    assert 0 <= values["mean_delay_s"] < values["mean_travel_time_s"]
    assert values["travel_time_index"] == pytest.approx(  # all arrived: means suffice
        values["mean_travel_time_s"] / (values["mean_travel_time_s"] - values["mean_delay_s"]))
    assert values["travel_time_index"] > 1
    assert 100 < values["co2_g_per_vehicle_km"] < 400  # a petrol car's order of magnitude
    assert values["co2_kg"] == pytest.approx(
        values["co2_g_per_vehicle_km"] * values["vehicle_km"] / 1000)
    provenance = run.provenance
    assert provenance["sumo_version"].startswith("Eclipse SUMO sumo 1.")
    assert provenance["seed"] == 1 and provenance["car_trips"] == 54
    assert provenance["network"]["edges"] == 24 and provenance["network"]["synthetic"]
    assert provenance["demand"]["population"] == 300

    dataset = dataset_show(mia, run.dataset_id)
    assert "SYNTHETIC demand" in dataset.description["en"]
    assert dataset.visibility == "private"
    rows = bylab.tables.query(
        f"SELECT variable, value, unit, synthetic_network FROM "
        f"{bylab.tables.scan(bylab.tables.resolve(dataset.versions[0].table_path))}").fetchall()
    by_variable = {variable: (value, unit, synthetic) for variable, value, unit, synthetic in rows}
    assert by_variable["mean_delay_s"][:2] == (pytest.approx(values["mean_delay_s"]), "s")
    assert by_variable["co2_kg"][1] == "kg" and by_variable["co2_kg"][2] is True
    with pytest.raises(NotFound):  # private to Molde: another municipality does not see it
        dataset_show(context_of(bylab, accounts_setup["ola"]), run.dataset_id)


def test_same_seed_same_results_other_seed_other_results(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    results = [run_execute(ctx, run_submit(ctx, small_request(seed=seed, publish=False)).id)
               .results["indicators"] for seed in (5, 5, 6)]
    assert results[0] == results[1]
    assert results[0] != results[2]


def test_calibration_improves_the_fit(embedded: Bylab, synthetic_counts: Path) -> None:
    ctx = system_with_molde(embedded)
    queued = run_submit(ctx, small_request(), synthetic_counts)
    run = run_execute(ctx, queued.id)
    assert run.status == RunStatus.SUCCEEDED, run.error
    fit = run.results["calibration"]
    assert fit["mean_geh_after"] < fit["mean_geh_before"]
    assert fit["share_geh_below_5_after"] >= 0.85  # the usual acceptance level
    assert fit["share_geh_below_5_after"] >= fit["share_geh_below_5_before"]
    counters = fit["counters"]
    assert len(counters) == len(synthetic_counts.read_text().splitlines()) - 1
    for counter in counters:  # the reported GEH is the GEH of the reported flows
        for when in ("before", "after"):
            modelled, counted = counter[f"modelled_{when}"], counter["counted"]
            expected = (0.0 if modelled + counted == 0 else
                        (2 * (modelled - counted) ** 2 / (modelled + counted)) ** 0.5)
            assert counter[f"geh_{when}"] == pytest.approx(expected, abs=1e-3)
    assert run.provenance["demand_calibrated_with"]["file"] == "counts.csv"
    assert run.provenance["demand_calibrated_with"]["sha256"] == file_sha256(synthetic_counts)


def test_bad_counts_leave_no_run_behind(embedded: Bylab, tmp_path: Path) -> None:
    ctx = system_with_molde(embedded)
    counts = write_counts(tmp_path / "counts.csv", [("A0A1", 7, 10), ("nowhere", 7, 3)])
    with pytest.raises(InvalidInput) as raised:
        run_submit(ctx, small_request(), counts)
    assert (raised.value.file, raised.value.row, raised.value.field) == ("counts.csv", 3,
                                                                         "edge_id")
    assert run_list(ctx) == []
    assert not (embedded.settings.data_dir / "mobility").exists() or not any(
        (embedded.settings.data_dir / "mobility").iterdir())


def test_cancel_a_running_run(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    # a day of a larger town: far more SUMO time than a cancel takes to act, even when a
    # loaded machine stalls this test's thread for seconds
    long_run = run_submit(ctx, small_request(
        network=NetworkSpec(size=4), demand=DemandInput(population=3000, simulated_hours=24)))
    thread = run_start(ctx, long_run.id)
    deadline = time.monotonic() + 30
    while (current := run_get(ctx, long_run.id)).phase != "simulating" or current.progress < 0.16:
        assert current.status == RunStatus.RUNNING or current.status == RunStatus.QUEUED
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sumo_children()  # SUMO is running now
    assert run_cancel(ctx, long_run.id).cancel_requested
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert sumo_children() == []  # and stopped, not left behind
    cancelled = run_get(ctx, long_run.id)
    assert cancelled.status == RunStatus.CANCELLED and cancelled.finished is not None
    assert cancelled.progress < 0.95 and cancelled.dataset_id is None
    assert not (run_folder(ctx, long_run.id) / "indicator_inputs.csv").exists()
    with pytest.raises(Conflict):
        run_cancel(ctx, long_run.id)


def test_cancel_a_queued_run_and_it_never_starts(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    queued = run_submit(ctx, small_request())
    assert run_cancel(ctx, queued.id).status == RunStatus.CANCELLED
    with pytest.raises(Conflict):
        run_execute(ctx, queued.id)
    assert not run_folder(ctx, queued.id).exists()


def test_runs_are_seen_and_started_by_their_organisation_only(
        bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    mia, ola = (context_of(bylab, accounts_setup[name]) for name in ("mia", "ola"))
    run = run_submit(mia, small_request())
    assert [listed.id for listed in run_list(mia)] == [run.id]
    assert run_list(ola) == [] and run_list(bylab.context()) == []
    with pytest.raises(NotFound):
        run_get(ola, run.id)
    with pytest.raises(NotFound):
        run_cancel(ola, run.id)
    with pytest.raises(NotAuthorized):
        run_submit(ola, small_request())  # Ålesund's editor for Molde
    with pytest.raises(NotFound):
        run_submit(mia, small_request(place="NO-9999"))
    with pytest.raises(TooLarge, match="at most 500,000"):
        run_submit(mia, small_request(demand=DemandInput(population=5_000_000)))


def test_a_failing_run_is_marked_failed(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    empty = run_submit(ctx, small_request(demand=DemandInput(population=1)))  # 0.18 car trips
    run = run_execute(ctx, empty.id)
    assert run.status == RunStatus.FAILED and "no car trips" in run.error
    assert isinstance(run, MobilityRun) and run.dataset_id is None


def test_network_from_an_openstreetmap_extract(tmp_path: Path) -> None:
    spec = NetworkSpec(kind=NetworkKind.OSM, osm_file=DATA / "synthetic_town.osm")
    info = network_build(spec, tmp_path / "town.net.xml")
    assert not info.synthetic and info.source_sha256  # the extract's digest, for provenance
    assert info.junctions == 9 and info.edges == 24  # 6 two-way roads of 2 segments; no footway
    assert "100#0" in network_edge_ids(tmp_path / "town.net.xml")
    again = network_build(spec, tmp_path / "again.net.xml")
    assert again.sha256 == info.sha256  # the same extract gives the same network
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'/>")
    with pytest.raises(InvalidInput) as raised:
        network_build(NetworkSpec(kind=NetworkKind.OSM, osm_file=bad), tmp_path / "b.net.xml")
    assert raised.value.file == str(bad)


def test_network_spec_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="osm_file"):
        NetworkSpec(kind=NetworkKind.OSM)
    with pytest.raises(ValueError, match="osm_file"):
        NetworkSpec(kind=NetworkKind.GRID, osm_file=Path("x.osm"))


def test_runs_in_threads_side_by_side(embedded: Bylab) -> None:
    """Two background runs at once each talk to their own SUMO."""
    ctx = system_with_molde(embedded)
    runs = [run_submit(ctx, small_request(seed=seed, publish=False)) for seed in (1, 2)]
    threads: list[threading.Thread] = [run_start(ctx, run.id) for run in runs]
    finished = [wait_until_finished(ctx, run.id) for run in runs]
    for thread in threads:
        thread.join(timeout=5)
    assert [run.status for run in finished] == [RunStatus.SUCCEEDED] * 2


def test_runs_beyond_the_parallel_limit_wait_queued(tmp_path: Path) -> None:
    instance = embedded_instance(tmp_path / "data", mobility_parallel_runs=1)
    try:
        ctx = system_with_molde(instance)
        first, second = (run_submit(ctx, small_request(seed=seed, publish=False))
                         for seed in (1, 2))
        threads = [run_start(ctx, first.id), run_start(ctx, second.id)]
        first, second = (wait_until_finished(ctx, run.id) for run in (first, second))
        for thread in threads:
            thread.join(timeout=5)
        assert first.status == second.status == RunStatus.SUCCEEDED
        earlier, later = sorted((first, second), key=lambda run: run.started)
        assert later.started >= earlier.finished
    finally:
        instance.close()


def test_a_failing_sumo_tool_fails_the_run_with_its_message(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    queued = run_submit(ctx, small_request())
    run_folder(ctx, queued.id).mkdir(parents=True)
    (run_folder(ctx, queued.id) / "demand.rou.xml").mkdir()  # where the routes must go
    run = run_execute(ctx, queued.id)
    assert run.status == RunStatus.FAILED and run.finished is not None
    assert run.error.startswith("randomTrips.py failed:") and "Is a directory" in run.error
    assert run.dataset_id is None and sumo_children() == []
