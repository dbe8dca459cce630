"""Harvest an OGC SensorThings API v1.1 server (a FROST-Server, another bylab): its Things with
their Locations, Datastreams with Sensor and ObservedProperty, and Observations, incrementally.

Every collection is read page by page through ``@iot.nextLink``. Observations are asked for
per Datastream in phenomenonTime order, after the last time already harvested (the ``state``
the caller keeps between runs), and stored page by page: when the server stops answering
halfway, what came before is kept and the next run resumes after it. An observation whose
result is not a finite number, or whose time cannot be read, is set aside with its reason."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Select, and_, or_, select

from bylab.connectors.ckan_harvest import RejectedRecord
from bylab.connectors.pxweb import network_errors
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput
from bylab.sensors.actions import Unit, datastream_create, observations_store, thing_create
from bylab.sensors.models import Datastream, SensorVisibility, Thing
from bylab.sensors.store import observation_table

__all__ = ["StaHarvest", "StaReport", "harvest_sta", "store_observation"]

TIMEOUT_S = 60.0
PAGE_SIZE = 1000


@dataclass(frozen=True)
class StaHarvest:
    root_url: str  # the service root, e.g. https://host/FROST-Server/v1.1
    organisation: str
    prefix: str  # remote Thing "Valand" becomes "<prefix>/Valand"; Datastream 7 "<prefix>/7"
    visibility: SensorVisibility = SensorVisibility.PRIVATE
    page_size: int | None = None  # $top asked for (default: PAGE_SIZE)
    # The saved source running this harvest: its Things follow the source's visibility.
    source_id: str | None = None


@dataclass
class StaReport:
    things_created: int = 0
    datastreams_created: int = 0
    observations_read: int = 0
    observations_stored: int = 0
    rejected: list[RejectedRecord] = field(default_factory=list)
    # remote Datastream id -> phenomenonTime of the last observation harvested (as served)
    state: dict[str, str] = field(default_factory=dict)
    failure: str | None = None  # why the run stopped early (what came before is stored)

    def summary(self) -> str:
        return (f"{self.things_created} new things, {self.datastreams_created} new "
                f"datastreams; {self.observations_read:,} observations read, "
                f"{self.observations_stored:,} stored, {len(self.rejected):,} rejected")


ObservationProgress = Callable[[int, int | None], None]


def harvest_sta(ctx: Context, harvest: StaHarvest, state: dict[str, str],
                progress: ObservationProgress | None = None) -> StaReport:
    """Harvest what is new on the server; ``state`` is the last run's ``StaReport.state``."""
    report = StaReport(state=dict(state))
    root = harvest.root_url.rstrip("/")
    top = harvest.page_size or PAGE_SIZE
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=True) as client:
        try:
            things = list(_entities(client, f"{root}/Things",
                                    {"$expand": "Locations", "$top": top}))
            for thing in things:
                thing_id = _local_thing(ctx, harvest, thing, report)
                datastreams = _entities(client, f"{root}/Things({thing['@iot.id']})/Datastreams",
                                        {"$expand": "Sensor,ObservedProperty", "$top": top})
                for datastream in datastreams:
                    local_id = _local_datastream(ctx, harvest, thing_id, datastream, report)
                    _observations(ctx, client, f"{root}/Datastreams({datastream['@iot.id']})",
                                  top, datastream, local_id, report, progress)
        except BylabError as error:
            report.failure = str(error)
    return report


def _entities(client: httpx.Client, url: str, parameters: dict[str, Any] | None
              ) -> Iterator[dict[str, Any]]:
    """Every entity of a collection, following ``@iot.nextLink``."""
    for page in _pages(client, url, parameters):
        yield from page


def _pages(client: httpx.Client, url: str, parameters: dict[str, Any] | None
           ) -> Iterator[list[dict[str, Any]]]:
    next_url: str | None = url
    while next_url:
        body = _get(client, next_url, parameters)
        parameters = None  # the next link carries them
        values = body.get("value")
        if not isinstance(values, list):
            raise InvalidInput("the answer has no 'value' list", file=next_url)
        yield values
        next_url = body.get("@iot.nextLink")


def _get(client: httpx.Client, url: str, parameters: dict[str, Any] | None) -> dict[str, Any]:
    with network_errors(url, TIMEOUT_S):
        response = client.get(url, params=parameters)
    if not response.is_success:
        raise InvalidInput("the server answered HTTP {status}: {detail}", file=url,
                           status=response.status_code, detail=response.text.strip()[:200])
    try:
        body = response.json()
    except ValueError:
        raise InvalidInput("the answer is not JSON", file=url) from None
    if not isinstance(body, dict):
        raise InvalidInput("the answer is not a JSON object", file=url)
    return body


def _local_thing(ctx: Context, harvest: StaHarvest, thing: dict[str, Any],
                 report: StaReport) -> int:
    """The id of the local Thing harvested from ``thing``, made if new."""
    name = f"{harvest.prefix}/{thing.get('name') or thing['@iot.id']}"[:200]
    with ctx.db.session() as session:
        existing = session.scalar(_harvested_named(harvest, name))
        if existing is not None:
            _adopt(existing, harvest)
            return existing.id
    locations = thing.get("Locations") or []
    point = next((location.get("location") for location in locations
                  if (location.get("location") or {}).get("type") == "Point"), None)
    coordinates = tuple(point["coordinates"][:2]) if point else None
    created = thing_create(ctx, name, description=str(thing.get("description") or ""),
                           properties={**(thing.get("properties") or {}),
                                       "harvested_from": thing.get("@iot.selfLink", "")},
                           organisation=harvest.organisation, visibility=harvest.visibility,
                           coordinates=coordinates,  # type: ignore[arg-type]
                           location_name=(locations[0].get("name") if locations else None),
                           source_id=harvest.source_id)
    report.things_created += 1
    return created.id


def _harvested_named(harvest: StaHarvest, name: str) -> Select[tuple[Thing]]:
    """The Thing this harvest made under ``name``: its source's, or one its organisation
    harvested before Things knew their source (the first made, should there be several)."""
    mine = [and_(Thing.source_id.is_(None), Thing.organisation_id == harvest.organisation)]
    if harvest.source_id is not None:
        mine.append(Thing.source_id == harvest.source_id)
    return (select(Thing).where(Thing.name == name, or_(*mine))
            .order_by(Thing.source_id.is_(None), Thing.id).limit(1))


def _adopt(thing: Thing, harvest: StaHarvest) -> None:
    """A Thing of the source's organisation harvested before Things knew their source
    follows the source from now on."""
    if harvest.source_id and thing.source_id is None and (
            thing.organisation_id == harvest.organisation):
        thing.source_id = harvest.source_id


def _local_datastream(ctx: Context, harvest: StaHarvest, thing_id: int,
                      datastream: dict[str, Any], report: StaReport) -> int:
    key = f"{harvest.prefix}/{datastream['@iot.id']}"[:200]
    with ctx.db.session() as session:
        existing = session.scalar(select(Datastream.id).where(Datastream.key == key))
    if existing is not None:
        return existing
    unit = datastream.get("unitOfMeasurement") or {}
    observed = datastream.get("ObservedProperty") or {}
    sensor = datastream.get("Sensor") or {}
    created = datastream_create(
        ctx, thing_id, key, str(datastream.get("name") or key),
        observed_property=str(observed.get("name") or "unknown"),
        definition=str(observed.get("definition") or ""),
        unit=Unit(str(unit.get("name") or ""), str(unit.get("symbol") or ""),
                  str(unit.get("definition") or "")),
        sensor=str(sensor.get("name") or "unknown"),
        description=str(datastream.get("description") or ""))
    report.datastreams_created += 1
    return created.id


def _observations(ctx: Context, client: httpx.Client, datastream_url: str, top: int,
                  datastream: dict[str, Any], local_id: int, report: StaReport,
                  progress: ObservationProgress | None) -> None:
    remote_id = str(datastream["@iot.id"])
    parameters: dict[str, Any] = {"$orderby": "phenomenonTime asc", "$top": top}
    if remote_id in report.state:
        parameters["$filter"] = f"phenomenonTime gt {report.state[remote_id]}"
    url = f"{datastream_url}/Observations"
    store_ctx = ctx.bylab.system_context()  # storing is ingestion; the caller was checked
    for page in _pages(client, url, parameters):
        times, results = [], []
        for observation in page:
            report.observations_read += 1
            moment, result, problem = _reading(observation)
            if problem:
                report.rejected.append(RejectedRecord(
                    location=f"Datastreams({remote_id}) Observations"
                             f"({observation.get('@iot.id')})",
                    reason=problem.message,
                    payload={"datastream": remote_id, "observation": observation}))
                continue
            times.append(moment)
            results.append(result)
        if times:
            report.observations_stored += observations_store(
                store_ctx, observation_table([local_id] * len(times), times, results))
        if page:  # resume after the last one read, stored or set aside
            report.state[remote_id] = str(page[-1].get("phenomenonTime"))
        if progress:
            progress(report.observations_read, None)


def _reading(observation: dict[str, Any]) -> tuple[int, float, InvalidInput | None]:
    """Epoch milliseconds of the phenomenonTime (an interval's start) and the result, or why
    the observation cannot be stored."""
    text = str(observation.get("phenomenonTime") or "").split("/")[0]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0, 0.0, InvalidInput("unreadable phenomenonTime {time!r}", field="observation",
                                    time=text[:40])
    if moment.tzinfo is None:
        return 0, 0.0, InvalidInput("phenomenonTime without a time zone: {time!r}",
                                    field="observation", time=text[:40])
    result = observation.get("result")
    if isinstance(result, bool) or not isinstance(result, (int, float)) or not math.isfinite(
            result):
        return 0, 0.0, InvalidInput("result is not a finite number: {result!r}",
                                    field="observation", result=str(result)[:40])
    return int(moment.timestamp() * 1000), float(result), None


def store_observation(ctx: Context, prefix: str, remote_datastream_id: str,
                      observation: dict[str, Any]) -> int:
    """Store one observation set aside earlier (a replayed dead letter) in the local
    Datastream harvested from ``remote_datastream_id``; returns 1 when new, 0 when it was
    stored already. Raises why it still cannot be stored."""
    key = f"{prefix}/{remote_datastream_id}"[:200]
    with ctx.db.session() as session:
        local_id = session.scalar(select(Datastream.id).where(Datastream.key == key))
    if local_id is None:
        raise InvalidInput("no harvested datastream '{key}'", field="datastream", key=key)
    moment, result, problem = _reading(observation)
    if problem:
        raise problem
    return observations_store(ctx.bylab.system_context(),
                              observation_table([local_id], [moment], [result]))
