"""Web pages and API routes of bylab.mobility."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
