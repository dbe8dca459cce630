"""The SensorThings harvester finds the Things it made by name and harvest source: a Thing of
another organisation holding the same name is neither taken nor changed."""

from __future__ import annotations

from sqlalchemy import select

from bylab.auth import actions as accounts
from bylab.connectors.models import RunStatus
from bylab.connectors.sources import SourceInput, source_create, source_get, source_run
from bylab.core import Bylab
from bylab.sensors.actions import thing_create
from bylab.sensors.models import Datastream, Thing
from tests.connectors.conftest import RecordedServer, serve_sta_station, sta_page


def test_a_namesake_of_another_organisation_is_left_alone(
        embedded: Bylab, recorded_server: RecordedServer) -> None:
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "acme", "Acme AS")
    namesake = thing_create(ctx, "molde-air/Valand", organisation="acme")
    root = "/sta/v1.1"
    serve_sta_station(recorded_server, root)
    recorded_server.serve(f"{root}/Datastreams(5)/Observations", sta_page([
        {"@iot.id": 1, "phenomenonTime": "2017-01-01T02:00:00Z", "result": 5.3}]))
    source_create(ctx, SourceInput(name="molde-sta", kind="sta",
                                   url=f"{recorded_server.base_url}{root}",
                                   organisation="molde", dataset="molde-air"))
    first = source_run(ctx, "molde-sta")
    assert (first.status, "1 new things, 1 new datastreams" in first.message) == (
        RunStatus.STORED, True), first.message
    again = source_run(ctx, "molde-sta")
    assert "0 new things, 0 new datastreams" in again.message, again.message
    source = source_get(ctx, "molde-sta")
    with ctx.db.session() as session:
        things = session.execute(select(Thing.id, Thing.organisation_id, Thing.source_id)
                                 .where(Thing.name == "molde-air/Valand")
                                 .order_by(Thing.id)).all()
        harvested_into = session.scalar(select(Datastream.thing_id).where(
            Datastream.key == "molde-air/5"))
    assert things == [(namesake.id, namesake.organisation_id, None),
                      (harvested_into, source.organisation_id, source.id)]
