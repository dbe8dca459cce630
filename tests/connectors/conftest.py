"""Paths and loaders for the recorded PxWeb / JSON-stat responses and PX files in
tests/data/connectors, and a real local HTTP server that answers with them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_create
from bylab.core import Context

from tests.conftest import TEST_DATA

CONNECTOR_DATA = TEST_DATA / "connectors"
SCB_V1 = CONNECTOR_DATA / "scb_v1_BE0101A_BefolkningNy.json"
SCB_V2 = CONNECTOR_DATA / "scb_v2_TAB638_jsonstat2.json"
SCB_JSONSTAT1 = CONNECTOR_DATA / "scb_statswe_jsonstat1.json"
SSB_29843 = CONNECTOR_DATA / "ssb_29843_jsonstat1.json"
PX_POPULATION = CONNECTOR_DATA / "BE0101N1.px"
PX_QUARTERLY = CONNECTOR_DATA / "HA0201E8.px"
PX_MONTHLY = CONNECTOR_DATA / "PR0101D8.px"


def load(path: Path) -> Any:
    """A fresh decoded copy (tests may change it in memory)."""
    return json.loads(path.read_bytes())


def tab638_years(values: list[Any]) -> dict[str, Any]:
    """The real TAB638 answer changed in memory to one cell per year from 2019 on, holding
    ``values`` (to play revisions and cells that are not numbers)."""
    document = load(SCB_V2)
    years = [str(2019 + offset) for offset in range(len(values))]
    tid = document["dimension"]["Tid"]["category"]
    tid["index"] = {year: position for position, year in enumerate(years)}
    tid["label"] = {year: year for year in years}
    document["size"][-1] = len(years)
    document["value"] = values
    return document


@dataclass
class RecordedServer:
    """A real HTTP server on 127.0.0.1 answering GET and POST on each path in ``answers``
    with its bytes (404 elsewhere); tests swap answers to play a revised table."""

    base_url: str
    answers: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, path, body

    def serve(self, path: str, document: Any) -> str:
        self.answers[path] = (document if isinstance(document, bytes)
                              else json.dumps(document).encode())
        return f"{self.base_url}{path}"


@pytest.fixture
def recorded_server() -> Iterator[RecordedServer]:
    recorded = RecordedServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            path = self.path.split("?")[0]
            recorded.requests.append((self.command, self.path, self.rfile.read(length)))
            body = recorded.answers.get(path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            payload = body if body is not None else b'{"error": "not found"}'
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sta_page(values: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    """A SensorThings collection answer."""
    return {"value": values, **({"@iot.nextLink": next_link} if next_link else {})}


def serve_sta_station(server: RecordedServer, root: str) -> None:
    """SensorThings answers written by hand in the protocol's shapes: Thing 1 "Valand" with
    its PM2.5 Datastream 5 (the tests serve its Observations)."""
    server.serve(f"{root}/Things", sta_page([{"@iot.id": 1, "name": "Valand", "Locations": []}]))
    server.serve(f"{root}/Things(1)/Datastreams", sta_page([{
        "@iot.id": 5, "name": "PM2.5", "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³"},
        "Sensor": {"name": "monitor"}, "ObservedProperty": {"name": "PM2.5"}}]))


def organisations_and_a_taken_name(ctx: Context) -> None:
    """Organisations molde (harvesting) and acme, whose local dataset holds the name the
    remote package "population" would get under the prefix "stavanger"."""
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "acme", "Acme AS")
    dataset_create(ctx, DatasetMetadata(name="stavanger-population", title={"en": "Taken"},
                                        organisation="acme"))
