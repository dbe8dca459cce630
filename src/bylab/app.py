"""The web application, built as an object from a configured bylab instance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from threading import Thread

import xstatic.pkg.leaflet as xstatic_leaflet
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import configure_mappers
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from bylab import __version__
from bylab.core import Bylab
from bylab.settings import Settings
from bylab.warmup import CountServing, Serving, Step, page_warm_up_steps, warm_up
from bylab.web.errors import install_error_handlers
from bylab.web.routes import router as web_router

STATIC_DIR = Path(__file__).parent / "web" / "static"
# Chart.js, installed from the npm registry by `npm ci` in frontend/ (see frontend/package.json).
CHARTJS_DIR = (Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "chart.js"
               / "dist")


def _capability_routers() -> list:  # type: ignore[type-arg]
    from bylab.auth.routes import router as auth_router
    from bylab.catalog.routes import router as catalog_router
    from bylab.connectors.routes import router as connectors_router
    from bylab.dashboard.routes import router as dashboard_router
    from bylab.indicators.routes import router as indicators_router
    from bylab.mobility.routes import router as mobility_router
    from bylab.places.routes import router as places_router
    from bylab.registry.routes import router as registry_router
    from bylab.scenarios.routes import router as scenarios_router
    from bylab.sensors.routes import router as sensors_router

    return [auth_router, catalog_router, places_router, indicators_router, registry_router,
            dashboard_router, scenarios_router, sensors_router, connectors_router,
            mobility_router]


def create_app(bylab: Bylab) -> FastAPI:
    """The ASGI app serving the UI and APIs of ``bylab``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from bylab.connectors.scheduler import harvest_scheduler_running
        from bylab.registry.embedding_worker import embedding_worker_running

        with harvest_scheduler_running(bylab), embedding_worker_running(bylab):
            yield
        bylab.close()

    # FastAPIOffline serves the API docs' Swagger UI from its own package, not from a CDN.
    app = FastAPIOffline(
        title="bylab API",
        version=__version__,
        description="City data catalogue, places and indicators for smart sustainable cities. "
        "Also served: a CKAN Action API subset at /api/3/action/ and DCAT-AP at /catalog.ttl.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        static_url="/static/vendor/apidocs",
        lifespan=lifespan,
    )
    app.state.bylab = bylab
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(
        SessionMiddleware,
        secret_key=bylab.settings.effective_secret_key(),
        session_cookie="bylab_session",
        max_age=bylab.settings.session_max_age_s,
        same_site="lax",
        https_only=bylab.settings.secure_cookies,
    )
    install_error_handlers(app)
    app.mount("/static/vendor/leaflet", StaticFiles(directory=xstatic_leaflet.BASE_DIR),
              name="leaflet")
    if not CHARTJS_DIR.is_dir():
        raise RuntimeError(f"chart assets are not installed ({CHARTJS_DIR} is missing): "
                           "run `npm ci` in the frontend/ folder of the bylab checkout")
    app.mount("/static/vendor/chartjs", StaticFiles(directory=CHARTJS_DIR), name="chartjs")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_router)
    for router in _capability_routers():
        app.include_router(router)
    return app


def create_app_from_environment() -> FastAPI:
    """The app of the instance the BYLAB_* variables (or the settings file) configure: what
    each worker process of ``bylab serve --workers N`` builds. The schema is brought up to
    date once, by the serving command, before the workers start."""
    app = create_app(Bylab(Settings()))
    serving = Serving()
    app.add_middleware(CountServing, serving=serving)
    # Beside serving, so the worker is up as soon as before and ready in a second or two.
    Thread(target=warm_up, args=(worker_warm_up_steps(app), serving), name="prepare-worker",
           daemon=True).start()
    return app


def worker_warm_up_steps(app: FastAPI) -> list[Step]:
    """What a new worker prepares in the background (bylab.warmup): its routes, the models'
    mappings (set up by the first query otherwise), then what its first pages need."""
    return [partial(prepare_routes, app), configure_mappers, *page_warm_up_steps()]


def prepare_routes(app: FastAPI) -> None:
    """Have FastAPI prepare every route now. It prepares the routes of an included router
    (their dependencies and parameter models) when a request first passes through it: up to
    a second of CPU, paid by the first reader of a dashboard page in a new worker."""
    unmatched = {"type": "http", "method": "GET", "path": "/-/", "root_path": "",
                 "query_string": b"", "headers": []}
    for route in app.router.routes:
        route.matches(dict(unmatched))
