"""Turning MQTT payloads into observations, and refusing bad ones with a reason.

Two payload shapes are accepted, alone or as a JSON array of several:

* SensorThings-style: ``{"phenomenonTime": "...", "result": 1.5, "Datastream": {"@iot.id": 3}}``;
  the datastream may instead come from the topic (``.../Datastreams(3)/Observations``).
  Published to the SensorThings topics ``v1.1/Observations`` or
  ``v1.1/Datastreams(<id>)/Observations``, it creates an Observation as OGC 18-088 §14.2 says.
* Simple: ``{"sensor": "Valand/pm25", "time": "...", "value": 1.5, "unit": "µg/m³"}``; the
  sensor name is looked up in ``mqtt_sensor_mapping``, else taken as the datastream key.

Every item is checked on its own, so one bad item never costs its good neighbours."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TOPIC_DATASTREAM = re.compile(r"Datastreams\((\d+)\)")
STA_TOPICS = "v1.1/"
STA_CREATE_TOPIC = re.compile(r"v1\.1/(?:Datastreams\(\d+\)/)?Observations")


@dataclass(frozen=True)
class DatastreamRef:
    id: int
    key: str
    unit_symbol: str
    feature_id: int | None


@dataclass(frozen=True)
class DatastreamIndex:
    """The datastreams a payload may name, by id and by key, and the sensor-name mapping."""

    by_id: dict[int, DatastreamRef]
    by_key: dict[str, DatastreamRef]
    mapping: dict[str, str]
    max_future_ms: int


@dataclass
class Parsed:
    """Good observations as columns, and the bad items with their reasons."""

    datastream_ids: list[int] = field(default_factory=list)
    times_ms: list[int] = field(default_factory=list)
    results: list[float] = field(default_factory=list)
    feature_ids: list[int | None] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (topic, item, reason)


class BadObservation(ValueError):
    pass


def parse_time_ms(value: Any) -> int:
    """Epoch milliseconds of an ISO 8601 time with a zone (or an interval's start)."""
    if not isinstance(value, str):
        raise BadObservation(f"time must be an ISO 8601 string, got {value!r}")
    start = value.split("/", 1)[0]
    try:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise BadObservation(f"time '{value}' is not ISO 8601") from None
    if moment.tzinfo is None:
        raise BadObservation(f"time '{value}' has no time zone (add Z or an offset)")
    milliseconds = round(moment.timestamp() * 1000)
    if milliseconds < 0:
        raise BadObservation(f"time '{value}' is before 1970")
    return milliseconds


def _result(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadObservation(f"result must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise BadObservation(f"result {value!r} is not a finite number")
    return number


def _datastream(item: dict[str, Any], topic: str, index: DatastreamIndex) -> DatastreamRef:
    if "sensor" in item:
        name = str(item["sensor"])
        key = index.mapping.get(name, name)
        found = index.by_key.get(key)
        if found is None:
            raise BadObservation(f"unknown sensor '{name}' (no datastream with key '{key}')")
        return found
    reference = item.get("Datastream")
    if isinstance(reference, dict) and "@iot.id" in reference:
        wanted: Any = reference["@iot.id"]
    elif match := TOPIC_DATASTREAM.search(topic):
        wanted = match.group(1)
    else:
        raise BadObservation("no datastream: give Datastream.@iot.id or publish to "
                             ".../Datastreams(<id>)/Observations")
    try:
        found = index.by_id.get(int(wanted))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise BadObservation(f"unknown datastream {wanted!r}")
    return found


def _observation(item: Any, topic: str, index: DatastreamIndex, now_ms: int
                 ) -> tuple[DatastreamRef, int, float]:
    if not isinstance(item, dict):
        raise BadObservation("an observation must be a JSON object")
    datastream = _datastream(item, topic, index)
    simple = "sensor" in item
    time_ms = parse_time_ms(item.get("time") if simple else item.get("phenomenonTime"))
    if time_ms > now_ms + index.max_future_ms:
        raise BadObservation(f"time {item.get('time') or item.get('phenomenonTime')} "
                             "is in the future (clock wrong?)")
    result = _result(item.get("value") if simple else item.get("result"))
    unit = item.get("unit")
    if unit is not None and unit != datastream.unit_symbol:
        raise BadObservation(f"wrong unit '{unit}': datastream '{datastream.key}' is in "
                             f"'{datastream.unit_symbol}'")
    return datastream, time_ms, result


def creates_observations(topic: str) -> bool:
    """Whether a message on ``topic`` carries observations to store. Of the SensorThings
    topics (OGC 18-088 §14), only ``v1.1/Observations`` and
    ``v1.1/Datastreams(<id>)/Observations`` create; the others (``v1.1/Things``,
    ``v1.1/Observations(<id>)``, ...) are notifications for subscribers, so a ``v1.1/#``
    subscription passes over them."""
    return not topic.startswith(STA_TOPICS) or STA_CREATE_TOPIC.fullmatch(topic) is not None


def parse_payload(payload: bytes, topic: str, index: DatastreamIndex, into: Parsed,
                  now_ms: int | None = None) -> None:
    """Add the payload's good observations to ``into`` and its bad items to ``into.rejected``."""
    now_ms = now_ms if now_ms is not None else round(datetime.now(UTC).timestamp() * 1000)
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as error:
        into.rejected.append((topic, payload.decode("utf-8", "replace"), f"malformed JSON: {error}"))
        return
    items = document if isinstance(document, list) else [document]
    for item in items:
        try:
            datastream, time_ms, result = _observation(item, topic, index, now_ms)
        except BadObservation as error:
            into.rejected.append((topic, json.dumps(item, ensure_ascii=False), str(error)))
            continue
        into.datastream_ids.append(datastream.id)
        into.times_ms.append(time_ms)
        into.results.append(result)
        into.feature_ids.append(datastream.feature_id)
