"""The OGC SensorThings test suite's (ets-sta10) model of the API, and request helpers, for
the tests that mirror it (``test_sta_conformance*.py``): the mandatory properties and
navigation of each entity set (its EntityProperties and EntityRelations), bodies of the
entities its fixtures make, and GET/POST shortcuts that check the status as the suite does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.testing.backends import embedded_instance
from tests.conftest import PASSWORD

STA = "/sta/v1.1"
ROOT = "http://testserver/sta/v1.1"
HISTORY = "HistoricalLocations"
MISSING_ID = 9_223_372_036_854_775_807  # the suite asks for Long.MAX_VALUE
# The suite's EntityProperties and EntityRelations: mandatory properties and navigation.
MANDATORY = {
    "Things": ("name", "description"),
    "Locations": ("name", "description", "encodingType", "location"),
    HISTORY: ("time",),
    "Datastreams": ("name", "description", "unitOfMeasurement", "observationType"),
    "Sensors": ("name", "description", "encodingType", "metadata"),
    "ObservedProperties": ("name", "definition", "description"),
    "Observations": ("phenomenonTime", "result", "resultTime"),
    "FeaturesOfInterest": ("name", "description", "encodingType", "feature"),
}
RELATIONS = {
    "Things": ("Datastreams", "Locations", HISTORY),
    "Locations": ("Things", HISTORY),
    HISTORY: ("Thing", "Locations"),
    "Datastreams": ("Thing", "Sensor", "ObservedProperty", "Observations"),
    "Sensors": ("Datastreams",),
    "ObservedProperties": ("Datastreams",),
    "Observations": ("Datastream", "FeatureOfInterest"),
    "FeaturesOfInterest": ("Observations",),
}
SET_OF = {"Thing": "Things", "Datastream": "Datastreams", "Sensor": "Sensors",
          "ObservedProperty": "ObservedProperties", "FeatureOfInterest": "FeaturesOfInterest",
          **{name: name for name in MANDATORY}}
ENTITY_SETS = tuple(MANDATORY)
JSON_VALUED = {"location", "feature", "unitOfMeasurement"}


def by_set() -> list[str]:
    """The entity sets as parameters."""
    return list(ENTITY_SETS)


def is_collection(navigation: str) -> bool:
    return SET_OF[navigation] == navigation


def names_history(path: str) -> bool:
    return any(SET_OF[step] == HISTORY for step in path.split("/"))


def relation_scope(subject: str) -> list[tuple[str, str]]:
    """(entity set, navigation) pairs a relation check covers for ``subject``: its own, but
    those reaching HistoricalLocations belong to the HistoricalLocations case."""
    if subject == HISTORY:
        return ([(HISTORY, navigation) for navigation in RELATIONS[HISTORY]]
                + [(parent, HISTORY) for parent in ("Things", "Locations")])
    return [(subject, navigation) for navigation in RELATIONS[subject]
            if not names_history(navigation)]


# --- requests ----------------------------------------------------------------------------

@contextmanager
def editor_client(data_dir: Path) -> Iterator[httpx.Client]:
    """An in-process client of a new embedded instance, with the API token of Molde's editor
    (the suite's data is made through the API, once per module)."""
    instance = embedded_instance(data_dir)
    ctx = instance.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    token = accounts.token_create(ctx, "conformance", "mia")
    with TestClient(create_app(instance), base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
    instance.close()


def get_ok(sta: httpx.Client, path: str, **params: str) -> dict[str, Any]:
    answer = sta.get(f"{STA}/{path}", params=params)
    assert answer.status_code == 200, (path, params, answer.text)
    return answer.json()  # type: ignore[no-any-return]


def values(sta: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    return get_ok(sta, path, **params)["value"]  # type: ignore[no-any-return]


def first_id(sta: httpx.Client, set_name: str) -> int | None:
    entities = values(sta, set_name)
    return entities[0]["@iot.id"] if entities else None


def id_of(answer: httpx.Response) -> int:
    assert answer.status_code == 201, answer.text
    return int(answer.headers["Location"].rsplit("(", 1)[1].rstrip(")"))


def post(sta: httpx.Client, path: str, body: Any) -> int:
    """POST, then GET what was made (the suite's postEntity); its id."""
    identifier = id_of(sta.post(f"{STA}/{path}", json=body))
    get_ok(sta, f"{path.split('/')[-1]}({identifier})")
    return identifier


def refused(answer: httpx.Response) -> bool:
    return answer.status_code in (400, 409)


# --- bodies of the suite's entities ------------------------------------------------------

def datastream_body(name: str, unit: str, symbol: str, observed: dict[str, Any],
                sensor: str, metadata: str) -> dict[str, Any]:
    return {"name": name, "description": name,
            "unitOfMeasurement": {"name": unit, "symbol": symbol,
                                  "definition": "http://www.qudt.org/qudt/owl/1.0.0/unit/"
                                                "Instances.html/Lumen"},
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
                               "OM_Measurement",
            "ObservedProperty": observed,
            "Sensor": {"name": sensor, "description": sensor,
                       "encodingType": "http://schema.org/description", "metadata": metadata}}


def observed_body(name: str, number: int) -> dict[str, str]:
    return {"name": name, "description": f"observedProperty {number}",
            "definition": "http://www.qudt.org/qudt/owl/1.0.0/quantity/Instances.html/"
                          "LuminousFlux"}


def thing_body(number: int, coordinates: list[float], datastreams: list[dict[str, Any]]
           ) -> dict[str, Any]:
    return {"name": f"thing {number}", "description": f"thing {number}",
            "properties": {"reference": ("first", "second")[number - 1]},
            "Locations": [{"name": f"location {number}", "description": f"location {number}",
                           "location": {"type": "Point", "coordinates": coordinates},
                           "encodingType": "http://example.org/location_types/GeoJSON"}],
            "Datastreams": datastreams}
