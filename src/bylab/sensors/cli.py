"""`bylab sensors ...`: things and datastreams, observation import, MQTT ingestion and the
dead-letter store."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bylab.sensors import actions
from bylab.sensors.dataarray import observations_create_strict, read_body
from bylab.sensors.models import SensorVisibility

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


def _open_bylab():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab()


@app.command("thing-add")
def thing_add(
    name: Annotated[str, typer.Argument(
        help="Name of the station or device (one per organisation).")],
    description: Annotated[str, typer.Option(help="What and where it is.")] = "",
    organisation: Annotated[str | None, typer.Option(help="Owning organisation.")] = None,
    private: Annotated[bool, typer.Option(help="Only the owner's members see it.")] = False,
    lon: Annotated[float | None, typer.Option(help="Longitude (WGS 84).")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude (WGS 84).")] = None,
) -> None:
    """Add a Thing (with its Location when --lon and --lat are given)."""
    coordinates = (lon, lat) if lon is not None and lat is not None else None
    visibility = SensorVisibility.PRIVATE if private else SensorVisibility.PUBLIC
    thing = actions.thing_create(_open_bylab().system_context(), name, description=description,
                                 organisation=organisation, visibility=visibility,
                                 coordinates=coordinates)
    typer.echo(f"thing {thing.id}: {thing.name}")


@app.command("datastream-add")
def datastream_add(
    thing: Annotated[str, typer.Argument(
        help="Name of the Thing, or its id when several share the name.")],
    key: Annotated[str, typer.Argument(help="Key payloads and files name it by, e.g. Valand/pm25.")],
    name: Annotated[str, typer.Option(help="Title.")],
    observed_property: Annotated[str, typer.Option("--property", help="What it measures.")],
    unit_name: Annotated[str, typer.Option(help="Unit, e.g. 'degree Celsius'.")],
    unit_symbol: Annotated[str, typer.Option(help="Unit symbol, e.g. °C.")],
    sensor: Annotated[str, typer.Option(help="Instrument or procedure.")] = "sensor",
) -> None:
    """Add a Datastream to a Thing."""
    datastream = actions.datastream_create(
        _open_bylab().system_context(), thing, key, name, observed_property=observed_property,
        unit=actions.Unit(unit_name, unit_symbol), sensor=sensor)
    typer.echo(f"datastream {datastream.id}: {datastream.key}")


@app.command("import")
def import_observations(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV or Parquet (datastream, phenomenonTime, "
                                              "result) or a SensorThings CreateObservations "
                                              "dataArray document (.json).")],
) -> None:
    """Import observations; a bad row refuses the file and names the row."""
    ctx = _open_bylab().system_context()
    with console.status("importing…") as status:
        if file.suffix == ".json":
            status.update(f"reading {file.name}")
            document = read_body(file.read_bytes(), "application/json", file.name)
            read, new = observations_create_strict(ctx, document, file.name,
                                                   lambda message: status.update(message))
        else:
            read, new = actions.observations_import(ctx, file,
                                                    lambda message: status.update(message))
    typer.echo(f"{read:,} rows read, {new:,} observations new, {read - new:,} stored before")


@app.command("ingest")
def ingest() -> None:
    """Subscribe to the configured MQTT topics and store observations until stopped."""
    from bylab.sensors.ingest import Ingestor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        force=True)
    ingestor = Ingestor(_open_bylab().system_context())
    signal.signal(signal.SIGTERM, lambda *_: ingestor.stop.set())
    try:
        ingestor.run()
    except KeyboardInterrupt:
        ingestor.stop.set()


@app.command("dead-letters")
def dead_letters(
    all: Annotated[bool, typer.Option("--all", help="Include replayed ones.")] = False,
) -> None:
    """List observations that could not be stored, with the reason."""
    letters = actions.dead_letter_list(_open_bylab().system_context(), include_replayed=all)
    if not letters:
        typer.echo("no dead letters")
    for letter in letters:
        state = f"replayed {letter.replayed_at:%Y-%m-%d %H:%M}" if letter.replayed_at else "open"
        typer.echo(f"{letter.id:6}  {letter.received_at:%Y-%m-%d %H:%M:%S}  {letter.source}  "
                   f"{state}\n        reason: {letter.reason}\n        payload: {letter.payload}")


@app.command("replay")
def replay(
    ids: Annotated[list[int] | None,
                   typer.Argument(help="Dead letters to retry (default: all open).")] = None,
) -> None:
    """Retry dead letters, e.g. after adding the datastream they named."""
    result = actions.dead_letter_replay(_open_bylab().system_context(), ids or None)
    typer.echo(f"{result.stored} stored, {result.still_bad} still refused")


@app.command("compact")
def compact() -> None:
    """Merge each day's observation files into one, and each closed month's (before the
    current month, UTC) into one file (faster reads over long spans)."""
    store = actions.observation_store(_open_bylab().system_context())
    days = store.compact()
    months = store.compact_months()
    typer.echo(f"{days} days and {months} months compacted")
