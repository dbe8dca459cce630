"""Paths and loaders for the recorded PxWeb / JSON-stat responses in tests/data/connectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import TEST_DATA

CONNECTOR_DATA = TEST_DATA / "connectors"
SCB_V1 = CONNECTOR_DATA / "scb_v1_BE0101A_BefolkningNy.json"
SCB_V2 = CONNECTOR_DATA / "scb_v2_TAB638_jsonstat2.json"
SCB_JSONSTAT1 = CONNECTOR_DATA / "scb_statswe_jsonstat1.json"
SSB_29843 = CONNECTOR_DATA / "ssb_29843_jsonstat1.json"


def load(path: Path) -> Any:
    """A fresh decoded copy (tests may change it in memory)."""
    return json.loads(path.read_bytes())
