"""Database models of bylab.sensors."""

from __future__ import annotations
