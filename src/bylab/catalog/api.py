"""REST API of the catalogue under /api/datasets: search, show, publish, versions, preview,
download, sharing and delete. A thin layer: every route calls one action."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bylab.auth.actions import organisation_get
from bylab.catalog import export, publish, queries
from bylab.catalog.ingest.uploads import FILE_FIELD, ReceivedForm, receive_form
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, TooLarge, invalid_input_from
from bylab.web.security import ContextDep, check_csrf

router = APIRouter(prefix="/api/datasets", tags=["datasets"])
# Multipart overhead allowed above the file-size limit before Content-Length alone refuses.
FORM_OVERHEAD_BYTES = 1024 * 1024


class VersionOut(BaseModel):
    version: int
    created: datetime
    source_filename: str
    source_format: str
    row_count: int
    byte_size: int = Field(description="Size of the stored Parquet file")
    sha256: str = Field(description="SHA-256 of the stored Parquet file")
    columns: list[dict[str, Any]] = Field(
        description="name, type, nullable, examples; 'warning' when a column was stored as "
        "text because it mixed numbers and text")
    note: str

    @classmethod
    def of(cls, version: DatasetVersion) -> VersionOut:
        return cls.model_validate(version, from_attributes=True)


class DatasetOut(BaseModel):
    id: str
    name: str
    title: dict[str, str]
    description: dict[str, str]
    organisation: str
    organisation_title: str
    visibility: Visibility
    shared_with: list[str] | None = Field(
        default=None, description="Organisations and networks (only in single-dataset answers)")
    themes: list[str]
    keywords: list[str]
    licence_id: str
    spatial: list[str]
    temporal_start: date | None
    temporal_end: date | None
    frequency: str | None
    contact_name: str
    contact_email: str
    landing_page: str | None
    source_note: str
    created: datetime
    modified: datetime
    latest_version: int
    is_spatial: bool
    latest: VersionOut | None = None


class DatasetListOut(BaseModel):
    total: int
    items: list[DatasetOut]


class PreviewOut(BaseModel):
    dataset: str
    version: int
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    total_rows: int
    limit: int
    offset: int


class SharingIn(BaseModel):
    visibility: Visibility
    shared_with: list[str] = Field(default_factory=list)


def _dataset_out(dataset: Dataset, organisation_name: str, organisation_title: str,
                 shared_with: list[str] | None = None) -> DatasetOut:
    values = {name: getattr(dataset, name) for name in DatasetOut.model_fields
              if name not in {"organisation", "organisation_title", "shared_with", "latest"}}
    latest = VersionOut.of(dataset.versions[-1]) if dataset.versions else None
    return DatasetOut(**values, organisation=organisation_name,
                      organisation_title=organisation_title, shared_with=shared_with,
                      latest=latest)


def _dataset_detail(ctx: Context, dataset: Dataset) -> DatasetOut:
    with ctx.db.session() as session:
        organisation = organisation_get(session, dataset.organisation_id)
    shared = [org.name for org in publish.dataset_shared_with(ctx, dataset)]
    return _dataset_out(dataset, organisation.name, organisation.title, shared)


@router.get("", response_model=DatasetListOut, summary="Search datasets")
def dataset_list(
    ctx: ContextDep,
    q: str = "",
    organisation: str | None = None,
    theme: str | None = None,
    place: Annotated[str | None, Query(description="Place id, e.g. NO-1506")] = None,
    sort: queries.DatasetSort = queries.DatasetSort.MODIFIED_DESC,
    limit: Annotated[int, Query(ge=0, le=queries.MAX_ROWS)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DatasetListOut:
    """Datasets you may see that match every word of ``q`` and every filter."""
    page = queries.dataset_search(ctx, queries.DatasetQuery(
        text=q, organisation=organisation, theme=theme, place_id=place, sort=sort,
        rows=limit, start=offset))
    items = []
    for dataset in page.datasets:
        owner = page.organisations.get(dataset.organisation_id)
        items.append(_dataset_out(dataset, owner.name if owner else "",
                                  owner.title if owner else ""))
    return DatasetListOut(total=page.count, items=items)


@router.get("/{name}", response_model=DatasetOut, summary="Show a dataset")
def dataset_show(ctx: ContextDep, name: str) -> DatasetOut:
    return _dataset_detail(ctx, queries.dataset_show(ctx, name))


_PUBLISH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["metadata", "file"],
                "properties": {
                    "metadata": {"type": "string",
                                 "description": "DatasetMetadata as a JSON string"},
                    "file": {"type": "string", "format": "binary",
                             "description": "CSV/TSV/TXT (optionally .gz), .xlsx, GeoJSON "
                                            "or Parquet"},
                    "sheet": {"type": "string", "description": "Excel sheet (default first)"},
                }}},
            "application/json": {"schema": {"$ref": "#/components/schemas/DatasetMetadata"}},
        },
    }
}


@router.post("", response_model=DatasetOut, status_code=201, summary="Publish a dataset",
             openapi_extra=_PUBLISH_BODY)
async def dataset_create(request: Request, ctx: ContextDep) -> DatasetOut:
    """Create a dataset. Multipart (``metadata`` JSON + ``file``) stores the file as version
    1, all or nothing; a JSON body creates the record without data."""
    check_csrf(request, None)
    _require_login(ctx)
    if not request.headers.get("content-type", "").startswith("multipart/"):
        metadata = _metadata_from_json(await request.body())
        dataset = await run_in_threadpool(publish.dataset_create, ctx, metadata)
        return await run_in_threadpool(_dataset_detail, ctx, dataset)
    form = await _received_upload(request, ctx)
    try:
        metadata = _metadata_from_json(form.fields.get("metadata", "").encode())
        assert form.file_path is not None
        dataset = await run_in_threadpool(
            publish.dataset_publish, ctx, metadata, form.file_path, form.filename, None,
            form.fields.get("sheet") or None)
    finally:
        form.discard()
    return await run_in_threadpool(_dataset_detail, ctx, dataset)


@router.put("/{name}", response_model=DatasetOut, summary="Replace a dataset's metadata")
def dataset_update(request: Request, ctx: ContextDep, name: str,
                   metadata: DatasetMetadata) -> DatasetOut:
    """Replace the metadata (the name and publisher stay)."""
    check_csrf(request, None)
    return _dataset_detail(ctx, publish.dataset_update(ctx, name, metadata))


_VERSION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "note": {"type": "string", "description": "What changed"},
                "sheet": {"type": "string", "description": "Excel sheet (default first)"},
            }}}},
    }
}


@router.post("/{name}/versions", response_model=VersionOut, status_code=201,
             summary="Add a version", openapi_extra=_VERSION_BODY)
async def version_add(request: Request, ctx: ContextDep, name: str) -> VersionOut:
    """Store a new version of the dataset's data; earlier versions stay downloadable."""
    check_csrf(request, None)
    _require_login(ctx)
    form = await _received_upload(request, ctx)
    try:
        assert form.file_path is not None
        version = await run_in_threadpool(
            publish.dataset_add_version, ctx, name, form.file_path, form.filename,
            form.fields.get("note", ""), None, form.fields.get("sheet") or None)
    finally:
        form.discard()
    return VersionOut.of(version)


@router.get("/{name}/versions", response_model=list[VersionOut], summary="List versions")
def version_list(ctx: ContextDep, name: str) -> list[VersionOut]:
    return [VersionOut.of(version) for version in queries.dataset_show(ctx, name).versions]


@router.get("/{name}/preview", response_model=PreviewOut, summary="Preview rows")
def dataset_preview(
    ctx: ContextDep,
    name: str,
    limit: Annotated[int, Query(ge=0, le=export.MAX_PREVIEW_ROWS)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    version: int | None = None,
) -> PreviewOut:
    preview = export.dataset_preview(ctx, name, version, limit, offset)
    return PreviewOut(dataset=preview.dataset_name, version=preview.version,
                      columns=preview.columns, rows=preview.rows,
                      total_rows=preview.total_rows, limit=preview.limit, offset=preview.offset)


@router.get("/{name}/download.{fmt}", summary="Download the data",
            response_class=FileResponse,
            responses={200: {"description": "The table as csv, parquet, json (array of "
                                            "records) or geojson (spatial datasets)"}})
def dataset_download(ctx: ContextDep, name: str, fmt: str,
                     version: int | None = None) -> FileResponse:
    exported = export.dataset_export(ctx, name, fmt, version)
    return FileResponse(exported.path, media_type=exported.media_type,
                        filename=exported.download_name)


@router.put("/{name}/sharing", response_model=DatasetOut, summary="Set who may see it")
def dataset_sharing(request: Request, ctx: ContextDep, name: str,
                    sharing: SharingIn) -> DatasetOut:
    check_csrf(request, None)
    dataset = publish.dataset_share_set(ctx, name, sharing.visibility, sharing.shared_with)
    return _dataset_detail(ctx, queries.dataset_show(ctx, dataset.id))


@router.delete("/{name}", status_code=204, response_class=Response,
               summary="Delete a dataset and all its versions")
def dataset_delete(request: Request, ctx: ContextDep, name: str) -> Response:
    check_csrf(request, None)
    publish.dataset_delete(ctx, name)
    return Response(status_code=204)


def _require_login(ctx: Context) -> None:
    # Refuse before reading a large body that could never be stored.
    if ctx.actor.is_anonymous:
        raise NotAuthorized("log in or send an API token to publish")


async def _received_upload(request: Request, ctx: Context) -> ReceivedForm:
    limit = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise TooLarge("the upload is {size:,} bytes; the limit is {limit:,}",
                       field=FILE_FIELD, size=int(declared), limit=limit)
    form = await receive_form(request.stream(), request.headers.get("content-type", ""),
                              ctx.settings.uploads_dir, limit)
    if form.file_path is None:
        raise InvalidInput("the form has no 'file' part", field=FILE_FIELD)
    return form


def _metadata_from_json(body: bytes) -> DatasetMetadata:
    if not body.strip():
        raise InvalidInput("send the dataset's metadata as JSON", field="metadata")
    try:
        return DatasetMetadata.model_validate(json.loads(body))
    except json.JSONDecodeError as error:
        raise InvalidInput("not valid JSON: {problem}", field="metadata",
                           problem=error.msg) from None
    except ValidationError as error:
        raise invalid_input_from(error) from None
