"""The catalog capability's web surface: its REST, CKAN and DCAT routers, then its pages.

Order matters: ``/datasets/{name}.ttl`` (DCAT) must be matched before the page route
``/datasets/{name}``, so the page router comes last."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from bylab.catalog import pages

# Built in parallel by others; included as soon as each module exists.
_SERVICE_MODULES = ("bylab.catalog.api", "bylab.catalog.ckan", "bylab.catalog.dcat")

router = APIRouter()
for _module_name in _SERVICE_MODULES:
    try:
        _module = importlib.import_module(_module_name)
    except ModuleNotFoundError as missing:
        if missing.name != _module_name:
            raise
        continue
    if hasattr(_module, "router"):
        router.include_router(_module.router)
router.include_router(pages.router)
