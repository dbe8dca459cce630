"""Web pages and API routes of bylab.connectors."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
