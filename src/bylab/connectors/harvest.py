"""Harvest actions: fetch or read a statistics table, tidy it, link its regions to places and
store it as the next version of a dataset — only when its content changed."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from bylab.catalog.ingest import ProgressCallback
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.publish import dataset_add_version, dataset_create, dataset_delete
from bylab.catalog.queries import dataset_get
from bylab.connectors.jsonstat import ParsedTable, RejectedCell, parse_document, parse_file
from bylab.connectors.px import is_px, parse_px_file
from bylab.connectors.pxweb import PxWebSource, pxweb_fetch, pxweb_url
from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.places.history import place_crosswalk
from bylab.places.models import Place
from bylab.places.records import place_id_for

__all__ = ["HarvestReport", "HarvestTarget", "country_for_url", "harvest_jsonstat_file",
           "harvest_parsed", "harvest_pxweb", "noted_sha256", "parse_saved_file",
           "store_version", "version_note"]

NOTED_SHA256 = re.compile(r"content sha256=([0-9a-f]{64})")
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
    # Region codes no longer in use, mapped to the one place that took over their area.
    remapped_region_codes: dict[str, str] = field(default_factory=dict)
    rejected: list[RejectedCell] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # the table's dimension ids

    @property
    def cells_read(self) -> int:
        return self.rows + len(self.rejected)

    @property
    def unchanged(self) -> bool:
        return self.version is None

    def summary(self) -> str:
        stored = "unchanged (no new version)" if self.unchanged else f"stored version {self.version}"
        unmapped = ", ".join(self.unmapped_region_codes[:10]) + (
            " …" if len(self.unmapped_region_codes) > 10 else "")
        remapped = ", ".join(f"{old} → {new}" for old, new in
                             sorted(self.remapped_region_codes.items()))
        return (f"{self.dataset_name}: {stored}; {self.rows:,} rows, {self.suppressed_cells:,} "
                f"cells suppressed or missing, {len(self.rejected):,} cells rejected, "
                f"{len(self.unmapped_region_codes)} region codes "
                f"without a place{f' ({unmapped})' if unmapped else ''}"
                f"{f'; old region codes mapped to successors: {remapped}' if remapped else ''}")

    def notes(self) -> list[str]:
        """What the run log shows about the mapping of region codes."""
        notes = [f"region code {old} is no longer in use: mapped to its successor {new}"
                 for old, new in sorted(self.remapped_region_codes.items())]
        if self.unmapped_region_codes:
            notes.append("region codes without a place: "
                         + ", ".join(self.unmapped_region_codes))
        return notes


def harvest_pxweb(ctx: Context, source: PxWebSource, target: HarvestTarget,
                  progress: ProgressCallback | None = None,
                  transport: httpx.BaseTransport | None = None,
                  expected_variables: Sequence[str] = ()) -> HarvestReport:
    """Fetch a PxWeb table query and store it as the next version of ``target`` (creating the
    dataset on the first run). Stores nothing when the table equals the latest version.
    ``expected_variables`` (from an earlier run) refuses a table whose variables changed."""
    url = pxweb_url(source)
    parsed = parse_document(pxweb_fetch(source, transport), url)
    country = source.country or country_for_url(source.base_url)
    return harvest_parsed(ctx, parsed, target, country, url, progress, expected_variables)


def harvest_jsonstat_file(ctx: Context, path: Path, target: HarvestTarget, country: str = "",
                          filename: str | None = None,
                          progress: ProgressCallback | None = None) -> HarvestReport:
    """Import a saved JSON-stat / PxWeb response file or PX file, as ``harvest_pxweb`` does a
    live answer. ``country`` ("NO", "SE") links region codes to places."""
    filename = filename or path.name
    return harvest_parsed(ctx, parse_saved_file(path, filename), target, country, filename,
                          progress)


def parse_saved_file(path: Path, filename: str) -> ParsedTable:
    """A PX file or a JSON-stat / PxWeb ``json`` document."""
    return parse_px_file(path, filename) if is_px(path) else parse_file(path, filename)


def country_for_url(url: str) -> str:
    """"NO" for SSB, "SE" for SCB, "" for any other server."""
    host = urlsplit(url).hostname or ""
    return next((country for suffix, country in COUNTRY_BY_HOST_SUFFIX.items()
                 if host == suffix or host.endswith(f".{suffix}")), "")


def harvest_parsed(ctx: Context, parsed: ParsedTable, target: HarvestTarget, country: str,
                   source_label: str, progress: ProgressCallback | None = None,
                   expected_variables: Sequence[str] = (), change_note: str = ""
                   ) -> HarvestReport:
    """Store a parsed table as the next version of ``target`` unless it equals the latest;
    ``change_note`` is added to the version's note (a corrected cell: by whom and why)."""
    _check_variables(parsed, expected_variables, source_label)
    table, unmapped, remapped = _with_place_ids(ctx, parsed, country)
    report = HarvestReport(dataset_name=target.dataset_name, source=source_label,
                           rows=table.num_rows, suppressed_cells=parsed.suppressed_cells,
                           unmapped_region_codes=unmapped, remapped_region_codes=remapped,
                           rejected=parsed.rejected, variables=parsed.dimension_ids)
    report.content_sha256 = _content_sha256(table)
    exists, latest_sha256 = _latest_content(ctx, target.dataset_name)
    if exists and latest_sha256 == report.content_sha256:
        return report
    note = "; ".join(filter(None, (version_note(source_label, report.content_sha256),
                                   change_note)))
    metadata = None if exists else _metadata(target, parsed, source_label)
    with tempfile.TemporaryDirectory(prefix="bylab-harvest-") as folder:
        path = Path(folder) / f"{_file_stem(source_label)}.parquet"
        pq.write_table(table, path)
        report.version = store_version(ctx, target.dataset_name, metadata, path, note, progress)
    return report


def version_note(source_label: str, content_sha256: str) -> str:
    """The note of a harvested version; its hash lets the next run see that nothing changed
    without reading the stored table again."""
    return f"harvested from {source_label}; content sha256={content_sha256}"


def noted_sha256(note: str) -> str | None:
    match = NOTED_SHA256.search(note)
    return match.group(1) if match else None


def store_version(ctx: Context, dataset_name: str, metadata: DatasetMetadata | None,
                  path: Path, note: str, progress: ProgressCallback | None = None) -> int:
    """Store ``path`` as the next version of the dataset, creating it from ``metadata`` first
    when given; a first version that fails to store leaves no dataset behind."""
    if metadata is None:
        return dataset_add_version(ctx, dataset_name, path, path.name, note, progress).version
    dataset_create(ctx, metadata)
    try:
        return dataset_add_version(ctx, dataset_name, path, path.name, note, progress).version
    except BaseException:
        dataset_delete(ctx, dataset_name)
        raise


def _check_variables(parsed: ParsedTable, expected: Sequence[str], source_label: str) -> None:
    """A table whose variables changed since the source was set up cannot be appended as a
    version of the same dataset: say what changed instead of storing a different table."""
    if not expected or list(expected) == parsed.dimension_ids:
        return
    missing = [name for name in expected if name not in parsed.dimension_ids]
    added = [name for name in parsed.dimension_ids if name not in expected]
    raise _variables_changed(", ".join(missing), ", ".join(added), ", ".join(expected),
                             source_label)


def _variables_changed(missing: str, added: str, expected: str, source_label: str
                       ) -> InvalidInput:
    """The error saying how a table's variables changed (each change its own sentence)."""
    if missing and added:
        return InvalidInput("the table changed its variables (missing {missing}; new {added}); "
                            "it had {expected}. Check the table and set the source up again",
                            file=source_label, field="variables", missing=missing,
                            added=added, expected=expected)
    if missing:
        return InvalidInput("the table changed its variables (missing {missing}); it had "
                            "{expected}. Check the table and set the source up again",
                            file=source_label, field="variables", missing=missing,
                            expected=expected)
    if added:
        return InvalidInput("the table changed its variables (new {added}); it had {expected}. "
                            "Check the table and set the source up again",
                            file=source_label, field="variables", added=added,
                            expected=expected)
    return InvalidInput("the table changed its variables (the same variables in another "
                        "order); it had {expected}. Check the table and set the source up "
                        "again", file=source_label, field="variables", expected=expected)


def _with_place_ids(ctx: Context, parsed: ParsedTable, country: str
                    ) -> tuple[pa.Table, list[str], dict[str, str]]:
    """The table with a ``place_id`` column after the region codes (NULL where no place has
    that code), the region codes that matched no place, and the codes no longer in use that
    were mapped to their one successor (through the places crosswalk)."""
    if parsed.region_column is None:
        return parsed.table, [], {}
    codes = parsed.table.column(parsed.region_column).to_pylist()
    candidates = {code: place_id_for(country, code) for code in set(codes) if code and country}
    with ctx.db.session() as session:
        places = {place.id: place for place in
                  session.scalars(select(Place).where(Place.id.in_(candidates.values())))}
    current = {code: _current_place_id(ctx, places[place_id])
               for code, place_id in candidates.items() if place_id in places}
    place_ids = [current.get(code) for code in codes]
    position = parsed.table.schema.get_field_index(parsed.region_column) + 1
    table = parsed.table.add_column(position, "place_id", pa.array(place_ids, pa.string()))
    unmapped = sorted({code for code, place_id in zip(codes, place_ids, strict=True)
                       if place_id is None})
    remapped = {code: place_id for code, place_id in current.items()
                if place_id != candidates[code]}
    return table, unmapped, remapped


def _current_place_id(ctx: Context, place: Place) -> str:
    """The place valid today that took over all of ``place`` (itself while it is in use). A
    place split among several keeps its own id: no single successor holds its numbers."""
    if place.valid_to is None or place.valid_to > date.today():
        return place.id
    matches = place_crosswalk(ctx, place.id, date.today())
    if len(matches) == 1 and not matches[0].split:
        return matches[0].place.id
    return place.id


def _content_sha256(table: pa.Table) -> str:
    """A hash of a table's schema and rows in order (its Arrow IPC stream)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _latest_content(ctx: Context, dataset_name: str) -> tuple[bool, str | None]:
    """Whether the dataset exists, and the content hash its latest version was harvested
    with (None for a version uploaded by hand: taken as different)."""
    with ctx.db.session() as session:
        try:
            dataset = dataset_get(session, ctx, dataset_name)
        except NotFound:
            return False, None
        return True, noted_sha256(dataset.versions[-1].note) if dataset.versions else None


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
