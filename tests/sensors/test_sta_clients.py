"""Real SensorThings client libraries from PyPI read bylab over HTTP."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import frost_sta_client as fsc
import pytest

from bylab.core import Bylab
from bylab.testing.server import running_server


@pytest.fixture
def sta_url(bylab: Bylab, stations: dict[str, int]) -> Iterator[str]:
    with running_server(bylab) as base_url:
        yield f"{base_url}/sta/v1.1"


# frost-sta-client calls a furl property furl itself deprecates.
@pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
def test_frost_client_pages_through_observations(sta_url: str,
                                                 stations: dict[str, int]) -> None:
    service = fsc.SensorThingsService(sta_url)
    things = list(service.things().query().list())
    assert [thing.name for thing in things] == ["Valand"]
    datastream = service.datastreams().find(stations["Valand/pm25"])
    assert datastream.name == "PM2.5 at Valand"
    assert datastream.unit_of_measurement.symbol == "µg/m³"
    # Pages of 10 joined by following @iot.nextLink.
    observations = list(datastream.get_observations().query()
                        .filter("phenomenonTime ge 2021-03-02T00:00:00Z and result lt 40")
                        .orderby("phenomenonTime", "asc").top(10).list())
    assert [observation.result for observation in observations] == [float(hour)
                                                                   for hour in range(24, 40)]


def test_stapy_reads_selected_values(sta_url: str, stations: dict[str, int]) -> None:
    with warnings.catch_warnings():  # stapy's fuzzy-matching dependency warns on import
        warnings.simplefilter("ignore")
        from stapy import Entity, Query
        from stapy.common.config import config
    config.set(STA_URL=sta_url + "/")
    query = (Query(Entity.Datastream).entity_id(stations["Valand/temperature"])
             .sub_entity(Entity.Observation).select("result").filter("result ge 45")
             .order("result", asc=False))
    assert query.get_data_sets() == [47.0, 46.0, 45.0]
    names = Query(Entity.Thing).select("name").get_data_sets()
    assert names == "Valand"
