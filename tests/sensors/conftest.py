"""Two stations: a public one (PM2.5 and temperature, 48 hours) and a private one of Molde."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bylab.core import Bylab
from bylab.sensors.actions import Unit, datastream_create, observations_store, thing_create
from bylab.sensors.models import SensorVisibility
from bylab.sensors.store import observation_table

START_MS = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3_600_000
PM25 = Unit("microgram per cubic metre", "µg/m³")


@pytest.fixture
def stations(bylab: Bylab, accounts_setup: dict[str, str]) -> dict[str, int]:
    """Datastream ids by key."""
    ctx = bylab.system_context()
    thing_create(ctx, "Valand", description="Air quality in Stavanger",
                 coordinates=(5.73, 58.97), place_id="NO-1103")
    thing_create(ctx, "Hidden", organisation="molde", visibility=SensorVisibility.PRIVATE,
                 coordinates=(7.16, 62.74))
    ids = {}
    for thing, key, name, prop, unit in (
            ("Valand", "Valand/pm25", "PM2.5 at Valand", "PM2.5", PM25),
            ("Valand", "Valand/temperature", "Temperature at Valand", "Air temperature",
             Unit("degree Celsius", "°C")),
            ("Hidden", "Hidden/pm25", "PM2.5 at Hidden", "PM2.5", PM25)):
        ids[key] = datastream_create(ctx, thing, key, name, observed_property=prop, unit=unit,
                                     sensor="Monitor").id
    for key, count in (("Valand/pm25", 48), ("Valand/temperature", 48), ("Hidden/pm25", 10)):
        observations_store(ctx, observation_table(
            [ids[key]] * count, [START_MS + hour * HOUR_MS for hour in range(count)],
            [float(hour) for hour in range(count)]))
    return ids
