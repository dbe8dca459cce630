"""The catalogue's HTML pages: search, dataset page, publish, edit, new version and sharing.

Thin: each handler reads the request, calls catalogue actions, and renders a template.
Forms post multipart data (the publish form carries a file); the same handlers serve the
plain HTML form and the small upload-progress script in ``web/static/bylab.js``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from bylab.auth.actions import organisation_get, organisation_list, organisation_show
from bylab.auth.models import Organisation, OrganisationKind
from bylab.catalog import publish
from bylab.catalog.access import can_edit_dataset
from bylab.catalog.export import Preview, version_preview
from bylab.catalog.metadata import DATA_THEMES, FREQUENCIES, LICENCES, DatasetMetadata
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.catalog.queries import (
    DatasetQuery,
    DatasetSort,
    cached_read,
    dataset_get,
    dataset_search,
    dataset_show,
    visibility_key,
)
from bylab.core import Context
from bylab.errors import (
    BylabError,
    Conflict,
    InvalidInput,
    NotAuthorized,
    NotFound,
    invalid_input_from,
)
from bylab.places.models import Place
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import render

router = APIRouter(include_in_schema=False)

RESULTS_PER_PAGE = 20
PREVIEW_ROWS = 50
# Languages a dataset's title and description may be given in (DCAT-AP language tags).
TEXT_LANGUAGES = {"en": "English", "nb": "Norsk bokmål", "nn": "Norsk nynorsk",
                  "sv": "Svenska", "pl": "Polski"}
SORT_LABELS = {
    DatasetSort.MODIFIED_DESC: "Recently updated",
    DatasetSort.MODIFIED_ASC: "Least recently updated",
    DatasetSort.NAME_ASC: "Name (A–Z)",
    DatasetSort.NAME_DESC: "Name (Z–A)",
}
# Plain words for the stored (DuckDB/Parquet) column types.
TYPE_LABELS = {
    "VARCHAR": "text", "BIGINT": "whole number", "INTEGER": "whole number",
    "HUGEINT": "whole number", "DOUBLE": "decimal number", "FLOAT": "decimal number",
    "BOOLEAN": "true/false", "DATE": "date", "TIMESTAMP": "date and time",
    "TIMESTAMP WITH TIME ZONE": "date and time", "TIME": "time of day", "BLOB": "binary",
    "GEOMETRY": "geometry",
}


def download_formats(dataset: Dataset) -> list[str]:
    """The formats a dataset's data can be downloaded in (none before its first version)."""
    if not dataset.latest_version and not dataset.versions:
        return []
    return ["csv", "parquet", "json"] + (["geojson"] if dataset.is_spatial else [])


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


# ---------------------------------------------------------------- the catalogue


def _catalogue_query(request: Request) -> DatasetQuery:
    params = request.query_params
    sort = params.get("sort", DatasetSort.MODIFIED_DESC)
    page = params.get("page", "1")
    if sort not in SORT_LABELS:
        raise InvalidInput("unknown sort order {sort!r}", field="sort", sort=sort)
    if not page.isdigit() or int(page) < 1:
        raise InvalidInput("must be a whole number from 1", field="page")
    return DatasetQuery(
        text=params.get("q", "").strip(),
        organisation=params.get("organisation") or None,
        theme=params.get("theme") or None,
        place_id=params.get("place", "").strip() or None,
        sort=DatasetSort(sort),
        rows=RESULTS_PER_PAGE,
        start=(int(page) - 1) * RESULTS_PER_PAGE,
    )


def _page_link(request: Request, page: int) -> str:
    params = {key: value for key, value in request.query_params.items() if key != "page"}
    return "/datasets?" + urlencode({**params, "page": page})


@router.get("/datasets", response_class=HTMLResponse)
def catalogue_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    query = _catalogue_query(request)
    found = dataset_search(ctx, query)
    page = query.start // RESULTS_PER_PAGE + 1
    last_page = max(1, -(-found.count // RESULTS_PER_PAGE))
    return render(
        request, "catalog/catalogue.html",
        query=query, found=found, page=page, last_page=last_page,
        previous_link=_page_link(request, page - 1) if page > 1 else None,
        next_link=_page_link(request, page + 1) if page < last_page else None,
        organisations=[org for org in organisation_list(ctx)
                       if org.kind != OrganisationKind.NETWORK],
        themes=DATA_THEMES, sort_labels=SORT_LABELS, download_formats=download_formats,
        can_publish=bool(_editable_organisations(ctx)),
    )


# ---------------------------------------------------------------- the dataset page


def _place_names(ctx: Context, place_ids: list[str]) -> dict[str, str]:
    """Names of the given places, by id (unknown ids are left out)."""
    if not place_ids:
        return {}
    with ctx.db.session() as session:
        rows = session.execute(select(Place.id, Place.name).where(Place.id.in_(place_ids)))
        return {place_id: name for place_id, name in rows}


def _chosen_version(dataset: Dataset, requested: str | None) -> DatasetVersion | None:
    if not dataset.versions:
        return None
    if requested is None or requested == "":
        return dataset.versions[-1]
    for version in dataset.versions:
        if str(version.version) == requested:
            return version
    raise NotFound("dataset '{name}' has no version {version}", field="version",
                   name=dataset.name, version=requested)


def _preview(ctx: Context, dataset: Dataset, version: DatasetVersion | None,
             start: int) -> Preview | None:
    if version is None:
        return None
    return version_preview(ctx, dataset, version, PREVIEW_ROWS, start)


def _preview_start(request: Request) -> int:
    raw = request.query_params.get("rows_from", "0")
    if not raw.isdigit():
        raise InvalidInput("must be a whole number", field="rows_from")
    return int(raw)


def _version_query(version: DatasetVersion | None, dataset: Dataset) -> str:
    """``?version=N`` for an older version, nothing for the latest."""
    if version is None or version is dataset.versions[-1]:
        return ""
    return f"?version={version.version}"


@router.get("/datasets/new", response_class=HTMLResponse)
def publish_page(request: Request, ctx: ContextDep) -> Response:
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    return _render_publish_form(request, ctx, DatasetForm(visibility=Visibility.PRIVATE))


@dataclass(frozen=True)
class DatasetPageData:
    """What a dataset page shows the same way to everyone who may see the dataset. Kept by
    the catalogue read cache, so treated as read-only; whatever depends on the reader (edit
    buttons, sharing, the CSRF token) is worked out per request."""

    dataset: Dataset
    publisher: Organisation


def _page_data(ctx: Context, name: str) -> DatasetPageData:
    def load() -> DatasetPageData:
        with ctx.db.session() as session:
            dataset = dataset_get(session, ctx, name)
            return DatasetPageData(dataset, organisation_get(session, dataset.organisation_id))

    return cached_read(ctx, "dataset_page", (visibility_key(ctx.actor), name), load)


@router.get("/datasets/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    page_data = _page_data(ctx, name)
    dataset = page_data.dataset
    version = _chosen_version(dataset, request.query_params.get("version"))
    can_edit = can_edit_dataset(ctx.actor, dataset)
    return render(
        request, "catalog/dataset.html",
        dataset=dataset, version=version,
        version_query=_version_query(version, dataset),
        preview=_preview(ctx, dataset, version, _preview_start(request)),
        preview_rows=PREVIEW_ROWS,
        publisher=page_data.publisher,
        place_names=_place_names(ctx, dataset.spatial),
        shared_with=publish.dataset_shared_with(ctx, dataset) if can_edit else [],
        can_edit=can_edit, themes=DATA_THEMES, licences=LICENCES, type_labels=TYPE_LABELS, formats=download_formats(dataset),
    )


# ---------------------------------------------------------------- forms


@dataclass
class DatasetForm:
    """What a person typed into the dataset form, kept as text so it can be shown again
    after an error. ``to_metadata`` validates it."""

    name: str = ""
    organisation: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    visibility: str = Visibility.PRIVATE
    shared_with: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    keywords: str = ""
    licence_id: str = "CC-BY-4.0"
    places: str = ""
    temporal_start: str = ""
    temporal_end: str = ""
    frequency: str = ""
    contact_name: str = ""
    contact_email: str = ""
    landing_page: str = ""
    source_note: str = ""

    @classmethod
    def from_form(cls, form: FormData) -> DatasetForm:
        texts = {item.name for item in fields(cls)} - {"titles", "descriptions", "shared_with",
                                                         "themes"}
        values: dict[str, Any] = {
            name: str(form.get(name, "")).strip() for name in texts if name in form
        }
        values["titles"] = {lang: str(form.get(f"title_{lang}", "")).strip()
                            for lang in TEXT_LANGUAGES}
        values["descriptions"] = {lang: str(form.get(f"description_{lang}", "")).strip()
                                  for lang in TEXT_LANGUAGES}
        values["themes"] = [str(theme) for theme in form.getlist("themes")]
        values["shared_with"] = [str(org) for org in form.getlist("shared_with")]
        return cls(**values)

    @classmethod
    def from_dataset(cls, dataset: Dataset, organisation: str, shared_with: list[str]) -> DatasetForm:
        return cls(
            name=dataset.name, organisation=organisation,
            titles=dict(dataset.title), descriptions=dict(dataset.description),
            visibility=dataset.visibility, shared_with=shared_with, themes=list(dataset.themes),
            keywords=", ".join(dataset.keywords), licence_id=dataset.licence_id,
            places=", ".join(dataset.spatial),
            temporal_start=str(dataset.temporal_start or ""),
            temporal_end=str(dataset.temporal_end or ""),
            frequency=dataset.frequency or "", contact_name=dataset.contact_name,
            contact_email=dataset.contact_email, landing_page=dataset.landing_page or "",
            source_note=dataset.source_note,
        )

    def to_metadata(self) -> DatasetMetadata:
        shared = self.visibility == Visibility.SHARED
        try:
            return DatasetMetadata(
                name=self.name, organisation=self.organisation,
                title={lang: text for lang, text in self.titles.items() if text},
                description={lang: text for lang, text in self.descriptions.items() if text},
                visibility=self.visibility or Visibility.PRIVATE,
                shared_with=self.shared_with if shared else [],
                themes=self.themes, keywords=_split_list(self.keywords),
                licence_id=self.licence_id, spatial=_split_list(self.places),
                temporal_start=self.temporal_start or None,
                temporal_end=self.temporal_end or None,
                frequency=self.frequency or None, contact_name=self.contact_name,
                contact_email=self.contact_email or None,
                landing_page=self.landing_page or None, source_note=self.source_note,
            )
        except ValidationError as error:
            raise _invalid_input(error) from None


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _invalid_input(error: ValidationError) -> InvalidInput:
    """``invalid_input_from``, naming the form field (the first part of pydantic's location)."""
    problem = invalid_input_from(error)
    location = error.errors()[0]["loc"]
    problem.field = str(location[0]) if location else None
    return problem


def _editable_organisations(ctx: Context) -> list[Organisation]:
    if ctx.actor.is_anonymous:
        return []
    return [org for org in organisation_list(ctx)
            if org.kind != OrganisationKind.NETWORK and ctx.actor.can_edit(org.id)]


def _form_choices(ctx: Context) -> dict[str, Any]:
    return {
        "text_languages": TEXT_LANGUAGES, "themes": DATA_THEMES, "licences": LICENCES,
        "frequencies": sorted(FREQUENCIES),
        "share_targets": sorted(organisation_list(ctx),
                                key=lambda org: (org.kind != OrganisationKind.NETWORK, org.title)),
    }


def _render_publish_form(
    request: Request, ctx: Context, form: DatasetForm, error: BylabError | None = None
) -> HTMLResponse:
    organisations = _editable_organisations(ctx)
    if not organisations:
        raise NotAuthorized("you need the editor role in an organisation to publish data")
    if not form.organisation:
        form.organisation = organisations[0].name
    return render(
        request, "catalog/publish.html", status_code=error.status_code if error else 200,
        form=form, error=error, organisations=organisations, **_form_choices(ctx),
    )


@contextmanager
def saved_upload(upload: UploadFile, folder: Path) -> Iterator[Path]:
    """The uploaded file copied to a real file in ``folder`` (the ingest reads a path),
    removed afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "".join(Path(upload.filename or "").suffixes[-2:])
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as copy:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, copy, length=1024 * 1024)
    try:
        yield Path(copy.name)
    finally:
        Path(copy.name).unlink(missing_ok=True)


def _uploaded_file(form: FormData) -> UploadFile:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose a file to upload (CSV, Excel, GeoJSON or Parquet)",
                           field="file")
    return upload


def _publish(ctx: Context, form: DatasetForm, upload: UploadFile) -> Dataset:
    metadata = form.to_metadata()
    with saved_upload(upload, ctx.settings.uploads_dir) as path:
        return publish.dataset_publish(ctx, metadata, path, filename=upload.filename)


@router.post("/datasets/new", response_class=HTMLResponse)
async def publish_submit(request: Request, ctx: ContextDep) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    form = DatasetForm.from_form(form_data)
    try:
        dataset = await run_in_threadpool(_publish, ctx, form, _uploaded_file(form_data))
    except (InvalidInput, NotAuthorized, NotFound, Conflict) as error:
        return _render_publish_form(request, ctx, form, error)
    finally:
        await form_data.close()
    return RedirectResponse(f"/datasets/{dataset.name}", status_code=303)


def _editable(request: Request, ctx: Context, name: str) -> Dataset | RedirectResponse:
    """The dataset if the actor may change it; a login redirect for anonymous visitors
    (only after the dataset is known to be visible, so nothing private leaks)."""
    dataset = dataset_show(ctx, name)
    if can_edit_dataset(ctx.actor, dataset):
        return dataset
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    raise NotAuthorized("you need the editor role in the publishing organisation")


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), message]


def _render_edit_form(
    request: Request, ctx: Context, dataset: Dataset, form: DatasetForm,
    error: BylabError | None = None,
) -> HTMLResponse:
    return render(
        request, "catalog/edit.html", status_code=error.status_code if error else 200,
        dataset=dataset, form=form, error=error, **_form_choices(ctx),
    )


def _form_of(ctx: Context, dataset: Dataset) -> DatasetForm:
    shared_with = [org.name for org in publish.dataset_shared_with(ctx, dataset)]
    organisation = organisation_show(ctx, dataset.organisation_id).name
    return DatasetForm.from_dataset(dataset, organisation, shared_with)


@router.get("/datasets/{name}/edit", response_class=HTMLResponse)
def edit_page(request: Request, ctx: ContextDep, name: str) -> Response:
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    return _render_edit_form(request, ctx, dataset, _form_of(ctx, dataset))


@router.post("/datasets/{name}/edit", response_class=HTMLResponse)
async def edit_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    form = DatasetForm.from_form(form_data)
    form.name = dataset.name
    form.organisation = dataset.organisation_id
    try:
        await run_in_threadpool(publish.dataset_update, ctx, dataset.name, form.to_metadata())
    except (InvalidInput, NotFound, Conflict) as error:
        return _render_edit_form(request, ctx, dataset, form, error)
    _flash(request, "metadata saved")
    return RedirectResponse(f"/datasets/{dataset.name}", status_code=303)


@router.get("/datasets/{name}/versions/new", response_class=HTMLResponse)
def version_page(request: Request, ctx: ContextDep, name: str) -> Response:
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    return render(request, "catalog/version_new.html", dataset=dataset, note="", error=None)


def _add_version(ctx: Context, dataset: Dataset, upload: UploadFile, note: str) -> None:
    with saved_upload(upload, ctx.settings.uploads_dir) as path:
        publish.dataset_add_version(ctx, dataset.name, path, filename=upload.filename, note=note)


@router.post("/datasets/{name}/versions/new", response_class=HTMLResponse)
async def version_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    note = str(form_data.get("note", "")).strip()
    try:
        await run_in_threadpool(_add_version, ctx, dataset, _uploaded_file(form_data), note)
    except (InvalidInput, Conflict) as error:
        return render(request, "catalog/version_new.html", status_code=error.status_code,
                      dataset=dataset, note=note, error=error)
    finally:
        await form_data.close()
    _flash(request, "new version stored")
    return RedirectResponse(f"/datasets/{dataset.name}", status_code=303)


def _render_sharing(
    request: Request, ctx: Context, dataset: Dataset, visibility: str, shared_with: list[str],
    error: BylabError | None = None,
) -> HTMLResponse:
    return render(
        request, "catalog/sharing.html", status_code=error.status_code if error else 200,
        dataset=dataset, visibility=visibility, shared_with=shared_with, error=error,
        share_targets=[org for org in _form_choices(ctx)["share_targets"]
                       if org.id != dataset.organisation_id],
        publisher=organisation_show(ctx, dataset.organisation_id),
    )


@router.get("/datasets/{name}/sharing", response_class=HTMLResponse)
def sharing_page(request: Request, ctx: ContextDep, name: str) -> Response:
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    shared_with = [org.name for org in publish.dataset_shared_with(ctx, dataset)]
    return _render_sharing(request, ctx, dataset, dataset.visibility, shared_with)


@router.post("/datasets/{name}/sharing", response_class=HTMLResponse)
async def sharing_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    dataset = _editable(request, ctx, name)
    if isinstance(dataset, Response):
        return dataset
    visibility = str(form_data.get("visibility", ""))
    shared_with = [str(org) for org in form_data.getlist("shared_with")]
    try:
        if visibility not in set(Visibility):
            raise InvalidInput("choose public, shared or private", field="visibility")
        if visibility == Visibility.SHARED and not shared_with:
            raise InvalidInput("choose at least one organisation or network to share with",
                               field="shared_with")
        kept = shared_with if visibility == Visibility.SHARED else []
        publish.dataset_share_set(ctx, dataset.name, Visibility(visibility), kept)
    except InvalidInput as error:
        return _render_sharing(request, ctx, dataset, visibility, shared_with, error)
    _flash(request, "sharing saved")
    return RedirectResponse(f"/datasets/{dataset.name}", status_code=303)
