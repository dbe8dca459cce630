from __future__ import annotations

from datetime import date

import pytest

from bylab.core import Bylab
from bylab.errors import NotAuthorized, NotFound
from bylab.places.loading import LoadReport, places_load_bundled
from bylab.places.queries import place_children, place_search, place_show

BEFORE_2024 = date(2023, 12, 31)
FROM_2024 = date(2024, 1, 1)


def _count(bylab: Bylab, country: str, level: str, valid_on: date | None = None) -> int:
    return len(place_search(bylab.context(), country=country, level=level, valid_on=valid_on,
                            limit=10_000))


def test_counts_per_country_level_and_division(places: Bylab) -> None:
    assert _count(places, "NO", "municipality", FROM_2024) == 357
    assert _count(places, "NO", "municipality", BEFORE_2024) == 356
    assert _count(places, "NO", "municipality", date(2020, 1, 1)) == 356
    assert _count(places, "NO", "county", FROM_2024) == 15
    assert _count(places, "NO", "county", BEFORE_2024) == 11
    assert _count(places, "SE", "municipality") == 290
    assert _count(places, "SE", "county") == 21
    assert _count(places, "PL", "county") == 16
    assert _count(places, "PL", "district") == 380
    # 2020 and 2024 share 242 unchanged municipality codes: one row each, not two.
    assert _count(places, "NO", "municipality") == 357 + 356 - 242


def test_default_region_municipalities(places: Bylab) -> None:
    ctx = places.context()
    expected = {"NO-1506": "Molde", "NO-1508": "Ålesund", "NO-1505": "Kristiansund"}
    for place_id, name in expected.items():
        place = place_show(ctx, place_id)
        assert (place.name, place.parent_id, place.level) == (name, "NO-15", "municipality")
        assert place.lau_code == place.code == place_id[3:]
        assert place.code_scheme == "kommunenummer"
        assert place.valid_to is None
        assert 62 < place.centroid_lat < 63.5 and 6 < place.centroid_lon < 8.5
    # Molde and Kristiansund kept their codes in 2024: one place valid since the 2020 division.
    assert place_show(ctx, "NO-1506").valid_from == date(2020, 1, 1)
    assert place_show(ctx, "NO-1508").valid_from == FROM_2024
    former = place_show(ctx, "NO-1507")
    assert (former.valid_from, former.valid_to, former.parent_id) == (
        date(2020, 1, 1), FROM_2024, "NO-15")
    county = place_show(ctx, "NO-15")
    assert county.name == "Møre og Romsdal" and county.parent_id == "NO"
    current = {child.id for child in place_children(ctx, "NO-15", FROM_2024)}
    assert {"NO-1506", "NO-1508", "NO-1505", "NO-1580"} <= current and "NO-1507" not in current


def test_areas_are_geodesic_and_plausible(places: Bylab) -> None:
    # Official figures (SSB / Kartverket): Molde about 1,505 km², mainland Norway about
    # 323,800 km². The bundled boundaries are simplified, so we allow a few per cent.
    molde = place_show(places.context(), "NO-1506")
    assert molde.area_km2 == pytest.approx(1505, rel=0.05)
    municipalities = place_search(places.context(), country="NO", level="municipality",
                                  valid_on=FROM_2024, limit=1000)
    total_km2 = sum(place.area_km2 or 0 for place in municipalities)
    assert total_km2 == pytest.approx(323_800, rel=0.015)


def test_former_counties_are_unions_of_their_municipalities(places: Bylab) -> None:
    ctx = places.context()
    viken = place_show(ctx, "NO-30")
    assert viken.name == "Viken" and viken.valid_to == FROM_2024
    parts = place_children(ctx, "NO-30")
    assert len(parts) == 51 and all(part.id.startswith("NO-30") for part in parts)
    assert viken.area_km2 == pytest.approx(sum(part.area_km2 for part in parts), rel=0.01)
    assert place_show(ctx, "NO-3101").parent_id == "NO-31"


def test_sweden_and_poland(places: Bylab) -> None:
    ctx = places.context()
    stockholm = place_show(ctx, "SE-0180")
    assert (stockholm.name, stockholm.parent_id, stockholm.lau_code) == (
        "Stockholm", "SE-01", "0180")
    assert place_show(ctx, "SE-01").name == "Stockholms län"
    assert place_show(ctx, "PL-30").code_scheme == "teryt"
    poznan = place_search(ctx, "powiat poznan", country="PL")
    assert [place.name for place in poznan] == ["powiat Poznań", "powiat poznański"]
    # No TERYT in the source: the code is the source id, and the scheme says so.
    assert all(place.code_scheme.startswith("source-id:") for place in poznan)
    assert {place.parent_id for place in poznan} == {"PL-30"}  # wielkopolskie


def test_search_folds_accents_and_prefers_current_places(places: Bylab) -> None:
    found = [place.id for place in place_search(places.context(), "alesund", country="NO")]
    assert found == ["NO-1508", "NO-1507"]
    assert place_search(places.context(), "1506")[0].id == "NO-1506"
    assert [p.id for p in place_search(places.context(), "Træna")] == ["NO-1835"]
    with pytest.raises(NotFound):
        place_show(places.context(), "NO-9999")


def test_load_report(loaded_places: tuple[Bylab, LoadReport]) -> None:
    report = loaded_places[1]
    assert report.created == sum(report.places_by_kind.values())
    assert report.places_by_kind["PL district"] == 380
    assert report.changes_derived > 100 and report.seconds < 30


def test_only_a_sysadmin_loads(embedded: Bylab) -> None:
    with pytest.raises(NotAuthorized):
        places_load_bundled(embedded.context())


def test_load_is_idempotent_on_each_backend(bylab: Bylab, client) -> None:  # noqa: ANN001
    empty_page = client.get("/places")
    assert empty_page.status_code == 200 and "bylab places load" in empty_page.text
    messages: list[str] = []
    first = places_load_bundled(bylab.system_context(), progress=messages.append)
    again = places_load_bundled(bylab.system_context())
    assert messages and "places created" in messages[-1]
    assert (again.created, again.updated) == (0, first.created)
    assert again.changes_derived == first.changes_derived
    municipalities = client.get("/api/places", params={
        "country": "NO", "level": "municipality", "valid_on": "2024-01-01", "limit": 2000})
    assert len(municipalities.json()) == 357
    molde = client.get("/api/places/NO-1506").json()
    assert molde["names"] == {"no": "Molde"} and molde["valid_from"] == "2020-01-01"
    history = client.get("/api/places/NO-1580/history").json()
    assert [(step["from_id"], step["kind"]) for step in history["predecessors"]] == [
        ("NO-1507", "split")]
