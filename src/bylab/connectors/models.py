"""Database models of bylab.connectors."""

from __future__ import annotations
