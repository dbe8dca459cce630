"""Reading SensorThings request bodies: property checks shared by create and update.

Every problem is an ``InvalidInput`` naming the field, as the Create-Update-Delete class asks
(a missing mandatory property or a link to an unknown entity is a 400)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bylab.errors import InvalidInput
from bylab.sensors.sta_graph import iso

Document = dict[str, Any]


@dataclass(frozen=True)
class Writable:
    """What a POST or PATCH of one entity set may carry."""

    mandatory: tuple[str, ...]  # properties a POST must give
    optional: tuple[str, ...]
    links: tuple[str, ...]  # navigation properties accepted inline or as {"@iot.id": n}


WRITABLE = {
    "Things": Writable(("name", "description"), ("properties",), ("Locations", "Datastreams")),
    "Locations": Writable(("name", "description", "encodingType", "location"), ("properties",),
                          ("Things",)),
    "HistoricalLocations": Writable(("time",), (), ("Thing", "Locations")),
    "Sensors": Writable(("name", "description", "encodingType", "metadata"), ("properties",),
                        ("Datastreams",)),
    "ObservedProperties": Writable(("name", "definition", "description"), ("properties",),
                                   ("Datastreams",)),
    "Datastreams": Writable(("name", "description", "unitOfMeasurement", "observationType"),
                            ("properties", "observedArea", "phenomenonTime", "resultTime"),
                            ("Thing", "Sensor", "ObservedProperty", "Observations")),
    "Observations": Writable(("result",), ("phenomenonTime", "resultTime", "resultQuality",
                                           "validTime", "parameters"),
                             ("Datastream", "FeatureOfInterest")),
    "FeaturesOfInterest": Writable(("name", "description", "encodingType", "feature"),
                                   ("properties",), ("Observations",)),
}
# Read-only or computed: accepted in a body (clients send back what they read) but not kept.
IGNORED = {"@iot.id", "@iot.selfLink", "id"}
TEXT_LIMITS = {"name": 200, "encodingType": 100, "definition": 500, "observationType": 200}


def check_document(set_name: str, document: Any, *, creating: bool) -> Document:
    """The body as a dict whose keys the entity set knows; on create, with every mandatory
    property."""
    writable = WRITABLE.get(set_name)
    if writable is None:
        raise InvalidInput("{set_name} cannot be created or changed here", field=set_name,
                           set_name=set_name)
    if not isinstance(document, dict):
        raise InvalidInput("a {set_name} entity is a JSON object", field=set_name,
                           set_name=set_name)
    known = {*writable.mandatory, *writable.optional, *writable.links}
    for name in document:
        if name not in known and name not in IGNORED and "@iot." not in name:
            raise InvalidInput("{set_name} have no property '{name}' that can be written",
                               field=name, set_name=set_name, name=name)
    if creating:
        for name in writable.mandatory:
            if document.get(name) is None:
                raise InvalidInput("'{name}' is mandatory for {set_name}", field=name,
                                   name=name, set_name=set_name)
    return document


def text(document: Document, name: str, default: str = "") -> str:
    value = document.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise InvalidInput("'{name}' must be a string", field=name, name=name)
    limit = TEXT_LIMITS.get(name)
    if limit and len(value) > limit:
        raise InvalidInput("'{name}' is longer than {limit} characters", field=name,
                           name=name, limit=limit)
    return value


def json_object(document: Document, name: str) -> dict[str, Any]:
    value = document.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("'{name}' must be a JSON object", field=name, name=name)
    return value


def link_id(value: Any, field: str) -> int | None:
    """The id of ``{"@iot.id": n}``; None for an entity given inline."""
    if not isinstance(value, dict):
        raise InvalidInput("'{name}' must be an entity or {{\"@iot.id\": …}}", field=field,
                           name=field)
    identifier = value.get("@iot.id")
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.isdigit():
        identifier = int(identifier)
    if not isinstance(identifier, int) or isinstance(identifier, bool):
        raise InvalidInput("'{name}' has an @iot.id that is not a whole number", field=field,
                           name=field)
    return identifier


def entity_list(document: Document, name: str) -> list[Any]:
    value = document.get(name) or []
    if not isinstance(value, list):
        raise InvalidInput("'{name}' must be a list of entities", field=name, name=name)
    return value


@dataclass(frozen=True)
class ObservationValues:
    """An Observation's result and optional properties as the store keeps them (store.py)."""

    result: float | None = None  # the result when it is a finite number
    result_json: str | None = None  # any other result, as JSON text
    result_quality: str | None = None  # JSON text
    valid_time: str | None = None  # ISO 8601 interval start/end, both ends in UTC
    parameters: str | None = None  # a JSON object's text


def observation_values(document: Document, stored: ObservationValues | None = None
                       ) -> ObservationValues:
    """The result, resultQuality, validTime and parameters of a body, checked; those it
    leaves out stay as ``stored`` (an update) or null."""
    values = stored or ObservationValues()
    if "result" in document:
        result, result_json = result_value(document)
        values = replace(values, result=result, result_json=result_json)
    if "resultQuality" in document:
        values = replace(values, result_quality=json_text(document, "resultQuality"))
    if "validTime" in document:
        values = replace(values, valid_time=interval(document, "validTime"))
    if "parameters" in document:
        if document["parameters"] is not None:
            json_object(document, "parameters")  # refuses anything but an object
        values = replace(values, parameters=json_text(document, "parameters"))
    return values


def result_value(document: Document) -> tuple[float | None, str | None]:
    """A result of any JSON type but null: a finite number as a float, anything else as
    JSON text."""
    value = document.get("result")
    if value is None:
        raise InvalidInput("'{name}' is mandatory for {set_name}", field="result",
                           name="result", set_name="Observations")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, json_text(document, "result")
    if not _finite(value):
        raise InvalidInput("result must be a finite number, got {value!r}",
                           field="result", value=str(value)[:40])
    return float(value), None


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int beyond float's range
        return False


def json_text(document: Document, name: str) -> str | None:
    """A property of any JSON type as JSON text; None when it is null."""
    value = document.get(name)
    if value is None:
        return None
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise InvalidInput("'{name}' holds a number that is not finite (NaN or infinity)",
                           field=name, name=name) from None


def interval(document: Document, name: str) -> str | None:
    """An ISO 8601 time interval ``start/end`` (both with a time zone), in UTC."""
    value = document.get(name)
    if value is None:
        return None
    ends = value.split("/") if isinstance(value, str) else []
    if len(ends) != 2:
        raise InvalidInput("'{name}' must be an ISO 8601 time interval: start/end, both with "
                           "a time zone", field=name, name=name)
    start, end = (instant({name: text}, name) for text in ends)
    assert start is not None and end is not None
    if end < start:
        raise InvalidInput("'{name}' ends before it starts", field=name, name=name)
    return f"{iso(start)}/{iso(end)}"


def instant(document: Document, name: str, default: datetime | None = None
            ) -> datetime | None:
    """A time instant (an interval is not stored: bylab keeps instants)."""
    value = document.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or "/" in value:
        raise InvalidInput("'{name}' must be an ISO 8601 instant with a time zone",
                           field=name, name=name)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("'{name}' is not an ISO 8601 time: {value!r}",
                           field=name, name=name, value=value[:40]) from None
    if moment.tzinfo is None:
        raise InvalidInput("'{name}' needs a time zone (e.g. Z)", field=name, name=name)
    return moment.astimezone(UTC)
