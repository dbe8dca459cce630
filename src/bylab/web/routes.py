"""Pages and endpoints that belong to no single capability: home, health."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bylab import __version__
from bylab.catalog.queries import DatasetQuery, dataset_search
from bylab.places.queries import place_children, place_find
from bylab.web.security import ContextDep
from bylab.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, ctx: ContextDep) -> HTMLResponse:
    """The home page opens on the configured region: its map, its municipalities and the
    newest datasets the visitor may see."""
    region = place_find(ctx, ctx.settings.default_region)
    municipalities = place_children(ctx, region.id, date.today()) if region else []
    newest = dataset_search(ctx, DatasetQuery(rows=6))
    return render(request, "web/home.html", region=region, municipalities=municipalities,
                  newest=newest, today=date.today().isoformat())


@router.get("/api/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness check."""
    return {"status": "ok", "version": __version__}
