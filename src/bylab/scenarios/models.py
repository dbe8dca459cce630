"""Database models of bylab.scenarios."""

from __future__ import annotations
