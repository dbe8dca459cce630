"""A read-only subset of CKAN's Action API at ``/api/3/action/{name}`` (and ``/api/action/``),
so CKAN clients (ckanapi, harvesters, portals) can read the catalogue.

Each action maps onto the catalogue's own read actions (``dataset_search``, ``dataset_show``)
and returns CKAN-shaped dicts in CKAN's envelope; errors come back as CKAN's typed errors
with its status codes. Private datasets appear only for an actor allowed to see them, and in
``package_search`` only with ``include_private=true``, as in CKAN. ``package_search`` and
``package_show`` keep their serialised results per process until the next catalogue write
(``queries.cached_read``), per set of datasets the reader may see."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from bylab import __version__
from bylab.auth.actions import organisation_get
from bylab.auth.actor import Actor
from bylab.auth.models import Organisation, OrganisationKind
from bylab.catalog.access import visibility_clause
from bylab.catalog.dcat import (
    DOWNLOAD_FORMATS,
    Distribution,
    as_utc,
    base_url_of,
    dataset_distributions,
    distribution_id,
)
from bylab.catalog.metadata import DATA_THEMES, LICENCES
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.catalog.queries import (
    MAX_ROWS,
    DatasetFacet,
    DatasetQuery,
    DatasetSort,
    cached_read,
    dataset_facets,
    dataset_get,
    dataset_search,
    dataset_show,
    visibility_key,
)
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, NotFound
from bylab.web.security import context_of

CKAN_API_VERSION = "2.10.0"  # the CKAN release whose Action API this subset follows
CKAN_STATUS = {"Validation Error": 409, "Not Found Error": 404, "Authorization Error": 403}
EU_THEME_IRI = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY_IRI = "http://publications.europa.eu/resource/authority/frequency/"


@dataclass(frozen=True)
class CkanCall:
    """One action call: who asks, the parameters as CKAN received them, and this site's URL."""

    ctx: Context
    params: dict[str, Any]
    base_url: str

    def text(self, key: str, default: str = "") -> str:
        value = self.params.get(key, default)
        return default if value is None else str(value)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        raw = self.params.get(key, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput("Invalid integer", field=key) from None
        if value < minimum:
            raise InvalidInput("Must be at least {minimum}", field=key, minimum=minimum)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        raw = self.params.get(key, default)
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"true", "1", "yes", "on"}

    def names(self, key: str) -> list[str]:
        """A list parameter: a JSON list, a JSON-encoded list string, or one string."""
        raw = self.params.get(key)
        if raw is None or raw == "":
            return []
        if isinstance(raw, str) and raw.startswith("["):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise InvalidInput("Invalid JSON list", field=key) from None
        return [str(item) for item in (raw if isinstance(raw, list) else [raw])]


@dataclass(frozen=True)
class JsonText:
    """An action's result already serialised as JSON (kept by the read cache, so a repeated
    read skips building and serialising the dicts); sent as it is."""

    text: str


def json_text(body: object) -> JsonText:
    return JsonText(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


def _weight(result: JsonText) -> int:
    return len(result.text)


Action = Callable[[CkanCall], Any]
ACTIONS: dict[str, Action] = {}


def ckan_action(function: Action) -> Action:
    ACTIONS[function.__name__] = function
    return function


# ---------------------------------------------------------------- CKAN-shaped dicts


def ckan_time(moment: datetime) -> str:
    """CKAN's timestamps: ISO 8601 in UTC without a zone suffix."""
    return as_utc(moment).replace(tzinfo=None).isoformat()


def first_text(texts: dict[str, str]) -> str:
    """The English text, else the first one given."""
    if texts.get("en", "").strip():
        return texts["en"]
    return next((text for text in texts.values() if text.strip()), "")


def organization_dict(organisation: Organisation, package_count: int | None = None
                      ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": organisation.id, "name": organisation.name, "title": organisation.title,
        "display_name": organisation.title, "description": organisation.description,
        "type": "organization", "is_organization": True, "state": "active",
        "approval_status": "approved", "image_url": "", "image_display_url": "",
        "created": ckan_time(organisation.created),
    }
    if package_count is not None:
        body["package_count"] = package_count
    return body


def group_dict(theme: str, package_count: int | None = None) -> dict[str, Any]:
    """An EU data theme as a CKAN group (named by its lowercased code)."""
    body: dict[str, Any] = {
        "id": theme.lower(), "name": theme.lower(), "title": DATA_THEMES[theme],
        "display_name": DATA_THEMES[theme], "description": f"{EU_THEME_IRI}{theme}",
        "type": "group", "is_organization": False, "state": "active",
        "approval_status": "approved", "image_url": "", "image_display_url": "",
    }
    if package_count is not None:
        body["package_count"] = package_count
    return body


def resource_dict(distribution: Distribution, base_url: str) -> dict[str, Any]:
    fmt, version = distribution.format, distribution.version
    created = ckan_time(version.created)
    return {
        "id": distribution.id, "package_id": distribution.dataset.id,
        "url": distribution.download_url(base_url), "url_type": None,
        "name": f"{first_text(distribution.dataset.title)} ({fmt.label})",
        "description": f"Version {version.version} as {fmt.label}",
        "format": fmt.label, "mimetype": fmt.media_type, "position": distribution.position,
        "created": created, "last_modified": created, "metadata_modified": created,
        "size": distribution.byte_size,
        "state": "active", "datastore_active": False, "hash": "",
    }


def _extras(dataset: Dataset, base_url: str) -> list[dict[str, str]]:
    values: dict[str, str | None] = {
        "theme": json.dumps([f"{EU_THEME_IRI}{theme}" for theme in dataset.themes])
        if dataset.themes else None,
        "spatial_uri": json.dumps([f"{base_url}/places/{place}" for place in dataset.spatial])
        if dataset.spatial else None,
        "places": ",".join(dataset.spatial) or None,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else None,
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else None,
        "frequency": f"{EU_FREQUENCY_IRI}{dataset.frequency}" if dataset.frequency else None,
        "title_translated": json.dumps(dataset.title, ensure_ascii=False),
        "notes_translated": json.dumps(dataset.description, ensure_ascii=False)
        if dataset.description else None,
        "visibility": dataset.visibility,
        "source_note": dataset.source_note or None,
    }
    return [{"key": key, "value": value} for key, value in values.items() if value is not None]


def package_dict(dataset: Dataset, organisation: Organisation, base_url: str,
                 organisation_body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dataset in CKAN's package shape, its downloads as resources (``organisation_body``:
    the organisation's dict, when already made for another package)."""
    resources = [resource_dict(item, base_url) for item in dataset_distributions(dataset)]
    tags = [{"name": keyword, "display_name": keyword, "state": "active", "vocabulary_id": None}
            for keyword in dataset.keywords]
    return {
        "id": dataset.id, "name": dataset.name, "title": first_text(dataset.title),
        "notes": first_text(dataset.description), "type": "dataset", "state": "active",
        "owner_org": organisation.id,
        "organization": organisation_body or organization_dict(organisation),
        "private": dataset.visibility != Visibility.PUBLIC,
        "metadata_created": ckan_time(dataset.created),
        "metadata_modified": ckan_time(dataset.modified),
        "author": organisation.title, "author_email": organisation.email,
        "maintainer": dataset.contact_name or None,
        "maintainer_email": dataset.contact_email or None,
        "license_id": dataset.licence_id, "license_title": dataset.licence_id,
        "license_url": LICENCES.get(dataset.licence_id) or None,
        "isopen": dataset.licence_id != "proprietary",
        "url": dataset.landing_page or f"{base_url}/datasets/{dataset.name}",
        "version": str(dataset.latest_version) if dataset.versions else None,
        "tags": tags, "num_tags": len(tags),
        "groups": [group_dict(theme) for theme in dataset.themes if theme in DATA_THEMES],
        "extras": _extras(dataset, base_url),
        "resources": resources, "num_resources": len(resources),
        "relationships_as_object": [], "relationships_as_subject": [],
    }


# ---------------------------------------------------------------- package_search

FQ_TERM = re.compile(r'\+?(?P<field>[\w.]+):(?P<value>\[[^\]]*\]|"[^"]*"|\S+)|(?P<word>\S+)')
RANGE = re.compile(r"\[\s*(?P<start>\S+)\s+TO\s+(?P<end>\S+)\s*\]")
CKAN_FACETS = {
    "organization": DatasetFacet.ORGANISATION, "tags": DatasetFacet.KEYWORD,
    "res_format": DatasetFacet.FORMAT, "groups": DatasetFacet.THEME,
    "license_id": DatasetFacet.LICENCE,
}
FORMAT_LABELS = {fmt.extension: fmt.label for fmt in DOWNLOAD_FORMATS}


def _solr_time(text: str, field: str) -> datetime | None:
    if text == "*":
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("Invalid date {text!r} in range", field=field, text=text) from None


def _with_words(query: DatasetQuery, words: str) -> DatasetQuery:
    return replace(query, text=f"{query.text} {words}".strip())


def _single(current: str | None, value: str, field: str, source: str) -> str:
    if current not in (None, value):
        raise InvalidInput("one {field_name}: filter at a time", field=source, field_name=field)
    return value


def _apply_term(query: DatasetQuery, field: str, value: str, source: str) -> DatasetQuery:
    value = value.strip('"')
    if field in {"organization", "owner_org"}:
        return replace(query, organisation=_single(query.organisation, value, field, source))
    if field == "metadata_modified":
        bounds = RANGE.fullmatch(value)
        if not bounds:
            raise InvalidInput("metadata_modified needs a range [FROM TO UNTIL]", field=source)
        return replace(query, modified_from=_solr_time(bounds["start"], source),
                       modified_to=_solr_time(bounds["end"], source))
    if field == "tags":
        return replace(query, keywords=(*query.keywords, value))
    if field == "res_format":
        return replace(query, formats=(*query.formats, value.lower()))
    if field == "groups":
        return replace(query, theme=_single(query.theme, value.upper(), field, source))
    if field == "name":
        return replace(query, name=_single(query.name, value, field, source))
    if field == "license_id":
        return replace(query, licence_id=_single(query.licence_id, value, field, source))
    if field in {"text", "title", "notes"} and source == "q":
        return _with_words(query, value)
    raise InvalidInput("cannot filter on field {field_name!r}", field=source, field_name=field)


def parse_filters(q: str, fq: str, base: DatasetQuery) -> DatasetQuery:
    """CKAN's q and fq (Solr syntax, the subset CKAN clients send) as a query. Tags, formats,
    groups, names and licences match exactly (case counts for tags, as in CKAN's Solr)."""
    query = base
    for source, text in (("q", q), ("fq", fq)):
        for match in FQ_TERM.finditer(text):
            word = match["word"]
            if word is None:
                query = _apply_term(query, match["field"], match["value"], source)
            elif word in {"AND", "&&", "*:*", "*"}:
                continue
            elif word in {"OR", "NOT", "||"} or word.startswith("-"):
                raise InvalidInput("'{word}' is not supported; terms are combined with AND",
                                   field=source, word=word)
            elif source == "q":
                query = _with_words(query, word)
            else:
                raise InvalidInput("expected field:value, got {word!r}", field=source, word=word)
    return query


def parse_sort(sort: str) -> DatasetSort:
    """CKAN sort strings; relevance (``score``) is not ranked, so it falls through."""
    for clause in (part.strip() for part in sort.split(",")):
        if not clause or clause.startswith("score"):
            continue
        field, _, direction = clause.partition(" ")
        try:
            return DatasetSort(f"{field} {direction.strip() or 'asc'}")
        except ValueError:
            choices = [item.value for item in DatasetSort]
            raise InvalidInput("cannot sort by {clause!r}; use one of {choices}", field="sort",
                               clause=clause, choices=choices) from None
    return DatasetSort.MODIFIED_DESC


def _facet_labels(ctx: Context, field: str, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """CKAN's names for one facet's values, and their display names."""
    if field == "groups":
        return [name.lower() for name in names], {}
    if field == "res_format":
        labels = [FORMAT_LABELS[name] for name in names]
        return labels, {}
    if field != "organization" or not names:
        return names, {}
    with ctx.db.session() as session:
        titles = dict(session.execute(select(Organisation.name, Organisation.title)
                                      .where(Organisation.name.in_(names))).all())
    return names, titles


def _facets(ctx: Context, query: DatasetQuery, fields: list[str], limit: int
            ) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    counted = dataset_facets(ctx, query, [CKAN_FACETS[field] for field in fields],
                             None if limit < 0 else limit)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in fields:
        top = counted[CKAN_FACETS[field]]
        names, titles = _facet_labels(ctx, field, [name for name, _count in top])
        facets[field] = {name: count for name, (_value, count) in zip(names, top, strict=True)}
        search_facets[field] = {"title": field, "items": [
            {"name": name, "display_name": titles.get(name, name), "count": count}
            for name, (_value, count) in zip(names, top, strict=True)]}
    return facets, search_facets


@dataclass(frozen=True)
class SearchRequest:
    """A package_search call, normalised: equal requests give equal results for actors
    of equal ``visibility_key``."""

    query: DatasetQuery
    facet_fields: tuple[str, ...]
    facet_limit: int
    include_private: bool


def _search_request(call: CkanCall) -> SearchRequest:
    rows = call.integer("rows", 10)
    if rows > MAX_ROWS:
        raise InvalidInput("Must be less than or equal to {limit}", field="rows", limit=MAX_ROWS)
    sort = parse_sort(call.text("sort", "score desc, metadata_modified desc"))
    query = parse_filters(call.text("q"), call.text("fq"),
                          DatasetQuery(sort=sort, rows=rows, start=call.integer("start", 0)))
    facet_fields = call.names("facet.field")
    unknown = [field for field in facet_fields if field not in CKAN_FACETS]
    if unknown:
        raise InvalidInput("cannot facet on {unknown}; use {facets}",
                           field="facet.field", unknown=unknown, facets=list(CKAN_FACETS))
    return SearchRequest(query, tuple(facet_fields), call.integer("facet.limit", 50, -1),
                         call.flag("include_private"))


def _search(ctx: Context, request: SearchRequest, base_url: str) -> dict[str, Any]:
    page = dataset_search(ctx, request.query)
    facets, search_facets = _facets(ctx, request.query, list(request.facet_fields),
                                    request.facet_limit)
    bodies = {org_id: organization_dict(org) for org_id, org in page.organisations.items()}
    return {
        "count": page.count, "sort": request.query.sort.value, "facets": facets,
        "search_facets": search_facets,
        "results": [package_dict(dataset, page.organisations[dataset.organisation_id],
                                 base_url, bodies[dataset.organisation_id])
                    for dataset in page.datasets],
    }


@ckan_action
def package_search(call: CkanCall) -> JsonText:
    """Search datasets: q, fq, rows, start, sort, facet.field, include_private."""
    request = _search_request(call)
    # CKAN leaves private datasets out unless asked, even for those who may see them.
    ctx = call.ctx if request.include_private else call.ctx.bylab.context()
    key = (visibility_key(ctx.actor), call.base_url, request)
    return cached_read(ctx, "package_search", key,
                       lambda: json_text(_search(ctx, request, call.base_url)), _weight)


# ---------------------------------------------------------------- other actions


@ckan_action
def package_list(call: CkanCall) -> list[str]:
    """Names of the public datasets, by name (CKAN lists no private datasets here)."""
    limit = call.integer("limit", 0)
    query = (select(Dataset.name).where(visibility_clause(Actor.anonymous()))
             .order_by(Dataset.name).offset(call.integer("offset", 0)))
    if limit:
        query = query.limit(limit)
    with call.ctx.db.session() as session:
        return list(session.scalars(query))


def _package(ctx: Context, name_or_id: str, base_url: str) -> dict[str, Any]:
    with ctx.db.session() as session:
        dataset = dataset_get(session, ctx, name_or_id)
        organisation = organisation_get(session, dataset.organisation_id)
    return package_dict(dataset, organisation, base_url)


@ckan_action
def package_show(call: CkanCall) -> JsonText:
    """One dataset by id or name (Not Found unless the actor may see it)."""
    name_or_id = call.text("id") or call.text("name_or_id") or call.text("name")
    if not name_or_id:
        raise InvalidInput("Missing value", field="id")
    key = (visibility_key(call.ctx.actor), call.base_url, name_or_id)
    return cached_read(call.ctx, "package_show", key,
                       lambda: json_text(_package(call.ctx, name_or_id, call.base_url)),
                       _weight)


def _publishers(call: CkanCall) -> list[Organisation]:
    with call.ctx.db.session() as session:
        return list(session.scalars(select(Organisation)
                                    .where(Organisation.kind != OrganisationKind.NETWORK)
                                    .order_by(Organisation.name)))


def _public_counts(call: CkanCall, column: Any) -> dict[str, int]:
    with call.ctx.db.session() as session:
        rows = session.execute(select(column, func.count()).where(
            visibility_clause(Actor.anonymous())).group_by(column))
        return {key: count for key, count in rows}


@ckan_action
def organization_list(call: CkanCall) -> list[Any]:
    """Publishing organisations: names, or dicts with ``all_fields``."""
    organisations = _publishers(call)
    wanted = set(call.names("organizations"))
    if wanted:
        organisations = [org for org in organisations if org.name in wanted]
    counts = _public_counts(call, Dataset.organisation_id)
    if call.text("sort", "name asc").startswith("package_count"):
        organisations.sort(key=lambda org: -counts.get(org.id, 0))
    offset = call.integer("offset", 0)
    limit = call.integer("limit", 0) or len(organisations)
    organisations = organisations[offset:offset + limit]
    if not call.flag("all_fields"):
        return [org.name for org in organisations]
    return [organization_dict(org, counts.get(org.id, 0)) for org in organisations]


@ckan_action
def organization_show(call: CkanCall) -> dict[str, Any]:
    """One organisation; with ``include_datasets`` its datasets the actor may see."""
    with call.ctx.db.session() as session:
        organisation = organisation_get(session, call.text("id"))
    page = dataset_search(call.ctx, DatasetQuery(organisation=organisation.id,
                                                 sort=DatasetSort.NAME_ASC, rows=MAX_ROWS))
    body = organization_dict(organisation, page.count)
    if call.flag("include_datasets"):
        body["packages"] = [package_dict(dataset, organisation, call.base_url)
                            for dataset in page.datasets]
    body["users"] = []
    return body


@ckan_action
def group_list(call: CkanCall) -> list[Any]:
    """The EU data themes that public datasets use, as CKAN groups."""
    counts: Counter[str] = Counter()
    with call.ctx.db.session() as session:
        for themes in session.scalars(select(Dataset.themes).where(
                visibility_clause(Actor.anonymous()))):
            counts.update(theme for theme in themes if theme in DATA_THEMES)
    themes = sorted(counts)
    if not call.flag("all_fields"):
        return [theme.lower() for theme in themes]
    return [group_dict(theme, counts[theme]) for theme in themes]


@ckan_action
def resource_show(call: CkanCall) -> dict[str, Any]:
    """One download of a dataset the actor may see, by its resource id."""
    resource_id = call.text("id")
    latest = (select(DatasetVersion.id, Dataset.id)
              .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
              .where(DatasetVersion.version == Dataset.latest_version)
              .where(visibility_clause(call.ctx.actor)))
    with call.ctx.db.session() as session:
        pairs = session.execute(latest).all()
    for version_id, dataset_id in pairs:
        if any(distribution_id(version_id, fmt.extension) == resource_id
               for fmt in DOWNLOAD_FORMATS):
            dataset = dataset_show(call.ctx, dataset_id)
            for distribution in dataset_distributions(dataset):
                if distribution.id == resource_id:
                    return resource_dict(distribution, call.base_url)
    raise NotFound("Resource was not found.", field="id")


@ckan_action
def license_list(call: CkanCall) -> list[dict[str, Any]]:
    """The licences datasets may carry."""
    return [{"id": licence_id, "title": licence_id, "url": url or ""}
            for licence_id, url in LICENCES.items()]


@ckan_action
def status_show(call: CkanCall) -> dict[str, Any]:
    """What this site is and which CKAN API it follows."""
    settings = call.ctx.settings
    return {
        "site_title": settings.catalog_title, "site_description": "",
        "site_url": call.base_url, "ckan_version": CKAN_API_VERSION,
        "bylab_version": __version__, "locale_default": settings.default_language,
        "error_emails_to": None, "extensions": ["bylab", "dcat"],
    }


@ckan_action
def site_read(call: CkanCall) -> bool:
    """Whether the site may be read (always)."""
    return True


@ckan_action
def help_show(call: CkanCall) -> str:
    """The documentation of an action."""
    action = ACTIONS.get(call.text("name"))
    if action is None:
        raise NotFound("Action function not found", field="name")
    return action.__doc__ or ""


# ---------------------------------------------------------------- HTTP

router = APIRouter(tags=["ckan"])


async def _request_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
        return params
    body = await request.body()
    if body.strip():
        try:
            decoded = json.loads(body)
        except ValueError:
            raise InvalidInput("Bad request - JSON Error: invalid body", field="body") from None
        if not isinstance(decoded, dict):
            raise InvalidInput("Bad request - JSON Error: body is not an object", field="body")
        params.update(decoded)
    return params


def _json(body: object, status_code: int = 200) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status_code=status_code, media_type="application/json;charset=utf-8")


def _success(help_url: str, result: Any) -> Response:
    """CKAN's success envelope around ``result`` (spliced in when already JSON text)."""
    if not isinstance(result, JsonText):
        return _json({"help": help_url, "success": True, "result": result})
    text = f'{{"help":{json.dumps(help_url)},"success":true,"result":{result.text}}}'
    return Response(text, media_type="application/json;charset=utf-8")


def _error_body(help_url: str, error: BylabError) -> dict[str, Any]:
    detail: dict[str, Any] = {"__type": error.ckan_type, "message": str(error)}
    if error.field and error.ckan_type == "Validation Error":
        detail[error.field] = [error.message]
    return {"help": help_url, "success": False, "error": detail}


def _run(request: Request, action: Action, params: dict[str, Any]) -> Any:
    ctx = context_of(request)
    return action(CkanCall(ctx, params, base_url_of(ctx, request)))


async def ckan_api(action_name: str, request: Request) -> Response:
    """Call a CKAN action: GET with query parameters, or POST with a JSON or form body."""
    base_url = (request.app.state.bylab.settings.base_url or str(request.base_url)).rstrip("/")
    help_url = f"{base_url}/api/3/action/help_show?name={action_name}"
    action = ACTIONS.get(action_name)
    if action is None:
        return _json(f"Bad request - Action name not known: {action_name}", 400)
    try:
        params = await _request_params(request)
        result = await run_in_threadpool(_run, request, action, params)
    except BylabError as error:
        return _json(_error_body(help_url, error), CKAN_STATUS.get(error.ckan_type, 409))
    return _success(help_url, result)


for _prefix in ("/api/3/action", "/api/action"):
    for _method in ("GET", "POST"):  # one route per method: each gets its own OpenAPI id
        router.add_api_route(f"{_prefix}/{{action_name}}", ckan_api, methods=[_method],
                             include_in_schema=_prefix == "/api/3/action",
                             name=f"ckan{_prefix}/{_method.lower()}")
