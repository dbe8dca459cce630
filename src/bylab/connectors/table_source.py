"""A saved source's statistics table: fetching it as it is now (a PxWeb query, or a JSON-stat,
PxWeb json or PX document) and keeping its dataset the source's own. Running a source
(``sources``) and correcting a cell of its table (``cell_correction``) both build on these."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bylab.catalog.models import Dataset, Visibility
from bylab.catalog.publish import dataset_share_set
from bylab.connectors.harvest import country_for_url, parse_saved_file
from bylab.connectors.jsonstat import ParsedTable, parse_document
from bylab.connectors.models import HarvestSource, SourceKind
from bylab.connectors.pxweb import (
    PxWebSource,
    ResponseFormat,
    network_errors,
    pxweb_fetch,
    pxweb_url,
    selections_from_query,
)
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput

__all__ = ["FETCH_TIMEOUT_S", "check_dataset_owner", "fetch_document", "keep_visibility",
           "response_format", "table_fetch"]

FETCH_TIMEOUT_S = 60.0


def response_format(query: dict[str, Any]) -> ResponseFormat:
    """The PxWeb response format a saved query asks for (JSON-stat 2 unless it says)."""
    name = (query.get("response") or {}).get("format") or ResponseFormat.JSON_STAT2
    try:
        return ResponseFormat(name)
    except ValueError:
        raise InvalidInput("unknown response format {name!r}; use {formats}",
                           field="query.response.format", name=name,
                           formats=[str(item) for item in ResponseFormat]) from None


def table_fetch(source: HarvestSource) -> tuple[ParsedTable, str, str]:
    """The source's table as it is now, the URL it came from and the country of its codes."""
    country = source.country or country_for_url(source.url)
    if source.kind == SourceKind.PXWEB:
        pxweb = PxWebSource(base_url=source.url, table=source.table_ref,
                            selections=selections_from_query(source.query, "query"),
                            response_format=response_format(source.query), country=country)
        url = pxweb_url(pxweb)
        return parse_document(pxweb_fetch(pxweb), url), url, country
    return fetch_document(source), source.url, country


def fetch_document(source: HarvestSource) -> ParsedTable:
    """GET a ``jsonstat`` source's JSON-stat / PxWeb json document or PX file, parsed."""
    with network_errors(source.url, FETCH_TIMEOUT_S):
        response = httpx.get(source.url, timeout=FETCH_TIMEOUT_S, follow_redirects=True)
    if not response.is_success:
        raise InvalidInput("the server answered HTTP {status}", file=source.url,
                           status=response.status_code)
    with tempfile.TemporaryDirectory(prefix="bylab-harvest-") as folder:
        path = Path(folder) / (source.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                               or "document")
        path.write_bytes(response.content)
        return parse_saved_file(path, source.url)


def check_dataset_owner(ctx: Context, source: HarvestSource) -> None:
    """A scheduled run acts as the system: never write into another organisation's dataset."""
    with ctx.db.session() as session:
        owner = session.scalar(select(Dataset.organisation_id)
                               .where(Dataset.name == source.dataset_name))
    if owner is not None and owner != source.organisation_id:
        raise Conflict("dataset '{dataset}' belongs to another organisation",
                       field="dataset", dataset=source.dataset_name)


def keep_visibility(ctx: Context, source: HarvestSource) -> None:
    """The source's visibility is the dataset's on every run, not only the first."""
    with ctx.db.session() as session:
        visibility = session.scalar(select(Dataset.visibility)
                                    .where(Dataset.name == source.dataset_name))
    if visibility is not None and visibility != source.visibility:
        dataset_share_set(ctx, source.dataset_name, Visibility(source.visibility), [])
