"""Web pages and API routes of bylab.dashboard."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
