"""Web pages and REST API of the places capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
