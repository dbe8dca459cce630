"""Web pages and API routes of bylab.scenarios."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
