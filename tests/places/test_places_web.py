from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab
from bylab.places.routes import router as places_router


@pytest.fixture(scope="module")
def places_client(places: Bylab) -> Iterator[httpx.Client]:
    """An in-process client over the instance with bundled places (read-only)."""
    with TestClient(create_app(places), base_url="http://testserver") as test_client:
        yield test_client


def test_api_search_filters(places_client: httpx.Client) -> None:
    found = places_client.get("/api/places", params={"q": "kristiansund"}).json()
    assert [place["id"] for place in found] == ["NO-1505"]
    assert found[0]["area_note"].startswith("approximate")
    lon, lat = found[0]["centroid"]
    assert 7 < lon < 8.5 and 62.8 < lat < 63.3
    region = places_client.get("/api/places", params={
        "parent": "NO-15", "valid_on": "2022-06-01", "limit": 200}).json()
    ids = {place["id"] for place in region}
    assert "NO-1507" in ids and "NO-1508" not in ids
    swedish_counties = places_client.get("/api/places", params={
        "country": "se", "level": "county", "limit": 100}).json()
    assert len(swedish_counties) == 21
    bad_level = places_client.get("/api/places", params={"level": "galaxy"})
    assert bad_level.status_code == 422


def test_api_place_and_boundary(places_client: httpx.Client) -> None:
    county = places_client.get("/api/places/NO-15").json()
    assert {"NO-1506", "NO-1508", "NO-1505", "NO-1507"} <= set(county["children"])
    assert county["boundary"] is None
    molde = places_client.get("/api/places/NO-1506", params={"boundary": "true"}).json()
    assert molde["boundary"]["type"] in {"Polygon", "MultiPolygon"}


def test_unknown_place_is_404(places_client: httpx.Client) -> None:
    for path in ("/api/places/NO-0000", "/api/places/NO-0000/history",
                 "/api/places/NO-0000/crosswalk?to=2024-01-01"):
        response = places_client.get(path)
        assert response.status_code == 404 and "NO-0000" in response.json()["error"]["message"]
    assert places_client.get("/places/NO-0000").status_code == 404


def test_api_history_and_crosswalk(places_client: httpx.Client) -> None:
    history = places_client.get("/api/places/NO-1507/history").json()
    assert {step["to_id"] for step in history["successors"]} == {"NO-1508", "NO-1580"}
    crosswalk = places_client.get("/api/places/NO-1507/crosswalk",
                                  params={"to": "2024-02-01"}).json()
    matches = {match["place"]["id"]: match for match in crosswalk["matches"]}
    assert set(matches) == {"NO-1508", "NO-1580"}
    assert all(match["split"] for match in matches.values())
    assert sum(match["share"] for match in matches.values()) == pytest.approx(1.0, abs=0.001)
    assert places_client.get("/api/places/NO-1507/crosswalk").status_code == 422


def test_geojson_for_maps(places_client: httpx.Client) -> None:
    params = {"parent": "NO-15", "level": "municipality", "valid_on": "2024-06-01"}
    full = places_client.get("/api/places.geojson", params=params)
    assert full.headers["content-type"].startswith("application/geo+json")
    collection = full.json()
    ids = {feature["id"] for feature in collection["features"]}
    assert {"NO-1506", "NO-1508", "NO-1505", "NO-1580"} <= ids and "NO-1507" not in ids
    assert len(ids) == 27  # Møre og Romsdal: 26 municipalities, then Haram split off in 2024
    before = places_client.get("/api/places.geojson", params={**params, "valid_on": "2023-06-01"})
    assert len(before.json()["features"]) == 26
    simplified = places_client.get("/api/places.geojson", params={**params, "simplify": 0.01})
    assert len(simplified.content) < 0.75 * len(full.content)
    assert places_client.get("/api/places.geojson", params={"simplify": 5}).status_code == 422


def test_api_routes_are_tagged_places() -> None:
    routes = {route.path: route for route in places_router.routes
              if isinstance(route, APIRoute)}
    api_paths = [path for path in routes if path.startswith("/api/places")]
    assert len(api_paths) == 5
    assert all(routes[path].tags == ["places"] for path in api_paths)
    assert not routes["/places/{place_id}"].include_in_schema


def test_places_page_defaults_to_more_og_romsdal(places_client: httpx.Client) -> None:
    page = places_client.get("/places")
    assert page.status_code == 200
    assert "Møre og Romsdal" in page.text and 'href="/places/NO-1506"' in page.text
    assert "NO-1507" not in page.text  # only today's municipalities
    assert "/static/vendor/leaflet/leaflet.js" in page.text
    searched = places_client.get("/places", params={"q": "alesund", "country": "NO"})
    assert "NO-1508" in searched.text and "NO-1507" in searched.text


def test_place_page_shows_map_history_and_parts(places_client: httpx.Client) -> None:
    page = places_client.get("/places/NO-1507").text
    assert 'href="/places/NO-1580"' in page and 'href="/places/NO-15"' in page
    assert "approximate" in page and "2024-01-01" in page
    start = page.index('id="place-boundary">') + len('id="place-boundary">')
    boundary = json.loads(page[start:page.index("</script>", start)])
    assert boundary["type"] in {"Polygon", "MultiPolygon"}
    assert "tile" not in page.lower()  # boundaries only, no tile server
    county = places_client.get("/places/NO-15").text
    assert 'href="/places/NO-1505"' in county
    assert places_client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


def test_place_page_lists_the_places_indicators(tmp_path) -> None:  # noqa: ANN001
    """With the demo loaded, a place page shows its computed KPIs with links to them."""
    from fastapi.testclient import TestClient

    from bylab.app import create_app
    from bylab.demo.loader import demo_load
    from bylab.testing.backends import embedded_instance

    instance = embedded_instance(tmp_path / "data")
    demo_load(instance)
    with TestClient(create_app(instance)) as client:
        porsgrunn = client.get("/places/NO-4001")
        powiat = client.get("/places/PL-powiat-114")
    instance.close()
    assert porsgrunn.status_code == 200
    assert "GHG Emissions" in porsgrunn.text and "/indicators/EN-EN-AQ-2C" in porsgrunn.text
    assert powiat.status_code == 200 and "0 / 91" in powiat.text
