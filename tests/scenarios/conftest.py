"""A small instance for the scenario tests: true places from the places register (Norway,
Telemark, Skien; Sweden, Stockholm) with HAND-MADE, NOT real, indicator series, so the trend
and the effects can be checked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.core import Bylab
from bylab.indicators.models import IndicatorValue
from bylab.places.models import Place
from bylab.scenarios.levers import DENSITY, EV_SHARE, GHG

# Hand-made series (not real data).
GHG_SKIEN = {2019: 3.0, 2020: 2.9, 2021: 2.75, 2022: 2.7, 2023: 2.55}
EV_STOCKHOLM = {2020: 30.0, 2021: 36.0, 2022: 41.0, 2023: 47.0, 2024: 52.0}
DENSITY_SKIEN = {2022: 72.0, 2023: 72.4, 2024: 72.9}
PLACES = [("NO", "country", "NO", None, "Norge", None),
          ("NO-40", "county", "40", "NO", "Telemark", date(2024, 1, 1)),
          ("NO-4003", "municipality", "4003", "NO-40", "Skien", date(2024, 1, 1)),
          ("SE", "country", "SE", None, "Sverige", None),
          ("SE-0180", "municipality", "0180", "SE", "Stockholm", None)]


def add_series(instance: Bylab, kpi: str, place_id: str, series: dict[int, float],
               unit: str) -> None:
    rows = [{"kpi_code": kpi, "place_id": place_id, "period": str(year), "status": "computed",
             "value": value, "unit": unit, "reason": "", "dataset_ids": [], "provenance": {}}
            for year, value in series.items()]
    with instance.db.session() as session:
        session.execute(insert(IndicatorValue), rows)


def add_places_and_series(instance: Bylab) -> Bylab:
    with instance.db.session() as session:
        for place_id, level, code, parent, name, valid_from in PLACES:
            session.add(Place(id=place_id, country=place_id[:2], level=level, code=code,
                              code_scheme="kommunenummer", name=name, parent_id=parent,
                              valid_from=valid_from))
    add_series(instance, GHG, "NO-4003", GHG_SKIEN, "t / person")
    add_series(instance, DENSITY, "NO-4003", DENSITY_SKIEN, "person / kilometer ** 2")
    add_series(instance, EV_SHARE, "SE-0180", EV_STOCKHOLM, "percent")
    return instance


@pytest.fixture
def towns(embedded: Bylab) -> Bylab:
    return add_places_and_series(embedded)


@pytest.fixture
def towns_client(towns: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(towns), base_url="http://testserver") as client:
        yield client
