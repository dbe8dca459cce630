"""A Thing's page says where it stands now and, from its HistoricalLocations, where it stood
before, in a table and on its station map; only as visible as the Thing. In-process, on both
storage backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.sensors.actions import thing_create
from bylab.sensors.positions import thing_positions
from bylab.testing.server import running_server
from tests.conftest import PASSWORD
from tests.sensors.test_sta_history import _ok, _values
from tests.sensors.test_sta_write import _id_of, _station, _token
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

STA = "/sta/v1.1"


def _location(name: str, lon: float, lat: float) -> dict[str, object]:
    return {"name": name, "description": "Moved", "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [lon, lat]}}


def _earlier_rows(page: str) -> list[tuple[str, str, str]]:
    """(name, latitude, longitude) of each row of the earlier-locations table, in order."""
    table = re.search(r'<table class="earlier-locations">(.*?)</table>', page, re.S)
    assert table is not None, "no table of earlier locations"
    return re.findall(r'<th scope="row">([^<]*)</th>\s*<td class="num">([^<]*)</td>\s*'
                      r'<td class="num">([^<]*)</td>', table.group(1))


def _mapped(page: str) -> list[tuple[str, str]]:
    """(data-current, data-label) of every location the station map draws."""
    return re.findall(r"data-geometry='[^']*' data-current=\"(\w+)\" data-label=\"([^\"]*)\"",
                      page)


def test_a_thing_moved_twice_shows_both_earlier_locations_newest_first(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    thing_id = _id_of(_ok(client.post(f"{STA}/Things", json=_station("Pier station"),
                                      headers=mia)))
    unmoved = client.get(f"/sensors/{thing_id}", headers=mia).text
    assert "Harbour" in unmoved and "latitude 62.73000, longitude 7.16000" in unmoved
    assert "earlier-locations" not in unmoved and "Earlier locations" not in unmoved
    assert [current for current, _ in _mapped(unmoved)] == ["true"]
    for name, lon, lat in (("Quay 5", 7.17, 62.74), ("Fish market", 7.15, 62.735)):
        location_id = _id_of(_ok(client.post(f"{STA}/Locations", json=_location(name, lon, lat),
                                             headers=mia)))
        _ok(client.patch(f"{STA}/Things({thing_id})", headers=mia,
                         json={"Locations": [{"@iot.id": location_id}]}))
    assert len(_values(client, f"Things({thing_id})/HistoricalLocations", mia)) == 3

    page = client.get(f"/sensors/{thing_id}", headers=mia)
    assert page.status_code == 200
    current = page.text.split('<ul class="current-location">')[1].split("</ul>")[0]
    assert "Fish market" in current and "latitude 62.73500, longitude 7.15000" in current
    assert "Here since" in page.text
    assert _earlier_rows(page.text) == [("Quay 5", "62.74000", "7.17000"),
                                        ("Harbour", "62.73000", "7.16000")]
    mapped = _mapped(page.text)
    assert [current for current, _ in mapped] == ["true", "false", "false"]
    assert mapped[0][1] == "Fish market, now"
    assert [label.split(",")[0] for _, label in mapped[1:]] == ["Quay 5", "Harbour"]
    assert "/static/vendor/leaflet/leaflet.js" in page.text and 'id="station-map"' in page.text


def test_one_position_shows_no_history_and_private_things_stay_hidden(
        bylab: Bylab, client: httpx.Client, stations: dict[str, int],
        accounts_setup: dict[str, str]) -> None:
    """Valand has one position: no history section, its coordinates in the page's language.
    A Thing without a Location has no location section. Hidden (private to Molde) stays
    hidden, history and all, from visitors outside Molde."""
    portable = thing_create(bylab.system_context(), "Portable").id
    assert "station-positions" not in client.get(f"/sensors/{portable}").text
    (valand,) = _values(client, "Things", **{"$filter": "name eq 'Valand'"})
    page = client.get(f"/sensors/{valand['@iot.id']}", params={"lang": "pl"}).text
    assert "58,97000" in page and "5,73000" in page  # Polish decimal commas
    assert "earlier-locations" not in page
    mia = _token(accounts_setup, "mia")
    hidden = next(h["Thing"]["@iot.id"] for h in _values(
        client, "HistoricalLocations", mia, **{"$expand": "Thing"})
        if h["Thing"]["name"] == "Hidden")
    assert client.get(f"/sensors/{hidden}").status_code == 404
    assert "62.74000" in client.get(f"/sensors/{hidden}", headers=mia,
                                    params={"lang": "en"}).text


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def test_each_position_runs_until_the_next_and_an_unlinked_thing_has_no_current_one(
        bylab: Bylab, client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    thing_id = _id_of(_ok(client.post(f"{STA}/Things", json=_station(), headers=mia)))
    harbour = _values(client, f"Things({thing_id})/Locations", mia)[0]["@iot.id"]
    _ok(client.post(f"{STA}/HistoricalLocations", headers=mia, json={
        "time": "2015-03-01T00:40:00Z", "Thing": {"@iot.id": thing_id},
        "Locations": [{"@iot.id": harbour}]}))
    ctx = bylab.system_context()
    positions = thing_positions(ctx, thing_id)
    assert positions.current is not None and positions.current.until is None
    (earlier,) = positions.earlier
    assert _utc(earlier.since) == datetime(2015, 3, 1, 0, 40, tzinfo=UTC)
    assert earlier.until == positions.current.since
    assert [location.name for location in earlier.locations] == ["Harbour"]

    _ok(client.patch(f"{STA}/Things({thing_id})", headers=mia, json={"Locations": []}))
    unlinked = thing_positions(ctx, thing_id)
    assert unlinked.current is None
    assert [(_utc(p.since), _utc(p.until)) for p in unlinked.earlier] == [
        (_utc(positions.current.since), None),
        (datetime(2015, 3, 1, 0, 40, tzinfo=UTC), _utc(positions.current.since))]
    page = client.get(f"/sensors/{thing_id}", headers=mia).text
    assert "current-location" not in page and len(_earlier_rows(page)) == 2
    assert [current for current, _ in _mapped(page)] == ["false", "false"]


@pytest.mark.browser
def test_the_station_map_draws_the_current_and_earlier_locations(
        browser: Browser, embedded: Bylab) -> None:  # noqa: F811
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    mia = {"Authorization": f"Bearer {accounts.token_create(ctx, 'tests', 'mia')}"}
    thing_id = thing_create(ctx, "Pier station", organisation="molde", coordinates=(7.16, 62.73),
                            location_name="Harbour", place_id="NO-1506").id
    with running_server(embedded) as base_url, httpx.Client(base_url=base_url) as api:
        for name, lon, lat in (("Quay 5", 7.17, 62.74), ("<b>Fish</b> market", 7.15, 62.735)):
            location_id = _id_of(_ok(api.post(f"{STA}/Locations", headers=mia,
                                              json=_location(name, lon, lat))))
            _ok(api.patch(f"{STA}/Things({thing_id})", headers=mia,
                          json={"Locations": [{"@iot.id": location_id}]}))
        context = browser.new_context(base_url=base_url, locale="en-GB")
        context.set_default_timeout(10_000)
        page = context.new_page()
        script_errors: list[str] = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        page.goto(f"/sensors/{thing_id}")
        expect(page.locator("#station-map path.station-current")).to_have_count(1)
        expect(page.locator("#station-map path.station-earlier")).to_have_count(2)
        line = page.locator("#station-map path.station-path")
        expect(line).to_have_count(1)
        assert (line.get_attribute("d") or "").count("L") == 2  # three stops, one line
        page.locator("#station-map path.station-current").hover()
        expect(page.locator(".leaflet-tooltip")).to_have_text("<b>Fish</b> market, now")
        context.close()
    assert script_errors == []
