"""Database models of bylab.mobility."""

from __future__ import annotations
