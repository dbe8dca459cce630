"""`bylab mobility ...`: build networks, run and calibrate SUMO simulations, list runs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from bylab.catalog.models import Visibility
from bylab.core import Context
from bylab.errors import InvalidInput, invalid_input_from
from bylab.mobility.counters import counts_from_sensors, counts_write
from bylab.mobility.demand import DemandInput, ModeShare
from bylab.mobility.models import MobilityRun
from bylab.mobility.network import NetworkKind, NetworkSpec, network_build
from bylab.mobility.runs import RunRequest, run_cancel, run_execute, run_get, run_list, run_submit

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)

# Options shared by `run` and `calibrate`.
OrganisationOption = Annotated[str, typer.Option(help="Organisation running it (name or id).")]
PlaceOption = Annotated[str | None, typer.Option(help="Place id the run is about, e.g. NO-1506.")]
TitleOption = Annotated[str, typer.Option(help="Title of the run.")]
OsmOption = Annotated[Path | None, typer.Option(
    exists=True, dir_okay=False, help="OpenStreetMap extract (.osm) to import the network from.")]
KindOption = Annotated[NetworkKind, typer.Option(help="Generated network shape (without --osm).")]
SizeOption = Annotated[int, typer.Option(min=2, max=60, help="Junctions per side (grid) or arms "
                                         "(spider).")]
LengthOption = Annotated[float, typer.Option(help="Edge length of a generated network (m).")]
LanesOption = Annotated[int, typer.Option(min=1, max=4, help="Lanes per direction.")]
PopulationOption = Annotated[int, typer.Option(min=1, help="Inhabitants.")]
TripsOption = Annotated[float, typer.Option(help="Trips per person per day.")]
ShareOption = Annotated[float, typer.Option(min=0, max=1)]
PeakOption = Annotated[float, typer.Option(help="Share of a day's trips in each simulated hour "
                                           "(assumption unless you know it).")]
StartOption = Annotated[int, typer.Option(min=0, max=23, help="Hour of day the period starts.")]
HoursOption = Annotated[float, typer.Option(help="Hours simulated.")]
SeedOption = Annotated[int, typer.Option(min=0, help="Random seed (demand and SUMO).")]
PublishOption = Annotated[bool, typer.Option(help="Publish the results as a dataset.")]
VisibilityOption = Annotated[Visibility, typer.Option(help="Visibility of the published dataset.")]


def _system_context() -> Context:
    from bylab.cli import open_bylab

    return open_bylab().system_context()


def network_spec(osm: Path | None, kind: NetworkKind, size: int, edge_length: float,
                  lanes: int) -> NetworkSpec:
    with _checked():
        if osm:
            return NetworkSpec(kind=NetworkKind.OSM, osm_file=osm.resolve(), lanes=lanes)
        return NetworkSpec(kind=kind, size=size, edge_length_m=edge_length, lanes=lanes)


@contextmanager
def _checked() -> Iterator[None]:
    """Options that fail a model's checks are bad input, reported by the CLI as such."""
    try:
        yield
    except ValidationError as error:
        raise invalid_input_from(error) from None


def _demand(population: int, trips_per_person: float, shares: tuple[float, float, float, float],
            peak_hour_share: float, start_hour: int, hours: float) -> DemandInput:
    car, public_transport, bicycle, walk = shares
    with _checked():
        return DemandInput(population=population, trips_per_person_per_day=trips_per_person,
                           mode_share=ModeShare(car=car, public_transport=public_transport,
                                                bicycle=bicycle, walk=walk), peak_hour_share=peak_hour_share,
                           start_hour=start_hour, simulated_hours=hours)


@app.command("network")
def network(
    output: Annotated[Path, typer.Argument(dir_okay=False, help="Network file to write "
                                           "(.net.xml).")],
    osm: OsmOption = None, kind: KindOption = NetworkKind.GRID, size: SizeOption = 5,
    edge_length: LengthOption = 200.0, lanes: LanesOption = 1,
) -> None:
    """Build a SUMO road network: imported from an OpenStreetMap extract (--osm) or generated
    (a synthetic grid or spider) when you have none."""
    info = network_build(network_spec(osm, kind, size, edge_length, lanes), output)
    typer.echo(f"{output}: {info.label}; {info.edges} edges, {info.junctions} junctions, "
               f"{info.length_km} km of road")


def run(
    command: typer.Context,
    organisation: OrganisationOption, population: PopulationOption,
    place: PlaceOption = None, title: TitleOption = "",
    osm: OsmOption = None, kind: KindOption = NetworkKind.GRID, size: SizeOption = 5,
    edge_length: LengthOption = 200.0, lanes: LanesOption = 1,
    trips_per_person: TripsOption = 3.0, car: ShareOption = 0.6,
    public_transport: ShareOption = 0.15, bicycle: ShareOption = 0.1, walk: ShareOption = 0.15,
    peak_hour_share: PeakOption = 0.1, start_hour: StartOption = 7, hours: HoursOption = 1.0,
    seed: SeedOption = 1, publish: PublishOption = True,
    visibility: VisibilityOption = Visibility.PRIVATE,
    counts: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="Calibrate: CSV of counts (edge_id, hour, count).")
    ] = None,
    sensor: Annotated[list[str] | None, typer.Option(
        help="Calibrate with a SensorThings counting datastream instead of a CSV, and the "
             "edge it counts, as KEY=EDGE_ID (repeatable).")] = None,
    day: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="With --sensor: the day whose hourly counts to fit.")] = None,
    timezone: Annotated[str, typer.Option(help="With --sensor: the counters' local time "
                                          "zone (hours of the day are local).")] = "Europe/Oslo",
) -> None:
    """Simulate car traffic for a demand (population, trips per person, mode share) with
    SUMO and publish travel times, delays and emissions as a dataset; with counts, calibrate
    the demand first."""
    request = RunRequest(
        organisation=organisation, place=place, title=title, seed=seed, publish=publish,
        visibility=visibility, network=network_spec(osm, kind, size, edge_length, lanes),
        demand=_demand(population, trips_per_person, (car, public_transport, bicycle, walk),
                       peak_hour_share, start_hour, hours))
    ctx = _system_context()
    calibrating = command.info_name == "calibrate" or counts is not None or bool(sensor)
    with tempfile.TemporaryDirectory(prefix="bylab-counts-") as folder:
        counts_file: Path | None = None
        counts_name: str | None = None
        if calibrating:
            counts_file, counts_name = _counts_source(ctx, counts, sensor or [], day, timezone,
                                                      Path(folder))
        queued = run_submit(ctx, request, counts_file, counts_name)
    _print_fit(execute_with_progress(ctx, queued))


# `calibrate` is `run` that insists on counts (it checks command.info_name).
app.command("run")(run)
app.command("calibrate", help=(
    "Fit the demand to traffic counts (--counts CSV, or --sensor KEY=EDGE_ID and --day) with "
    "SUMO's routeSampler, simulate it, publish the results and report the GEH statistic per "
    "counter before and after, with the share of counters below 5."))(run)


def _print_fit(run: MobilityRun) -> None:
    fit = run.results.get("calibration")
    if not fit:
        return
    typer.echo("edge_id\thour\tcounted\tmodelled_before\tgeh_before\tmodelled_after\tgeh_after")
    for counter in fit["counters"]:
        typer.echo("\t".join(str(counter[key]) for key in (
            "edge_id", "hour", "counted", "modelled_before", "geh_before", "modelled_after",
            "geh_after")))
    typer.echo(f"GEH < 5: {fit['share_geh_below_5_before']:.0%} of counters before, "
               f"{fit['share_geh_below_5_after']:.0%} after calibration")


def _counts_source(ctx: Context, counts: Path | None, sensors: list[str], day: datetime | None,
                   timezone: str, folder: Path) -> tuple[Path, str]:
    """The counts file to calibrate with, and its name for messages and provenance."""
    if (counts is None) == (not sensors):
        raise InvalidInput("calibrating needs --counts FILE or --sensor KEY=EDGE_ID options "
                           "(not both)", field="counts")
    if counts is not None:
        return counts, counts.name
    if day is None:
        raise InvalidInput("--sensor needs --day", field="day")
    edge_by_datastream = dict(_key_and_edge(option) for option in sensors)
    fetched = counts_from_sensors(ctx, edge_by_datastream, day.date(), timezone)
    written = counts_write(fetched, folder / "counts.csv")
    return written, f"SensorThings {', '.join(edge_by_datastream)} on {day.date()} ({timezone})"


def _key_and_edge(option: str) -> tuple[str, str]:
    key, separator, edge = option.rpartition("=")
    if not separator or not key or not edge:
        raise InvalidInput("'{option}' is not KEY=EDGE_ID", field="sensor", option=option)
    return key, edge


def execute_with_progress(ctx: Context, queued: MobilityRun, err: bool = False) -> MobilityRun:
    """Execute a queued run here with a progress bar, then print it (to stderr ``err``);
    exit 1 unless it succeeded."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=1.0)
        finished = run_execute(ctx, queued.id, lambda phase, done: progress.update(
            task, description=phase, completed=done))
    _print_run(finished, err)
    if finished.status != "succeeded":
        raise typer.Exit(1)
    return finished


def _print_run(run: MobilityRun, err: bool = False) -> None:
    typer.echo(f"run {run.id}: {run.status}{': ' + run.error if run.error else ''}", err=err)
    for variable, value in run.results.get("indicators", {}).items():
        typer.echo(f"  {variable}\t{value:.6g}", err=err)
    if run.dataset_id:
        typer.echo(f"  published as dataset {run.dataset_id}", err=err)


@app.command("runs")
def runs(
    run_id: Annotated[str | None, typer.Argument(help="Show this run in full (JSON).")] = None,
) -> None:
    """List the mobility runs (or show one with its provenance and results)."""
    ctx = _system_context()
    if run_id:
        shown = run_get(ctx, run_id)
        typer.echo(json.dumps({column.name: getattr(shown, column.name)
                               for column in MobilityRun.__table__.columns},
                              default=str, indent=2, ensure_ascii=False))
        return
    for listed in run_list(ctx):
        typer.echo(f"{listed.id}\t{listed.kind}\t{listed.status}\t{listed.progress:.0%}\t"
                   f"{listed.created:%Y-%m-%d %H:%M}\t{listed.title}")


@app.command("cancel")
def cancel(run_id: Annotated[str, typer.Argument(help="The run to cancel.")]) -> None:
    """Cancel a queued or running run (also one the server runs)."""
    cancelled = run_cancel(_system_context(), run_id)
    typer.echo(f"run {cancelled.id}: {cancelled.status}"
               f"{' (stopping)' if cancelled.status == 'running' else ''}")

