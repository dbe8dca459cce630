"""`bylab harvest ...`: fetch a PxWeb table or import a saved JSON-stat / PX file into a
dataset; manage saved sources (`bylab harvest source add|list|show|run|runs|dead-letters|
replay|delete`) and run the scheduled ones that are due (`bylab harvest run-due`).

Runs as the system actor on the configured data dir, like `bylab dataset`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import ValidationError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bylab.catalog.models import Visibility
from bylab.connectors.harvest import (
    HarvestTarget,
    country_for_url,
    harvest_jsonstat_file,
    harvest_pxweb,
)
from bylab.connectors.models import HarvestRun, RunStatus, SourceKind
from bylab.connectors.pxweb import PxWebSource, ResponseFormat, selections_from_query
from bylab.connectors.replay import dead_letters_replay
from bylab.connectors.sources import (
    SourceInput,
    dead_letters,
    run_due,
    source_create,
    source_delete,
    source_get,
    source_list,
    source_run,
    source_runs,
)
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, invalid_input_from

app = typer.Typer(no_args_is_help=True)
source_app = typer.Typer(no_args_is_help=True, help="Saved, scheduled harvest sources.")
app.add_typer(source_app, name="source")
console = Console(stderr=True)

DatasetOption = Annotated[str, typer.Option("--dataset", help="Dataset URL name to write to")]
OrgOption = Annotated[str, typer.Option("--org", help="Publishing organisation (name)")]
TitleOption = Annotated[str | None, typer.Option(help="Title (default: the table's label)")]
VisibilityOption = Annotated[Visibility, typer.Option()]
LicenceOption = Annotated[str, typer.Option(help="Licence id, e.g. CC-BY-4.0, NLOD-2.0")]


def _system_context() -> Context:
    from bylab.cli import open_bylab

    return open_bylab().system_context()


@app.command("pxweb")
def pxweb(
    url: Annotated[str, typer.Argument(help="PxWeb API base, e.g. "
                                       "https://data.ssb.no/api/v0/en/table or …/api/v2")],
    table: Annotated[str, typer.Option(help="Table path (v1) or id (v2), e.g. 07459")],
    query: Annotated[Path, typer.Option(exists=True, dir_okay=False, readable=True,
                                        help="Saved query JSON (v1 'query' or v2 'selection')")],
    dataset: DatasetOption,
    org: OrgOption,
    response_format: Annotated[ResponseFormat, typer.Option("--format")] = (
        ResponseFormat.JSON_STAT2),
    country: Annotated[str | None, typer.Option(
        help="NO or SE: link region codes to places (default: from the host)")] = None,
    title: TitleOption = None,
    visibility: VisibilityOption = Visibility.PRIVATE,
    licence: LicenceOption = "CC-BY-4.0",
) -> None:
    """Fetch a PxWeb table query and store it as the dataset's next version (if changed)."""
    query_document = _json_file(query)
    source = PxWebSource(base_url=url, table=table,
                         selections=selections_from_query(query_document, query.name),
                         response_format=response_format,
                         country=(country.upper() if country is not None else country_for_url(url)))
    target = HarvestTarget(dataset_name=dataset, organisation=org, title=title,
                           visibility=visibility, licence_id=licence)
    typer.echo(harvest_pxweb(_system_context(), source, target).summary())


@app.command("jsonstat")
def jsonstat(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Saved JSON-stat or PxWeb 'json' response")],
    dataset: DatasetOption,
    org: OrgOption,
    country: Annotated[str, typer.Option(help="NO or SE: link region codes to places")] = "",
    title: TitleOption = None,
    visibility: VisibilityOption = Visibility.PRIVATE,
    licence: LicenceOption = "CC-BY-4.0",
) -> None:
    """Import a saved JSON-stat / PxWeb response or a PX file as the next version."""
    target = HarvestTarget(dataset_name=dataset, organisation=org, title=title,
                           visibility=visibility, licence_id=licence)
    typer.echo(harvest_jsonstat_file(_system_context(), file, target, country.upper()).summary())


def _json_file(path: Path) -> dict[str, object]:
    try:
        document = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput("not a JSON document ({error})", file=path.name,
                           error=error) from None
    if not isinstance(document, dict):
        raise InvalidInput("expected a JSON object", file=path.name)
    return document


# --- saved sources -------------------------------------------------------------------------

@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="URL name of the source")],
    kind: Annotated[SourceKind, typer.Option(
        help="pxweb, jsonstat (a JSON-stat document or PX file URL), ckan or sta")],
    url: Annotated[str, typer.Option(
        help="PxWeb API base, document URL, CKAN portal or SensorThings root (…/v1.1)")],
    dataset: Annotated[str, typer.Option(
        "--dataset", help="Dataset to write (ckan, sta: prefix of the names made)")],
    org: OrgOption,
    table: Annotated[str, typer.Option(help="PxWeb table path (v1) or id (v2)")] = "",
    query: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True,
        help="JSON file: the PxWeb query, or CKAN options {q, fq, resource_formats, limit}")
    ] = None,
    title: Annotated[str, typer.Option(help="Dataset title (default: the table's)")] = "",
    visibility: VisibilityOption = Visibility.PRIVATE,
    licence: LicenceOption = "CC-BY-4.0",
    country: Annotated[str, typer.Option(help="NO or SE: link region codes to places")] = "",
    schedule: Annotated[str, typer.Option(
        help="'every 6h' (s, m, h, d), 'daily 03:00' (UTC) or empty: by hand")] = "",
) -> None:
    """Save a harvest source."""
    try:
        data = SourceInput(name=name, kind=kind, url=url, organisation=org, dataset=dataset,
                           table=table, query=_json_file(query) if query else {}, title=title,
                           visibility=visibility, licence_id=licence, country=country,
                           schedule=schedule)
    except ValidationError as error:
        raise invalid_input_from(error) from None
    source = source_create(_system_context(), data)
    typer.echo(f"saved harvest source {source.name}"
               + (f"; next run {source.next_run_at:%Y-%m-%d %H:%M} UTC"
                  if source.next_run_at else "; runs by hand (bylab harvest source run)"))


@source_app.command("list")
def source_list_command() -> None:
    """List the saved sources."""
    table = Table("name", "kind", "dataset", "schedule", "next run (UTC)", "url")
    for source in source_list(_system_context()):
        table.add_row(source.name, source.kind, source.dataset_name, source.schedule or "-",
                      f"{source.next_run_at:%Y-%m-%d %H:%M}" if source.next_run_at else "-",
                      source.url)
    Console().print(table)


@source_app.command("show")
def source_show(name: str) -> None:
    """Print a source as JSON."""
    source = source_get(_system_context(), name)
    typer.echo(json.dumps({
        "name": source.name, "kind": source.kind, "url": source.url, "table": source.table_ref,
        "query": source.query, "dataset": source.dataset_name, "visibility": source.visibility,
        "licence_id": source.licence_id, "country": source.country,
        "schedule": source.schedule, "known_variables": source.known_variables,
        "next_run_at": source.next_run_at.isoformat() if source.next_run_at else None,
    }, ensure_ascii=False, indent=2))


@source_app.command("run")
def source_run_command(name: str) -> None:
    """Run a source now, with progress, and print the logged run."""
    ctx = _system_context()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(f"harvesting {name}", total=None)

        def report(done: int, total: int | None, unit: str) -> None:
            bar.update(task, completed=done, total=total,
                       description=f"harvesting {name} ({unit})")

        run = source_run(ctx, name, progress=report)
    _print_run(run)
    if run.status == RunStatus.FAILED:
        raise BylabError("the run failed: {reason}", reason=run.message)


@source_app.command("runs")
def source_runs_command(
    name: str, limit: Annotated[int, typer.Option(min=1, help="How many runs")] = 20,
) -> None:
    """The run log of a source, newest first."""
    table = Table("started (UTC)", "trigger", "status", "read", "stored", "rejected", "version",
                  "run id", "message")
    for run in source_runs(_system_context(), name, limit):
        table.add_row(f"{run.started:%Y-%m-%d %H:%M:%S}", run.trigger, run.status,
                      f"{run.rows_read:,}", f"{run.rows_stored:,}", f"{run.rows_rejected:,}",
                      str(run.dataset_version or ""), run.id, run.message)
    Console(width=200).print(table)


@source_app.command("dead-letters")
def source_dead_letters(run_id: str) -> None:
    """What a run could not store (JSON lines: location, reason, payload)."""
    for letter in dead_letters(_system_context(), run_id):
        typer.echo(json.dumps({"id": letter.id, "location": letter.location,
                               "reason": letter.reason, "payload": letter.payload,
                               "replayed_at": letter.replayed_at and
                               letter.replayed_at.isoformat(),
                               "replayed_by": letter.replayed_by}, ensure_ascii=False))


@source_app.command("replay")
def source_replay(
    run_id: str,
    letter: Annotated[str | None, typer.Option(help="Replay only this dead letter (id)")] = None,
    value: Annotated[str | None, typer.Option(
        help="The corrected value of its cell or observation result (JSON, e.g. 5.3)")] = None,
    note: Annotated[str | None, typer.Option(
        help="Where a table cell's corrected value comes from (required with its value)")
    ] = None,
) -> None:
    """Replay a run's dead letters once their cause is fixed: those that now succeed are
    stored and marked replayed; the others keep their reason, updated. A table cell can be
    stored with a corrected value (--letter, --value and --note)."""
    with console.status("replaying dead letters …"):
        report = dead_letters_replay(_system_context(), run_id, letter, value, note)
    typer.echo(report.summary())
    if report.still_failing:
        raise typer.Exit(1)


@source_app.command("delete")
def source_delete_command(name: str) -> None:
    """Delete a source and its run log (its datasets stay)."""
    source_delete(_system_context(), name)
    typer.echo(f"deleted harvest source {name}")


@app.command("run-due")
def run_due_command() -> None:
    """Run every scheduled source that is due (once, even beside `bylab serve`)."""
    due = run_due(_system_context(),
                  progress=lambda source: console.print(f"running {source.name} …"))
    for run in due.runs:
        _print_run(run)
    typer.echo(f"{len(due.runs)} due source(s) run"
               + (f", {due.skipped} already running elsewhere" if due.skipped else ""))
    if any(run.status == RunStatus.FAILED for run in due.runs):
        raise BylabError("at least one run failed (see above)")


def _print_run(run: HarvestRun) -> None:
    typer.echo(f"run {run.id}: {run.status}; {run.rows_read:,} read, {run.rows_stored:,} "
               f"stored, {run.rows_rejected:,} rejected"
               + (f"; dataset version {run.dataset_version}" if run.dataset_version else "")
               + (f"\n  {run.message}" if run.message else ""))
    for note in run.notes:
        if note:
            typer.echo(f"  {note}")
