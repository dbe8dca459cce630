"""Traffic counts from SensorThings datastreams (bylab.sensors), for calibration.

Each observation of a counting datastream is a number of vehicles in its interval (as
counters report them, per minute or per hour); the vehicles of each hour of one local day
are summed. The user says which network edge each counter sits on: neither SensorThings nor
SUMO knows that. Only datastreams the actor may see are read."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.mobility.calibration import COUNT_COLUMNS, Count
from bylab.sensors.actions import observation_store, visible_things_clause
from bylab.sensors.models import Datastream, Thing


def counts_from_sensors(ctx: Context, edge_by_datastream: dict[str, str], day: date,
                        timezone: str = "Europe/Oslo") -> list[Count]:
    """Hourly counts on ``day`` (hours of the local day in ``timezone``) of the datastreams
    named by key in ``edge_by_datastream``, each on the edge it maps to."""
    if not edge_by_datastream:
        raise InvalidInput("name at least one counting datastream", field="datastream")
    zone = _zone(timezone)
    ids = _datastream_ids(ctx, list(edge_by_datastream))
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    scan = observation_store(ctx).scan((start - timedelta(days=1)).date(), end.date())
    rows = [] if scan is None else ctx.tables.connection().execute(
        f"SELECT datastream_id, phenomenon_time, result FROM {scan} WHERE datastream_id IN "
        f"({', '.join('?' * len(ids))}) AND phenomenon_time >= ? AND phenomenon_time < ? "
        "AND result IS NOT NULL",
        [*ids.values(), start, end]).fetchall()
    if not rows:
        raise InvalidInput("the datastreams have no observations on {day}", field="day",
                           day=day)
    key_of = {datastream_id: key for key, datastream_id in ids.items()}
    vehicles: dict[tuple[str, int], float] = defaultdict(float)
    for datastream_id, moment, result in rows:
        hour = moment.astimezone(zone).hour
        vehicles[(edge_by_datastream[key_of[datastream_id]], hour)] += result
    return [Count(edge, hour, round(total)) for (edge, hour), total in sorted(vehicles.items())]


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("unknown time zone '{timezone}'", field="timezone",
                           timezone=timezone) from None


def _datastream_ids(ctx: Context, keys: list[str]) -> dict[str, int]:
    with ctx.db.session() as session:
        rows = session.execute(
            select(Datastream.key, Datastream.id).join(Thing, Thing.id == Datastream.thing_id)
            .where(Datastream.key.in_(keys), visible_things_clause(ctx.actor)))
        found = {key: datastream_id for key, datastream_id in rows}
    missing = [key for key in keys if key not in found]
    if missing:
        raise NotFound("no datastream '{datastream}'", field="datastream",
                       datastream=missing[0])
    return found


def counts_write(counts: list[Count], target: Path) -> Path:
    """Write counts as a counter CSV (the format ``counts_read`` reads)."""
    with target.open("w", newline="", encoding="utf-8") as output:
        writer = csv.writer(output)
        writer.writerow(COUNT_COLUMNS)
        writer.writerows((count.edge_id, count.hour, count.vehicles) for count in counts)
    return target
