"""Web pages and API routes of bylab.dashboard: the region overview, city profiles, the
comparison, embeddable views (public data only), the printable report and the exports."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from bylab.auth.actor import Actor
from bylab.catalog.queries import dataset_show
from bylab.core import Context
from bylab.dashboard.actions import (
    Chart,
    Compared,
    Overview,
    PeerScope,
    Profile,
    cached_view,
    compare,
    kpi_charts,
    overview,
    parse_place_ids,
    profile,
)
from bylab.dashboard.datasets import Aggregate, dataset_chart, dataset_features
from bylab.dashboard.svg import (
    NO_VALUE_COLOUR,
    SERIES_COLOURS,
    MapArea,
    choropleth,
    line_chart,
    sparkline,
)
from bylab.errors import InvalidInput, NotFound
from bylab.places.queries import places_feature_collection
from bylab.indicators.actions import KpiEntry, ValueRow, kpi_show
from bylab.web.i18n import format_number, translated_text, translations_for
from bylab.web.security import ContextDep, bylab_of
from bylab.web.templating import language_of, render

router = APIRouter()
ASSETS_DIR = Path(__file__).parent / "static"
BOUNDARY_SIMPLIFY_DEG = 0.002  # about 200 m: fine at region scale, a tenth of the bytes
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
GZIP_LEVEL = 6  # as the app's GZipMiddleware


@dataclass(frozen=True)
class CachedBody:
    """A response body kept serialised and compressed once, so a repeated view costs neither
    rendering nor compression."""

    body: bytes
    gzipped: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, response: Response) -> CachedBody:
        body = bytes(response.body)
        headers = tuple((name, value) for name, value in response.headers.items()
                        if name in ("content-disposition", "cache-control"))
        return cls(body, gzip.compress(body, GZIP_LEVEL, mtime=0),
                   response.media_type or "application/octet-stream", headers)

    @property
    def weight(self) -> int:
        return len(self.body) + len(self.gzipped)

    def response(self, request: Request) -> Response:
        headers = dict(self.headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(self.gzipped, media_type=self.media_type,
                            headers={**headers, "Content-Encoding": "gzip",
                                     "Vary": "Accept-Encoding"})
        return Response(self.body, media_type=self.media_type, headers=headers)


def cached_response(request: Request, ctx: Context, make: Callable[[], Response],
                    per_reader: bool = False) -> Response:
    """``make()``'s response, or the same body made earlier in this process for this address
    and language by a reader who sees the same datasets (``cached_view``'s key and
    invalidation). Pages that show who is logged in (``per_reader``) are kept for anonymous
    readers only; a response that sets a cookie (a language switch) is never kept."""
    if per_reader and not ctx.actor.is_anonymous:
        return make()
    made: list[Response] = []

    def compute() -> CachedBody | None:
        made.append(make())
        if "set-cookie" in made[0].headers or made[0].status_code != 200:
            return None
        return CachedBody.of(made[0])

    key = (request.url.path, request.url.query, language_of(request))
    kept = cached_view(ctx, "response", key, compute, lambda body: body.weight if body else 1)
    if kept is None:
        return made[0] if made else make()
    return kept.response(request)


def public_context(request: Request) -> Context:
    """Embeds show public data only, whoever's browser loads them."""
    return bylab_of(request).context(Actor.anonymous())


def _overview(ctx: Context, selection: dict[str, Any]) -> Overview:
    return cached_view(ctx, "overview", tuple(sorted(selection.items())),
                       lambda: overview(ctx, **selection))


def _profile(ctx: Context, place_id: str) -> Profile:
    return cached_view(ctx, "profile", place_id.strip().upper(), lambda: profile(ctx, place_id))


def _compare(ctx: Context, places: str) -> Compared:
    ids = parse_place_ids(places)
    return cached_view(ctx, "compare", tuple(ids), lambda: compare(ctx, ids))


def _overview_json(view: Overview) -> dict[str, Any]:
    return {
        "region": view.region.id, "kpi": view.kpi.kpi.code, "slug": view.kpi.slug,
        "year": view.year, "years": view.years, "peers": view.peers.value,
        "unit": view.kpi.definition.unit_label if view.kpi.definition else "",
        "legend": [{"low": item.low, "high": item.high, "colour": item.colour,
                    "count": item.count} for item in view.legend],
        "places": [{"id": item.place_id, "name": item.place_name, "value": item.value,
                    "rank": item.rank, "percentile": item.percentile,
                    "colour": view.legend[item.colour_class].colour}
                   for item in view.entries],
        "missing": [{"id": place.id, "name": place.name} for place in view.missing],
        "boundaries": f"/api/dashboard/boundaries?region={view.region.id}",
    }


def selection_query(view: Overview) -> str:
    """The query string that names the overview's whole selection, for links and embeds."""
    return urlencode({"region": view.region.id, "kpi": view.kpi.slug, "year": view.year or "",
                      "peers": view.peers.value})


def _csv_response(header: list[str], rows: list[list[Any]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _selection(region: str | None, kpi: str | None, year: str | None,
               peers: str) -> dict[str, Any]:
    try:
        scope = PeerScope(peers)
    except ValueError:
        raise InvalidInput("peer group '{peers}' is not one of region, country",
                           field="peers", peers=peers) from None
    return {"region_id": region or None, "kpi": kpi or None, "year": year or None,
            "peers": scope}


# ---------------------------------------------------------------- assets

@router.get("/dashboard/assets/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    path = ASSETS_DIR / name
    if path.parent != ASSETS_DIR or not path.is_file() or path.suffix not in ASSET_TYPES:
        raise NotFound("no dashboard asset '{name}'", name=name)
    return FileResponse(path, media_type=ASSET_TYPES[path.suffix],
                        headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """Browsers ask for it on every site; the bylab mark as SVG."""
    return asset("favicon.svg")


# ---------------------------------------------------------------- overview

@router.get("/api/dashboard/boundaries", tags=["dashboard"])
def api_boundaries(request: Request, ctx: ContextDep, region: str) -> Response:
    """The boundaries of the region's municipalities valid today, simplified, as the overview
    map draws them (the places API's GeoJSON, kept serialised per process)."""
    place_id, today = region.strip().upper(), date.today()
    body = cached_view(ctx, "boundaries", (place_id, today), lambda: CachedBody.of(Response(
        json.dumps(places_feature_collection(ctx, None, "municipality", place_id, today,
                                             BOUNDARY_SIMPLIFY_DEG)),
        media_type="application/geo+json", headers={"Cache-Control": "public, max-age=3600"})))
    return body.response(request)


@router.get("/api/dashboard/overview", tags=["dashboard"])
def api_overview(request: Request, ctx: ContextDep, region: str | None = None,
                 kpi: str | None = None, year: str | None = None,
                 peers: str = "region") -> Response:
    """The region's municipalities on one KPI and year: value, rank and percentile among the
    peer group (``region`` or ``country``), and the quantile legend of the map."""
    return cached_response(request, ctx, lambda: JSONResponse(
        _overview_json(_overview(ctx, _selection(region, kpi, year, peers)))))


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def page_overview(request: Request, ctx: ContextDep, region: str | None = None,
                  kpi: str | None = None, year: str | None = None,
                  peers: str = "region") -> HTMLResponse:
    def make() -> Response:
        view = _overview(ctx, _selection(region, kpi, year, peers))
        return render(request, "dashboard/overview.html", view=view,
                      data=_overview_json(view), query=selection_query(view))

    return cached_response(request, ctx, make, per_reader=True)


@router.get("/dashboard/overview.csv", include_in_schema=False)
def overview_csv(ctx: ContextDep, region: str | None = None, kpi: str | None = None,
                 year: str | None = None, peers: str = "region") -> Response:
    view = _overview(ctx, _selection(region, kpi, year, peers))
    unit = view.kpi.definition.unit_label if view.kpi.definition else ""
    rows = [[item.rank, item.place_id, item.place_name, view.year, item.value, unit,
             round(item.percentile, 1)] for item in view.entries]
    return _csv_response(["rank", "place_id", "place_name", "period", "value", "unit",
                          "percentile"], rows, f"{view.kpi.slug}-{view.region.id}.csv")


@router.get("/dashboard/overview.svg", include_in_schema=False)
def overview_svg(request: Request, ctx: ContextDep, region: str | None = None,
                 kpi: str | None = None, year: str | None = None,
                 peers: str = "region") -> Response:
    """The overview's choropleth as an SVG file: the same boundaries and classes as the map
    page, with title and legend in the page's language."""
    selection, language = _selection(region, kpi, year, peers), language_of(request)
    view = _overview(ctx, selection)
    svg = cached_view(ctx, "overview_svg", (tuple(sorted(selection.items())), language),
                      lambda: _map_svg(ctx, view, language))
    return Response(svg, media_type="image/svg+xml", headers={
        "Content-Disposition":
            f'attachment; filename="{view.kpi.slug}-{view.region.id}-{view.year}.svg"'})


def _map_svg(ctx: Context, view: Overview, language: str) -> str:
    title, unit, method = _map_texts(view, language)
    return choropleth(title, unit, _map_areas(ctx, view, language), _map_legend(view, language),
                      method)


def _map_texts(view: Overview, language: str) -> tuple[str, str, str]:
    """The map's title, unit and classification method in ``language``."""
    gettext = translations_for(language).gettext
    title = f"{view.kpi.kpi.name(language)}, {view.region.name} {view.year or '–'}"
    unit = translated_text(view.kpi.definition.unit_label if view.kpi.definition else "",
                           language)
    peers = gettext("this region") if view.peers == PeerScope.REGION \
        else gettext("the whole country")
    method = gettext("Classes: quantiles of the %(count)s values of the peer group "
                     "(%(peers)s), viridis palette (colour-blind safe).") % {
        "count": view.peer_count, "peers": peers}
    return title, unit, method


def _map_areas(ctx: Context, view: Overview, language: str) -> list[MapArea]:
    boundaries = places_feature_collection(ctx, None, "municipality", view.region.id,
                                           date.today(), BOUNDARY_SIMPLIFY_DEG)
    entries = {item.place_id: item for item in view.entries}
    areas = []
    for feature in boundaries["features"]:
        entry = entries.get(feature["id"])
        colour = view.legend[entry.colour_class].colour if entry else NO_VALUE_COLOUR
        value = f": {format_number(entry.value, language)}" if entry else ""
        label = feature["properties"]["name"] + value
        areas.append(MapArea(feature["geometry"], colour, label))
    return areas


def _map_legend(view: Overview, language: str) -> list[tuple[str, str]]:
    rows = [(f"{format_number(item.low, language)} – {format_number(item.high, language)} "
             f"({item.count})", item.colour) for item in view.legend]
    return [*rows, (translations_for(language).gettext("no value"), NO_VALUE_COLOUR)]


@router.get("/embed/map", response_class=HTMLResponse, include_in_schema=False)
def embed_map(request: Request, region: str | None = None, kpi: str | None = None,
              year: str | None = None, peers: str = "region") -> HTMLResponse:
    view = _overview(public_context(request), _selection(region, kpi, year, peers))
    return render(request, "dashboard/embed_map.html", view=view, data=_overview_json(view),
                  query=selection_query(view))


# ---------------------------------------------------------------- profile

@router.get("/dashboard/places/{place_id}", response_class=HTMLResponse,
            include_in_schema=False)
def page_profile(request: Request, ctx: ContextDep, place_id: str) -> Response:
    return cached_response(request, ctx, lambda: render(
        request, "dashboard/profile.html", profile=_profile(ctx, place_id),
        sparkline=sparkline), per_reader=True)


@router.get("/dashboard/places/{place_id}/report", response_class=HTMLResponse,
            include_in_schema=False)
def page_report(request: Request, ctx: ContextDep, place_id: str) -> HTMLResponse:
    return render(request, "dashboard/report.html", profile=_profile(ctx, place_id),
                  sparkline=sparkline, today=date.today().isoformat())


@router.get("/dashboard/places/{place_id}/report.pdf", include_in_schema=False)
def report_pdf(request: Request, ctx: ContextDep, place_id: str) -> Response:
    from bylab.dashboard.report import pdf_of  # WeasyPrint loads its system libraries

    page = page_report(request, ctx, place_id)
    pdf = pdf_of(bytes(page.body).decode("utf-8"))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bylab-{place_id.upper()}.pdf"'})


@router.get("/dashboard/places/{place_id}/values.csv", include_in_schema=False)
def profile_csv(request: Request, ctx: ContextDep, place_id: str) -> Response:
    def make() -> Response:
        shown = _profile(ctx, place_id)
        rows = [[item.entry.kpi.code, item.entry.kpi.name(), period, value,
                 item.entry.definition.unit_label if item.entry.definition else ""]
                for item in shown.kpis for period, value in item.series]
        return _csv_response(["kpi_code", "kpi_name", "period", "value", "unit"], rows,
                             f"{shown.place.id}.csv")

    return cached_response(request, ctx, make)


# ---------------------------------------------------------------- compare

def chart_json(chart: Chart) -> dict[str, Any]:
    return {"name": chart.name, "unit": chart.unit, "slug": chart.slug, "kind": chart.kind,
            "periods": chart.labels,
            "series": [{"id": name, "name": name, "colour": colour, "values": values}
                       for (name, values), colour
                       in zip(chart.series.items(), SERIES_COLOURS, strict=False)]}


def _compare_json(compared: Compared, language: str = "en") -> list[dict[str, Any]]:
    """The compared KPIs as charts, the KPIs named in ``language``."""
    names = {place.id: place.name for place in compared.places}
    charts = []
    for item in compared.kpis:
        chart = chart_json(Chart(
            item.entry.kpi.name(language),
            item.entry.definition.unit_label if item.entry.definition else "",
            item.entry.slug, item.periods,
            {place_id: [points.get(period) for period in item.periods]
             for place_id, points in item.series.items()}))
        for series in chart["series"]:
            series["name"] = names[series["id"]]
        charts.append({**chart, "kpi": item.entry.kpi.code})
    return charts


@router.get("/api/dashboard/compare", tags=["dashboard"])
def api_compare(ctx: ContextDep, places: str) -> dict[str, Any]:
    """Time series of every KPI any of 2–6 places (``places=NO-1506,NO-1508``) has values
    of, and each place's dimension scores within the group."""
    compared = _compare(ctx, places)
    return {"kpis": _compare_json(compared), "dimension_scores": compared.dimension_scores}


@router.get("/dashboard/compare", response_class=HTMLResponse, include_in_schema=False)
def page_compare(request: Request, ctx: ContextDep, places: str = "") -> HTMLResponse:
    try:
        compared = _compare(ctx, places) if places else None
    except InvalidInput as error:  # shown beside the field, so the user can fix the list
        return render(request, "dashboard/compare.html", compared=None, places=places,
                      charts=[], error=error, status_code=400)
    return render(request, "dashboard/compare.html", compared=compared, places=places,
                  charts=_compare_json(compared, language_of(request)) if compared else [])


@router.get("/dashboard/compare.csv", include_in_schema=False)
def compare_csv(ctx: ContextDep, places: str) -> Response:
    compared = _compare(ctx, places)
    rows = [[item.entry.kpi.code, place_id, period, value]
            for item in compared.kpis for place_id, points in item.series.items()
            for period, value in sorted(points.items())]
    return _csv_response(["kpi_code", "place_id", "period", "value"], rows, "compare.csv")


@router.get("/dashboard/compare.svg", include_in_schema=False)
def compare_svg(request: Request, ctx: ContextDep, places: str, kpi: str) -> Response:
    """One KPI's chart of the compared places as an SVG file."""
    compared = _compare(ctx, places)
    wanted = kpi_show(kpi).kpi.code
    item = next((item for item in compared.kpis if item.entry.kpi.code == wanted), None)
    if item is None:
        raise NotFound("none of these places has a value of {kpi}", field="kpi", kpi=wanted)
    names = {place.id: f"{place.name} ({place.id})" for place in compared.places}
    unit = translated_text(item.entry.definition.unit_label if item.entry.definition else "",
                           language_of(request))
    svg = line_chart(item.entry.kpi.name(language_of(request)), unit, item.periods,
                     {names[place_id]: points for place_id, points in item.series.items()},
                     lambda value: format_number(value, language_of(request)))
    return Response(svg, media_type="image/svg+xml", headers={
        "Content-Disposition": f'attachment; filename="{item.entry.slug}.svg"'})


@router.get("/embed/compare", response_class=HTMLResponse, include_in_schema=False)
def embed_compare(request: Request, places: str, kpi: str) -> HTMLResponse:
    compared = _compare(public_context(request), places)
    wanted = kpi_show(kpi).kpi.code
    charts = [chart for chart in _compare_json(compared, language_of(request))
              if chart["kpi"] == wanted]
    if not charts:
        raise NotFound("no public values of {kpi} for these places", field="kpi", kpi=wanted)
    return render(request, "dashboard/embed_chart.html", chart=charts[0])



# ---------------------------------------------------------------- KPI page

def kpi_page_charts(ctx: Context, entry: KpiEntry, rows: list[ValueRow],
                    language: str = "en") -> dict[str, Any]:
    """What the KPI page adds: its distribution and spread charts (in ``language``) and the
    map of the default region (None when that region has no values of the KPI)."""
    view = None
    if entry.definition is not None and rows:
        try:
            view = _overview(ctx, {"kpi": entry.slug})
        except NotFound:  # no default region loaded
            view = None
    if view is not None and not view.entries:
        view = None
    charts = [_with_series_named(chart_json(chart), language)
              for chart in kpi_charts(entry, rows, language=language)]
    return {"charts": charts, "view": view,
            "data": _overview_json(view) if view else None,
            "query": selection_query(view) if view else ""}


def _with_series_named(chart: dict[str, Any], language: str) -> dict[str, Any]:
    """``chart`` with its series (median, lowest, ...: SERIES_NAMES) named in ``language``."""
    for series in chart["series"]:
        series["name"] = translated_text(series["id"], language)
    return chart


# ---------------------------------------------------------------- dataset charts

def _dataset_chart_page(request: Request, ctx: Context, name: str, version: int | None,
                        x: str | None, y: str | None, aggregate: str | None,
                        action: str) -> HTMLResponse:
    chart, choice = dataset_chart(ctx, name, version, x or None, y or None, aggregate or None)
    dataset = dataset_show(ctx, name)
    return render(request, "dashboard/dataset_chart.html", chart=chart_json(chart),
                  choice=choice, dataset=dataset, version=version, action=action,
                  aggregates=list(Aggregate))


@router.get("/dashboard/datasets/{name}/chart", response_class=HTMLResponse,
            include_in_schema=False)
def dataset_chart_page(request: Request, ctx: ContextDep, name: str,
                       version: int | None = None, x: str | None = None, y: str | None = None,
                       aggregate: str | None = None) -> HTMLResponse:
    """The chart the dataset page frames, for whoever may see the dataset."""
    return _dataset_chart_page(request, ctx, name, version, x, y, aggregate,
                               f"/dashboard/datasets/{name}/chart")


@router.get("/embed/datasets/{name}", response_class=HTMLResponse, include_in_schema=False)
def embed_dataset(request: Request, name: str, version: int | None = None,
                  x: str | None = None, y: str | None = None,
                  aggregate: str | None = None) -> HTMLResponse:
    return _dataset_chart_page(request, public_context(request), name, version, x, y,
                               aggregate, f"/embed/datasets/{name}")


@router.get("/api/dashboard/datasets/{name}/chart", tags=["dashboard"])
def api_dataset_chart(ctx: ContextDep, name: str, version: int | None = None,
                      x: str | None = None, y: str | None = None,
                      aggregate: str | None = None) -> dict[str, Any]:
    """A chart of a dataset's data: ``y`` aggregated (sum, avg, count) by ``x`` (a time or
    text column); columns are chosen automatically when not given."""
    chart, choice = dataset_chart(ctx, name, version, x, y, aggregate)
    return {**chart_json(chart), "x": choice.x, "y": choice.y,
            "aggregate": choice.aggregate.value, "x_options": choice.x_options,
            "y_options": choice.y_options}


@router.get("/api/dashboard/datasets/{name}/features", tags=["dashboard"])
def api_dataset_features(ctx: ContextDep, name: str, version: int | None = None) -> Response:
    """The rows of a spatial dataset (with a GeoJSON geometry column) as GeoJSON, simplified,
    for its map."""
    return Response(json.dumps(dataset_features(ctx, name, version)),
                    media_type="application/geo+json")
