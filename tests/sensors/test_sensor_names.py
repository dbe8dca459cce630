"""Names of Things, Sensors and ObservedProperties may repeat (OGC 18-088 asks no uniqueness);
where bylab finds a Thing by name, a name several hold is refused, naming their ids."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bylab.auth.actions import actor_from_token
from bylab.cli import app
from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from bylab.sensors.actions import Unit, datastream_create, thing_create
from bylab.sensors.models import Sensor, SensorVisibility, Thing
from tests.sensors.ets_sta import STA, get_ok, post

PM25 = Unit("microgram per cubic metre", "µg/m³")


@pytest.fixture
def sta(client: httpx.Client, accounts_setup: dict[str, str]) -> httpx.Client:
    """The in-process client, writing and reading as Molde's editor."""
    client.headers["Authorization"] = f"Bearer {accounts_setup['mia']}"
    return client


def located_thing(name: str) -> dict[str, object]:
    return {"name": name, "description": "a station",
            "Locations": [{"name": name, "description": "roof", "encodingType":
                           "application/geo+json",
                           "location": {"type": "Point", "coordinates": [7.16, 62.74]}}]}


def test_two_things_of_one_name_through_sensorthings(sta: httpx.Client) -> None:
    first = post(sta, "Things", located_thing("Sentrum"))
    second = post(sta, "Things", located_thing("Sentrum"))
    renamed = post(sta, "Things", located_thing("Torget"))
    patched = sta.patch(f"{STA}/Things({renamed})", json={"name": "Sentrum"})
    assert patched.status_code == 200, patched.text
    named = get_ok(sta, "Things", **{"$filter": "name eq 'Sentrum'", "$orderby": "id"})
    assert [thing["@iot.id"] for thing in named["value"]] == [first, second, renamed]


def test_sensors_and_properties_of_one_name_through_sensorthings(sta: httpx.Client) -> None:
    sensor = {"name": "Monitor", "description": "PM monitor", "encodingType": "text/plain",
              "metadata": "none"}
    observed = {"name": "PM2.5", "definition": "", "description": "fine dust"}
    for set_name, body in (("Sensors", sensor), ("ObservedProperties", observed)):
        ids = [post(sta, set_name, body), post(sta, set_name, body)]
        listed = get_ok(sta, set_name, **{"$filter": f"name eq '{body['name']}'"})
        assert sorted(entity["@iot.id"] for entity in listed["value"]) == ids


def test_each_thing_of_a_shared_name_gets_its_own_feature(sta: httpx.Client) -> None:
    """The default FeatureOfInterest is where its own Thing is, not a namesake's."""
    here, there = located_thing("Sentrum"), located_thing("Sentrum")
    there["Locations"][0]["location"]["coordinates"] = [6.15, 62.47]  # type: ignore[index]
    stream = {"name": "PM2.5", "description": "", "unitOfMeasurement": {"symbol": "µg/m³"},
              "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
                                 "OM_Measurement",
              "Sensor": {"@iot.id": post(sta, "Sensors", {
                  "name": "Monitor", "description": "", "encodingType": "text/plain",
                  "metadata": ""})},
              "ObservedProperty": {"@iot.id": post(sta, "ObservedProperties", {
                  "name": "PM2.5", "definition": "", "description": ""})}}
    features = []
    for thing in (here, there):
        datastream = post(sta, "Datastreams", {**stream, "Thing": {"@iot.id": post(
            sta, "Things", thing)}})
        observation = post(sta, f"Datastreams({datastream})/Observations",
                           {"phenomenonTime": "2021-03-01T00:00:00Z", "result": 1})
        features.append(get_ok(sta, f"Observations({observation})/FeatureOfInterest"))
    assert [feature["feature"]["coordinates"] for feature in features] == [
        [7.16, 62.74], [6.15, 62.47]]


def test_a_shared_name_is_refused_where_it_must_name_one_thing(
        bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    ctx = bylab.system_context()
    molde = thing_create(ctx, "Sentrum", organisation="molde")
    alesund = thing_create(ctx, "Sentrum", organisation="alesund")
    with pytest.raises(InvalidInput) as refused:
        datastream_create(ctx, "Sentrum", "Sentrum/pm25", "PM2.5", observed_property="PM2.5",
                          unit=PM25, sensor="Monitor")
    assert refused.value.field == "thing"
    assert str(refused.value) == (
        f"field 'thing': several things are named 'Sentrum' (ids {molde.id}, {alesund.id}): "
        "give the id of the one you mean")
    by_id = datastream_create(ctx, alesund.id, "Sentrum/pm25", "PM2.5",
                              observed_property="PM2.5", unit=PM25, sensor="Monitor")
    by_digits = datastream_create(ctx, str(molde.id), "Sentrum/no2", "NO2",
                                  observed_property="NO2", unit=PM25, sensor="Monitor")
    assert (by_id.thing_id, by_digits.thing_id) == (alesund.id, molde.id)


def test_a_name_only_others_may_see_is_not_found(
        bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    """An editor of Ålesund naming Molde's private "Sentrum" finds their own, not a clash."""
    ctx = bylab.system_context()
    thing_create(ctx, "Sentrum", organisation="molde", visibility=SensorVisibility.PRIVATE)
    own = thing_create(ctx, "Sentrum", organisation="alesund")
    ola = bylab.context(actor_from_token(bylab.context(), accounts_setup["ola"]))
    created = datastream_create(ola, "Sentrum", "Sentrum/pm25", "PM2.5",
                                observed_property="PM2.5", unit=PM25, sensor="Monitor")
    assert created.thing_id == own.id
    with pytest.raises(NotFound):
        datastream_create(ola, "Nowhere", "Nowhere/pm25", "PM2.5",
                          observed_property="PM2.5", unit=PM25, sensor="Monitor")


def test_thing_create_refuses_a_name_repeated_within_its_organisation(
        bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    ctx = bylab.system_context()
    thing_create(ctx, "Sentrum", organisation="molde")
    with pytest.raises(InvalidInput, match="a thing named 'Sentrum' exists already"):
        thing_create(ctx, "Sentrum", organisation="molde")
    assert thing_create(ctx, "Sentrum", organisation="alesund").name == "Sentrum"


def test_sensors_by_name_are_the_owners_first(bylab: Bylab, sta: httpx.Client) -> None:
    """``datastream_create`` links the owner's Sensor of that name made first, and makes one
    for an owner that has none."""
    ctx = bylab.system_context()
    sensor = {"name": "Monitor", "description": "", "encodingType": "text/plain",
              "metadata": ""}
    first, _second = post(sta, "Sensors", sensor), post(sta, "Sensors", sensor)  # Molde's
    thing_create(ctx, "Sentrum", organisation="molde")
    thing_create(ctx, "Torget", organisation="alesund")
    molde = datastream_create(ctx, "Sentrum", "Sentrum/pm25", "PM2.5",
                              observed_property="PM2.5", unit=PM25, sensor="Monitor")
    alesund = datastream_create(ctx, "Torget", "Torget/pm25", "PM2.5",
                                observed_property="PM2.5", unit=PM25, sensor="Monitor")
    again = datastream_create(ctx, "Torget", "Torget/no2", "NO2",
                              observed_property="NO2", unit=PM25, sensor="Monitor")
    with bylab.db.session() as session:
        alesund_sensor = session.get(Sensor, alesund.sensor_id)
        assert alesund_sensor is not None
        owner = session.scalar(select(Thing.organisation_id).where(Thing.name == "Torget"))
        assert (molde.sensor_id, alesund_sensor.organisation_id, again.sensor_id) == (
            first, owner, alesund.sensor_id)
    assert alesund.sensor_id not in {first, _second}


def test_cli_names_the_ids_of_a_shared_name_and_takes_an_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    runner = CliRunner()
    stream = ["--name", "PM2.5", "--property", "PM2.5", "--unit-name", "microgram per cubic "
              "metre", "--unit-symbol", "µg/m³"]
    assert runner.invoke(app, ["sensors", "thing-add", "Sentrum"]).exit_code == 0
    assert runner.invoke(app, ["sensors", "datastream-add", "Sentrum", "Sentrum/pm25",
                               *stream]).exit_code == 0
    again = runner.invoke(app, ["sensors", "thing-add", "Sentrum"])
    assert "a thing named 'Sentrum' exists already" in str(again.exception)

    from bylab.cli import open_bylab
    bylab = open_bylab()
    with bylab.db.session() as session:
        # as a SensorThings client may: a second Thing of the name
        session.add(Thing(name="Sentrum", description="", properties={},
                          visibility=SensorVisibility.PUBLIC))
        session.flush()
        ids = session.scalars(select(Thing.id).where(Thing.name == "Sentrum")
                              .order_by(Thing.id)).all()
    bylab.close()
    refused = runner.invoke(app, ["sensors", "datastream-add", "Sentrum", "Sentrum/no2",
                                  *stream])
    assert refused.exit_code != 0
    assert isinstance(refused.exception, InvalidInput)
    assert f"several things are named 'Sentrum' (ids {ids[0]}, {ids[1]})" in str(
        refused.exception)
    by_id = runner.invoke(app, ["sensors", "datastream-add", str(ids[1]), "Sentrum/no2",
                                *stream])
    assert by_id.exit_code == 0, by_id.output
    assert "Sentrum/no2" in by_id.stdout
