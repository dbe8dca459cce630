"""Harvest another CKAN portal: its packages' metadata (and chosen resources) become datasets
here, each keeping the link to where it came from.

Packages are listed with the Action API's ``package_search`` (paged with ``rows``/``start``)
and read with ``package_show``. A package that cannot be imported (bad metadata, a resource
that does not download or parse, a name taken by another organisation) is set aside with its
reason; the others are imported all the same. A re-run changes nothing that did not change."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from bylab.auth.actions import organisation_get
from bylab.catalog.metadata import LICENCES, DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.publish import dataset_create, dataset_update
from bylab.catalog.queries import dataset_get
from bylab.connectors.harvest import noted_sha256, store_version, version_note
from bylab.connectors.pxweb import network_errors
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, NotFound, TooLarge, invalid_input_from

__all__ = ["CkanHarvest", "CkanReport", "harvest_ckan", "harvest_ckan_package"]

PAGE_SIZE = 100
TIMEOUT_S = 60.0
# CKAN licence ids that have a bylab equivalent; any other becomes "notspecified".
CKAN_LICENCES = {"cc-by": "CC-BY-4.0", "cc-by-4.0": "CC-BY-4.0", "cc-zero": "CC0-1.0",
                 "odc-odbl": "ODbL-1.0", "nlod": "NLOD-2.0", "other-open": "other-open"}


@dataclass(frozen=True)
class CkanHarvest:
    """What to take from which portal, and where it goes."""

    portal_url: str  # e.g. https://data.example.org (the Action API is below /api/3/action)
    organisation: str
    name_prefix: str  # a package "trees" becomes dataset "<prefix>-trees"
    visibility: Visibility = Visibility.PRIVATE
    query: str = ""  # package_search q
    filter_query: str = ""  # package_search fq
    resource_formats: tuple[str, ...] = ()  # e.g. ("CSV",): also import the first such resource
    limit: int | None = None  # most packages to take


@dataclass(frozen=True)
class RejectedRecord:
    location: str
    reason: str
    payload: dict[str, Any]


@dataclass
class CkanReport:
    packages_read: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        return (f"{self.packages_read} packages read: {len(self.created)} new, "
                f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.rejected)} rejected")


PackageProgress = Callable[[int, int | None], None]


def harvest_ckan(ctx: Context, harvest: CkanHarvest, progress: PackageProgress | None = None,
                 ) -> CkanReport:
    """Import the packages ``harvest`` selects; see the module's description."""
    report = CkanReport()
    portal = harvest.portal_url.rstrip("/")
    with ctx.db.session() as session:
        organisation_id = organisation_get(session, harvest.organisation).id
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=True) as client:
        names, total = _package_names(client, portal, harvest)
        for name in names:
            report.packages_read += 1
            try:
                outcome = _harvest_package(ctx, client, portal, name, harvest, organisation_id)
                getattr(report, outcome).append(_local_name(harvest, name))
            except BylabError as error:
                report.rejected.append(RejectedRecord(
                    location=f"package {name}", reason=str(error),
                    payload={"package": name, "url": f"{portal}/dataset/{name}"}))
            if progress:
                progress(report.packages_read, total)
    return report


def harvest_ckan_package(ctx: Context, harvest: CkanHarvest, name: str) -> str:
    """Import one package again (a replayed dead letter): "created", "updated" or
    "unchanged"; raises why it still cannot be imported."""
    portal = harvest.portal_url.rstrip("/")
    with ctx.db.session() as session:
        organisation_id = organisation_get(session, harvest.organisation).id
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=True) as client:
        return _harvest_package(ctx, client, portal, name, harvest, organisation_id)


def _harvest_package(ctx: Context, client: httpx.Client, portal: str, name: str,
                     harvest: CkanHarvest, organisation_id: str) -> str:
    package = _action(client, portal, "package_show", {"id": name})
    return _import_package(ctx, client, portal, package, harvest, organisation_id)


def _package_names(client: httpx.Client, portal: str, harvest: CkanHarvest
                   ) -> tuple[Iterator[str], int | None]:
    """The names of the selected packages, page by page, and how many there are."""
    first = _search_page(client, portal, harvest, 0)
    total = int(first.get("count", 0))
    if harvest.limit is not None:
        total = min(total, harvest.limit)

    def names() -> Iterator[str]:
        page, start, given = first, 0, 0
        while True:
            results = page.get("results") or []
            for package in results:
                if given == total:
                    return
                given += 1
                yield str(package["name"])
            start += len(results)
            if not results or start >= total:
                return
            page = _search_page(client, portal, harvest, start)

    return names(), total


def _search_page(client: httpx.Client, portal: str, harvest: CkanHarvest, start: int
                 ) -> dict[str, Any]:
    parameters: dict[str, Any] = {"rows": PAGE_SIZE, "start": start, "sort": "name asc"}
    if harvest.query:
        parameters["q"] = harvest.query
    if harvest.filter_query:
        parameters["fq"] = harvest.filter_query
    result = _action(client, portal, "package_search", parameters)
    if not isinstance(result, dict) or not isinstance(result.get("results"), list):
        raise InvalidInput("package_search answered without 'results'",
                           file=f"{portal}/api/3/action/package_search")
    return result


def _action(client: httpx.Client, portal: str, action: str, parameters: dict[str, Any]) -> Any:
    url = f"{portal}/api/3/action/{action}"
    with network_errors(url, TIMEOUT_S):
        response = client.get(url, params=parameters)
    try:
        body = response.json()
    except ValueError:
        raise InvalidInput("the answer (HTTP {status}) is not JSON", file=url,
                           status=response.status_code) from None
    if not response.is_success or not isinstance(body, dict) or not body.get("success"):
        error = body.get("error") if isinstance(body, dict) else None
        raise InvalidInput("the portal answered HTTP {status}: {error}", file=url,
                           status=response.status_code, error=error)
    return body["result"]


def _local_name(harvest: CkanHarvest, remote_name: str) -> str:
    return f"{harvest.name_prefix}-{remote_name}"[:100]


def _metadata(package: dict[str, Any], portal: str, harvest: CkanHarvest) -> DatasetMetadata:
    remote_name = str(package.get("name") or "")
    link = f"{portal}/dataset/{remote_name}"
    licence = str(package.get("license_id") or "")
    try:
        return DatasetMetadata(
            name=_local_name(harvest, remote_name),
            title={"en": str(package.get("title") or remote_name)},
            description={"en": str(package["notes"])} if package.get("notes") else {},
            organisation=harvest.organisation, visibility=harvest.visibility,
            keywords=[str(tag["name"]) for tag in package.get("tags") or []
                      if isinstance(tag, dict) and tag.get("name")],
            licence_id=licence if licence in LICENCES else CKAN_LICENCES.get(
                licence.casefold(), "notspecified"),
            landing_page=link,
            source_note=f"Harvested from {link} (CKAN package {package.get('id', '')})",
        )
    except ValidationError as error:
        raise invalid_input_from(error, file=link) from None


def _import_package(ctx: Context, client: httpx.Client, portal: str, package: dict[str, Any],
                    harvest: CkanHarvest, organisation_id: str) -> str:
    """Create, update or leave the local dataset; returns which (a CkanReport list name)."""
    metadata = _metadata(package, portal, harvest)
    resource = _chosen_resource(package, harvest.resource_formats)
    with tempfile.TemporaryDirectory(prefix="bylab-ckan-") as folder:
        download = (_download(ctx, client, resource, Path(folder)) if resource else None)
        existing = _existing(ctx, metadata.name, organisation_id)
        if existing is None:
            if download is None:
                dataset_create(ctx, metadata)
            else:
                store_version(ctx, metadata.name, metadata, download.path,
                              version_note(download.url, download.sha256))
            return "created"
        changed = _metadata_changed(existing, metadata)
        if changed:
            dataset_update(ctx, metadata.name, metadata)
        added = _add_resource_version(ctx, metadata.name, download, existing["resource_sha256"])
        return "updated" if changed or added else "unchanged"


def _existing(ctx: Context, name: str, organisation_id: str) -> dict[str, Any] | None:
    """The local dataset's harvested fields, or None when there is none yet."""
    with ctx.db.session() as session:
        try:
            dataset = dataset_get(session, ctx, name)
        except NotFound:
            return None
        if dataset.organisation_id != organisation_id:
            raise InvalidInput("a dataset named '{name}' belongs to another organisation",
                               field="name", name=name)
        notes = [version.note for version in dataset.versions]
        return {"title": dataset.title, "description": dataset.description,
                "keywords": dataset.keywords, "licence_id": dataset.licence_id,
                "landing_page": dataset.landing_page, "source_note": dataset.source_note,
                "visibility": dataset.visibility,
                "resource_sha256": noted_sha256(notes[-1]) if notes else None}


def _metadata_changed(existing: dict[str, Any], metadata: DatasetMetadata) -> bool:
    return any(existing[key] != getattr(metadata, key) for key in
               ("title", "description", "keywords", "licence_id", "landing_page",
                "source_note", "visibility"))


def _chosen_resource(package: dict[str, Any], formats: tuple[str, ...]) -> dict[str, Any] | None:
    wanted = {fmt.casefold() for fmt in formats}
    return next((resource for resource in package.get("resources") or []
                 if str(resource.get("format", "")).casefold() in wanted
                 and resource.get("url")), None)


@dataclass(frozen=True)
class _Download:
    url: str
    path: Path
    sha256: str


def _download(ctx: Context, client: httpx.Client, resource: dict[str, Any], folder: Path
              ) -> _Download:
    url = str(resource["url"])
    filename = (url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "resource")[:200]
    if "." not in filename:
        filename += f".{str(resource.get('format', 'csv')).lower()}"
    path = folder / filename
    digest = hashlib.sha256()
    limit = ctx.settings.max_upload_bytes
    with network_errors(url, TIMEOUT_S):
        with client.stream("GET", url) as response, path.open("wb") as target:
            if not response.is_success:
                raise InvalidInput("the resource answered HTTP {status}", file=url,
                                   status=response.status_code)
            for chunk in response.iter_bytes():
                digest.update(chunk)
                target.write(chunk)
                if target.tell() > limit:
                    raise TooLarge("the resource is larger than {limit:,} bytes", file=url,
                                   limit=limit)
    return _Download(url, path, digest.hexdigest())


def _add_resource_version(ctx: Context, name: str, download: _Download | None,
                          latest_sha256: str | None) -> bool:
    """Store the downloaded resource as the next version unless it is the one stored last."""
    if download is None or download.sha256 == latest_sha256:
        return False
    store_version(ctx, name, None, download.path, version_note(download.url, download.sha256))
    return True
