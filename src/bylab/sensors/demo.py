"""The bundled sensor series for the demo: five Norwegian air-quality stations with hourly
PM2.5 and the weather of a nearby MET Norway station (EEA; MET Norway), 2017–2021.

The source has no station coordinates, so each station's Location is the centroid of its
municipality, and says so."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bylab.core import Context
from bylab.places.models import Place
from bylab.sensors.actions import (
    Unit,
    datastream_create,
    datastream_index,
    observation_store,
    observations_store,
    thing_create,
)
from bylab.sensors.models import Thing
from bylab.sensors.store import observation_table
from bylab.storage.tables import sql_string

SERIES_FILE = "no_air_quality_pm25_weather_hourly_2017_2021.csv.gz"
STATIONS_FILE = "no_air_quality_stations.csv"
# column -> (datastream suffix, observed property, unit, sensor, definition)
SERIES = {
    "pm25_ugm3": ("pm25", "PM2.5", Unit("microgram per cubic metre", "µg/m³"),
                  "Air quality monitor (EEA e-Reporting)",
                  "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001"),
    "temperature_c": ("temperature", "Air temperature", Unit("degree Celsius", "°C"),
                      "MET Norway weather station", "https://schema.org/temperature"),
    "wind_speed_ms": ("wind_speed", "Wind speed", Unit("metre per second", "m/s"),
                      "MET Norway weather station", "https://schema.org/windSpeed"),
    "rain_mm": ("rain", "Precipitation", Unit("millimetre", "mm"),
                "MET Norway weather station", "https://schema.org/precipitation"),
}


def sensors_demo_load(ctx: Context, data_dir: Path,
                      progress: Callable[[str], None] | None = None, compact: bool = True
                      ) -> int:
    """Load the stations and their series (skipped if loaded), then compact the closed
    months unless told not to; returns observations stored."""
    report = progress or (lambda _message: None)
    with ctx.db.session() as session:
        if session.scalar(select(Thing.id).limit(1)) is not None:
            return 0
    stations = _stations(data_dir / STATIONS_FILE)
    for station in stations:
        _station_create(ctx, station)
    report(f"{len(stations)} stations with {len(SERIES)} datastreams each")
    stored = _series_load(ctx, data_dir / SERIES_FILE)
    report(f"{stored:,} observations stored")
    if compact:
        months = observation_store(ctx).compact_months()
        report(f"{months} closed months compacted")
    return stored


def _stations(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stations_file:
        return list(csv.DictReader(stations_file))


def _station_create(ctx: Context, station: dict[str, str]) -> None:
    name = station["station"]
    place_id = f"NO-{station['municipality_code']}"
    with ctx.db.session() as session:
        place = session.get(Place, place_id)
    coordinates = (place.centroid_lon, place.centroid_lat) if (
        place and place.centroid_lon is not None and place.centroid_lat is not None) else None
    thing = thing_create(
        ctx, name, description=f"Urban air-quality station in {station['municipality_name']}",
        properties={"municipality": station["municipality_name"],
                    "weatherStation": station["met_weather_station"],
                    "locationNote": "municipality centroid: the source gives no coordinates",
                    "attribution": "EEA; MET Norway"},
        coordinates=coordinates, place_id=place_id,
        location_name=f"{station['municipality_name']} (municipality centroid)")
    for suffix, prop, unit, sensor, definition in SERIES.values():
        datastream_create(ctx, thing.id, f"{name}/{suffix}", f"{prop} at {name}",
                          observed_property=prop, unit=unit, sensor=sensor,
                          definition=definition)


def _series_load(ctx: Context, path: Path) -> int:
    """Unpivot the wide hourly file to one observation per datastream and hour."""
    keys = {key: ref.id for key, ref in datastream_index(ctx).by_key.items()}
    selects = " UNION ALL ".join(
        f"SELECT station || '/{suffix}' AS key, timestamp_utc AS time, {column} AS result "
        f"FROM source WHERE {column} IS NOT NULL AND isfinite({column})"
        for column, (suffix, *_rest) in SERIES.items())
    connection = ctx.tables.connection()
    source = (f"read_csv({sql_string(str(path))}, header=true, "
              "types={'timestamp_utc': 'TIMESTAMPTZ'})")
    long = connection.sql(f"WITH source AS (SELECT * FROM {source}) {selects}").to_arrow_table()
    ids = [keys[key] for key in long["key"].to_pylist()]
    return observations_store(ctx, observation_table(ids, long["time"], long["result"]))
