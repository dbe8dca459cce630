"""Harvest actions: fetch or read a statistics table, tidy it, link its regions to places and
store it as the next version of a dataset — only when its content changed."""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from bylab.catalog.ingest import ProgressCallback
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.catalog.queries import dataset_get
from bylab.connectors.jsonstat import ParsedTable, parse_document, parse_file
from bylab.connectors.pxweb import PxWebSource, pxweb_fetch, pxweb_url
from bylab.core import Context
from bylab.errors import NotFound
from bylab.places.models import Place
from bylab.places.records import place_id_for

__all__ = ["HarvestReport", "HarvestTarget", "country_for_url", "harvest_jsonstat_file",
           "harvest_pxweb"]

# Statistics offices whose region codes are bylab place codes (NO-<kommunenummer>, SE-<kommunkod>).
COUNTRY_BY_HOST_SUFFIX = {"ssb.no": "NO", "scb.se": "SE"}


@dataclass(frozen=True)
class HarvestTarget:
    """The dataset a harvest writes to, and its metadata when the first run creates it."""

    dataset_name: str
    organisation: str
    title: str | None = None  # default: the table's own label
    language: str = "en"
    visibility: Visibility = Visibility.PRIVATE
    licence_id: str = "CC-BY-4.0"


@dataclass
class HarvestReport:
    """What one harvest run did. ``version`` is None when the table was unchanged."""

    dataset_name: str
    source: str
    rows: int
    suppressed_cells: int
    unmapped_region_codes: list[str] = field(default_factory=list)
    version: int | None = None
    content_sha256: str = ""

    @property
    def unchanged(self) -> bool:
        return self.version is None

    def summary(self) -> str:
        stored = "unchanged (no new version)" if self.unchanged else f"stored version {self.version}"
        unmapped = ", ".join(self.unmapped_region_codes[:10]) + (
            " …" if len(self.unmapped_region_codes) > 10 else "")
        return (f"{self.dataset_name}: {stored}; {self.rows:,} rows, {self.suppressed_cells:,} "
                f"cells suppressed or missing, {len(self.unmapped_region_codes)} region codes "
                f"without a place{f' ({unmapped})' if unmapped else ''}")


def harvest_pxweb(ctx: Context, source: PxWebSource, target: HarvestTarget,
                  progress: ProgressCallback | None = None,
                  transport: httpx.BaseTransport | None = None) -> HarvestReport:
    """Fetch a PxWeb table query and store it as the next version of ``target`` (creating the
    dataset on the first run). Stores nothing when the table equals the latest version."""
    url = pxweb_url(source)
    parsed = parse_document(pxweb_fetch(source, transport), url)
    country = source.country or country_for_url(source.base_url)
    return _harvest_parsed(ctx, parsed, target, country, url, progress)


def harvest_jsonstat_file(ctx: Context, path: Path, target: HarvestTarget, country: str = "",
                          filename: str | None = None,
                          progress: ProgressCallback | None = None) -> HarvestReport:
    """Import a saved JSON-stat / PxWeb response file, as ``harvest_pxweb`` does a live one.
    ``country`` ("NO", "SE") links region codes to places."""
    filename = filename or path.name
    parsed = parse_file(path, filename)
    return _harvest_parsed(ctx, parsed, target, country, filename, progress)


def country_for_url(url: str) -> str:
    """"NO" for SSB, "SE" for SCB, "" for any other server."""
    host = urlsplit(url).hostname or ""
    return next((country for suffix, country in COUNTRY_BY_HOST_SUFFIX.items()
                 if host == suffix or host.endswith(f".{suffix}")), "")


def _harvest_parsed(ctx: Context, parsed: ParsedTable, target: HarvestTarget, country: str,
                    source_label: str, progress: ProgressCallback | None) -> HarvestReport:
    table, unmapped = _with_place_ids(ctx, parsed, country)
    report = HarvestReport(dataset_name=target.dataset_name, source=source_label,
                           rows=table.num_rows, suppressed_cells=parsed.suppressed_cells,
                           unmapped_region_codes=unmapped)
    with tempfile.TemporaryDirectory(prefix="bylab-harvest-") as folder:
        path = Path(folder) / f"{_file_stem(source_label)}.parquet"
        pq.write_table(table, path)
        report.content_sha256 = _content_sha256(ctx, path)
        exists, latest_sha256 = _latest_content(ctx, target.dataset_name)
        if exists and latest_sha256 == report.content_sha256:
            return report
        if exists:
            version = dataset_add_version(ctx, target.dataset_name, path, path.name,
                                          note=f"harvested from {source_label}",
                                          progress=progress)
            report.version = version.version
        else:
            dataset_publish(ctx, _metadata(target, parsed, source_label), path, path.name,
                            progress)
            report.version = 1
    return report


def _with_place_ids(ctx: Context, parsed: ParsedTable, country: str
                    ) -> tuple[pa.Table, list[str]]:
    """The table with a ``place_id`` column after the region codes (NULL where no place has
    that code), and the region codes that matched no place."""
    if parsed.region_column is None:
        return parsed.table, []
    codes = parsed.table.column(parsed.region_column).to_pylist()
    candidates = {code: place_id_for(country, code) for code in set(codes) if code and country}
    with ctx.db.session() as session:
        known = set(session.scalars(select(Place.id).where(Place.id.in_(candidates.values()))))
    place_ids = [candidates.get(code) if candidates.get(code) in known else None
                 for code in codes]
    position = parsed.table.schema.get_field_index(parsed.region_column) + 1
    table = parsed.table.add_column(position, "place_id", pa.array(place_ids, pa.string()))
    unmapped = sorted({code for code, place_id in zip(codes, place_ids, strict=True)
                       if place_id is None})
    return table, unmapped


def _content_sha256(ctx: Context, path: Path) -> str:
    """A hash of a table's column names, types and rows in order, read the same way for a
    fresh file and a stored version (DuckDB rewrites stored files, so file bytes differ)."""
    result = ctx.tables.query(f"SELECT * FROM {ctx.tables.scan(path)}")
    digest = hashlib.sha256(repr([(column[0], str(column[1]))
                                  for column in result.description]).encode())
    while rows := result.fetchmany(10_000):
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def _latest_content(ctx: Context, dataset_name: str) -> tuple[bool, str | None]:
    """Whether the dataset exists, and the content hash of its latest version (if any)."""
    with ctx.db.session() as session:
        try:
            dataset = dataset_get(session, ctx, dataset_name)
        except NotFound:
            return False, None
        latest_path = (ctx.tables.resolve(dataset.versions[-1].table_path)
                       if dataset.versions else None)
    return True, (_content_sha256(ctx, latest_path) if latest_path else None)


def _metadata(target: HarvestTarget, parsed: ParsedTable, source_label: str) -> DatasetMetadata:
    title = target.title or parsed.label or target.dataset_name
    provenance = "; ".join(part for part in (
        parsed.source and f"Source: {parsed.source}",
        parsed.updated and f"updated {parsed.updated}",
        f"harvested from {source_label}") if part)
    return DatasetMetadata(name=target.dataset_name, title={target.language: title},
                           organisation=target.organisation, visibility=target.visibility,
                           licence_id=target.licence_id, source_note=provenance)


def _file_stem(source_label: str) -> str:
    """A file name for the stored version, from the last two parts of the URL (or the file)."""
    last_part = "-".join(source_label.rstrip("/").split("/")[-2:]).removesuffix(".json")
    return re.sub(r"[^0-9A-Za-z_-]+", "-", last_part).strip("-")[:80] or "harvest"
