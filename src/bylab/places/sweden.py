"""Sweden's 290 municipalities (kommuner, SCB kommunkod) and 21 counties (län)."""

from __future__ import annotations

import csv
from pathlib import Path

from bylab.places.boundaries import read_features
from bylab.places.models import PlaceLevel
from bylab.places.records import PlaceRecord, place_id_for

MUNICIPALITIES = "se_kommuner_simplified.geojson"
COUNTIES = "se_lan_simplified.geojson"
SCB_CODES = "se_municipalities_counties_scb_2023.csv"


def sweden_places(boundaries_dir: Path, statistics_dir: Path) -> list[PlaceRecord]:
    """The country, its län (names from SCB's 2023 code list) and its kommuner.

    Validity dates stay empty: the sources do not say since when the division holds."""
    county_names = _scb_county_names(statistics_dir / SCB_CODES)
    places = [PlaceRecord(
        id="SE", country="SE", level=PlaceLevel.COUNTRY, code="SE", code_scheme="iso3166-1",
        name="Sverige", names={"sv": "Sverige", "en": "Sweden"}, source="ISO 3166-1",
    )]
    for feature in read_features(boundaries_dir / COUNTIES):
        code = str(feature.properties["l_id"]).zfill(2)
        name = county_names.get(code, str(feature.properties["name"]))
        places.append(PlaceRecord(
            id=place_id_for("SE", code), country="SE", level=PlaceLevel.COUNTY, code=code,
            code_scheme="lanskod", name=name, names={"sv": name}, parent_id="SE",
            geometry=feature.geometry, source=f"bundled: {COUNTIES}; names: {SCB_CODES}",
        ))
    for feature in read_features(boundaries_dir / MUNICIPALITIES):
        code = str(feature.properties["id"]).zfill(4)
        name = str(feature.properties["kom_namn"])
        places.append(PlaceRecord(
            id=place_id_for("SE", code), country="SE", level=PlaceLevel.MUNICIPALITY, code=code,
            code_scheme="kommunkod", name=name, names={"sv": name},
            parent_id=place_id_for("SE", str(feature.properties["lan_code"]).zfill(2)),
            lau_code=code, geometry=feature.geometry, source=f"bundled: {MUNICIPALITIES}",
        ))
    return places


def _scb_county_names(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as scb_file:
        return {row["county_code"]: row["county_name"] for row in csv.DictReader(scb_file)}
