"""Real SensorThings client libraries from PyPI read bylab over HTTP."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import frost_sta_client as fsc
import pytest
from geojson import Point
from requests import PreparedRequest

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


class _BearerToken(fsc.service.auth_handler.AuthHandler):
    """frost-sta-client sends what ``add_auth_header`` returns as requests' ``auth``."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def add_auth_header(self) -> Callable[[PreparedRequest], PreparedRequest]:
        def sign(request: PreparedRequest) -> PreparedRequest:
            request.headers["Authorization"] = f"Bearer {self.token}"
            return request
        return sign


@pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
def test_frost_client_creates_updates_and_deletes(sta_url: str, stations: dict[str, int],
                                                  accounts_setup: dict[str, str]) -> None:
    service = fsc.SensorThingsService(sta_url, auth_handler=_BearerToken(accounts_setup["mia"]))
    location = fsc.Location(name="Moldegård", description="Roof",
                            encoding_type="application/geo+json",
                            location=Point((7.18, 62.74)))
    sensor = fsc.Sensor(name="Molde NO2 monitor", description="Chemiluminescence",
                        encoding_type="text/plain", metadata="none")
    observed = fsc.ObservedProperty(name="Molde NO2", definition="urn:no2",
                                    description="Nitrogen dioxide")
    datastream = fsc.Datastream(
        name="NO2 at Moldegård", description="Hourly NO2",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=fsc.UnitOfMeasurement(name="microgram per cubic metre",
                                                  symbol="µg/m³", definition="ucum"),
        sensor=sensor, observed_property=observed)
    thing = fsc.Thing(name="Moldegård", description="Air quality", locations=[location],
                      datastreams=[datastream])
    service.create(thing)  # deep insert: the id comes back in the Location header
    stored = service.things().find(thing.id)
    assert stored.name == "Moldegård"
    (stream,) = list(stored.get_datastreams().query().list())
    observation = fsc.Observation(result=17.0, phenomenon_time="2024-05-01T10:00:00Z",
                                  datastream=stream)
    service.create(observation)
    found = service.observations().find(observation.id)
    assert found.result == 17.0

    stored.description = "Air quality, moved to the roof"
    service.update(stored)
    assert service.things().find(thing.id).description == "Air quality, moved to the roof"

    service.delete(observation)
    assert list(stream.get_observations().query().list()) == []
    service.delete(stored)
    with pytest.raises(fsc.service.sensorthingsservice.requests.exceptions.HTTPError):
        service.things().find(thing.id)
    anonymous = fsc.SensorThingsService(sta_url)
    with pytest.raises(fsc.service.sensorthingsservice.requests.exceptions.HTTPError):
        anonymous.create(fsc.Thing(name="Nobody's", description=""))
