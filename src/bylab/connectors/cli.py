"""`bylab harvest ...`: fetch a PxWeb table or import a saved JSON-stat file into a dataset.

Runs as the system actor on the configured data dir, like `bylab dataset`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bylab.catalog.models import Visibility
from bylab.connectors.harvest import (
    HarvestTarget,
    country_for_url,
    harvest_jsonstat_file,
    harvest_pxweb,
)
from bylab.connectors.pxweb import PxWebSource, ResponseFormat, selections_from_query
from bylab.core import Context
from bylab.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

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
    try:
        query_document = json.loads(query.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"not a JSON document ({error})", file=query.name) from None
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
    """Import a saved JSON-stat / PxWeb response file as the dataset's next version."""
    target = HarvestTarget(dataset_name=dataset, organisation=org, title=title,
                           visibility=visibility, licence_id=licence)
    typer.echo(harvest_jsonstat_file(_system_context(), file, target, country.upper()).summary())
