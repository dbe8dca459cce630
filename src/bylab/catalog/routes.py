"""The catalog capability's web surface: its REST, CKAN and DCAT routers, then its pages.

Order matters: ``/datasets/{name}.ttl`` (DCAT) must be matched before the page route
``/datasets/{name}``, so the page router comes last."""

from __future__ import annotations

from fastapi import APIRouter

from bylab.catalog import api, ckan, dcat, pages

router = APIRouter()
for _surface in (api, ckan, dcat, pages):
    router.include_router(_surface.router)
