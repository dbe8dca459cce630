"""Database models of bylab.dashboard."""

from __future__ import annotations
