"""Poland's 16 voivodeships (województwa, TERYT codes) and 380 counties (powiaty).

The powiat boundaries carry no TERYT code, only a sequential id of the source file. We do not
invent codes: a powiat keeps that id, under a code scheme that names the source, and its id is
``PL-powiat-<source id>`` so it can never be mistaken for a TERYT code. Its voivodeship is the
one containing a point inside the powiat (both files come from GUGiK's PRG)."""

from __future__ import annotations

from pathlib import Path


from bylab.places.boundaries import BoundaryFeature, read_features
from bylab.places.models import PlaceLevel
from bylab.places.records import PlaceRecord, place_id_for

VOIVODESHIPS = "pl_wojewodztwa_2025_simplified.geojson"
POWIATY = "pl_powiaty_simplified.geojson"
POWIAT_CODE_SCHEME = "source-id:ppatrzyk/polska-geojson"


def powiat_place_id(source_id: str) -> str:
    return f"PL-powiat-{source_id}"


def poland_places(boundaries_dir: Path) -> list[PlaceRecord]:
    """The country, its voivodeships and its powiaty."""
    places = [PlaceRecord(
        id="PL", country="PL", level=PlaceLevel.COUNTRY, code="PL", code_scheme="iso3166-1",
        name="Polska", names={"pl": "Polska", "en": "Poland"}, source="ISO 3166-1",
    )]
    voivodeships = read_features(boundaries_dir / VOIVODESHIPS)
    for feature in voivodeships:
        code = str(feature.properties["JPT_KOD_JE"])
        name = str(feature.properties["JPT_NAZWA_"])
        places.append(PlaceRecord(
            id=place_id_for("PL", code), country="PL", level=PlaceLevel.COUNTY, code=code,
            code_scheme="teryt", name=name, names={"pl": name}, parent_id="PL",
            geometry=feature.geometry, source=f"bundled: {VOIVODESHIPS} (GUGiK PRG)",
        ))
    for feature in read_features(boundaries_dir / POWIATY):
        source_id = str(feature.properties["id"])
        name = str(feature.properties["nazwa"])
        places.append(PlaceRecord(
            id=powiat_place_id(source_id), country="PL", level=PlaceLevel.DISTRICT,
            code=source_id, code_scheme=POWIAT_CODE_SCHEME, name=name, names={"pl": name},
            parent_id=_containing_voivodeship(feature, voivodeships),
            geometry=feature.geometry, source=f"bundled: {POWIATY} (GUGiK PRG, 2019)",
        ))
    return places


def _containing_voivodeship(
    powiat: BoundaryFeature, voivodeships: list[BoundaryFeature]
) -> str | None:
    inside = powiat.geometry.representative_point()
    for voivodeship in voivodeships:
        if voivodeship.geometry.contains(inside):
            return place_id_for("PL", str(voivodeship.properties["JPT_KOD_JE"]))
    return None
