"""Web pages and REST API of the catalog capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
