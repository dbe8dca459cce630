"""Norway's municipalities and counties in the 2020 and 2024 divisions, and the changes
between them, derived from the bundled boundaries.

A municipality or county whose code is the same in both divisions is one place, valid from
2020-01-01 with no end (its 2024 name and boundary are stored). A code found only in 2020 is
valid 2020-01-01 to 2024-01-01; a code found only in 2024 is valid from 2024-01-01. The start
dates say which division the sources cover, not when a municipality was founded.

What the derivation can and cannot tell:

* It sees only the 2020 -> 2024 step, so changes before 2020 (such as the 2020 mergers that
  made Molde 1506 or Ålesund 1507) are unknown until official KLASS tables are imported.
* Each code that disappeared is matched to the 2024 places its area overlaps (geodesic
  area of the intersection). The two files were simplified differently, so every border has
  slivers of 0.5-2 % of an area; overlaps under ``MIN_SHARE`` are dropped as noise and the
  rest are scaled to sum to 1. A real transfer of less than 5 % of an area is thus invisible,
  and so are border adjustments between municipalities whose codes stayed the same.
* One old code covering one new code is a renumbering; one old code spread over several new
  ones is a split (Ålesund 1507 -> Ålesund 1508 + Haram 1580, with area shares); several old
  codes landing in one new code is a merger (none happened in 2024). Names confirm
  renumberings; a name that changed is noted on the change.
* The population file on 2024 borders (SSB via FHI) independently agrees: renumbered codes
  have every year back to 2005, flagged "summed from former municipalities" for 2023 (the
  year re-coded from the old number), while split results have no data before 2024. The
  tests check this; they cannot check the area shares, which no bundled source states.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from bylab.catalog.queries import fold_text
from bylab.places.boundaries import BoundaryFeature, overlap_shares, read_features, union
from bylab.places.models import ChangeKind, PlaceLevel
from bylab.places.records import DERIVED_SOURCE, ChangeRecord, PlaceRecord, place_id_for

DIVISION_2020 = date(2020, 1, 1)
DIVISION_2024 = date(2024, 1, 1)
MIN_SHARE = 0.05
MUNICIPALITIES_2024 = "no_kommuner_2024_simplified.geojson"
MUNICIPALITIES_2020 = "no_kommuner_2020_simplified.geojson"
COUNTIES_2024 = "no_fylker_2024_simplified.geojson"
ATTRIBUTION = "© Kartverket, CC BY 4.0"

# Public facts: the two 2020 municipalities the simplified 2020 file dropped, and the names of
# the three 2020-2023 counties that no longer exist (official names, with the Sami forms).
MUNICIPALITIES_2020_WITHOUT_GEOMETRY = {"1144": "Kvitsøy", "1835": "Træna"}
COUNTY_NAMES_2020_ONLY = {
    "30": "Viken",
    "38": "Vestfold og Telemark",
    "54": "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku",
}


@dataclass(frozen=True)
class Unit:
    """A code in one division: its name and boundary (None where the source has none)."""

    code: str
    name: str
    geometry: BaseGeometry | None


@dataclass
class NorwayDivisions:
    places: list[PlaceRecord] = field(default_factory=list)
    changes: list[ChangeRecord] = field(default_factory=list)


def norway_divisions(boundaries_dir: Path) -> NorwayDivisions:
    """Norway's places (country, counties, municipalities, 2020 and 2024) and derived changes."""
    municipalities_2024 = _units(read_features(boundaries_dir / MUNICIPALITIES_2024),
                                 "kommunenummer", "name")
    municipalities_2020 = _units(read_features(boundaries_dir / MUNICIPALITIES_2020),
                                 "kommunenummer", "navn")
    for code, name in MUNICIPALITIES_2020_WITHOUT_GEOMETRY.items():
        municipalities_2020.setdefault(code, Unit(code, name, None))
    counties_2024 = _units(read_features(boundaries_dir / COUNTIES_2024), "fylkesnummer", "name")
    counties_2020 = _counties_2020(municipalities_2020, counties_2024)

    municipality_files = f"{MUNICIPALITIES_2020}, {MUNICIPALITIES_2024} ({ATTRIBUTION})"
    county_files = f"{COUNTIES_2024}; 2020 counties: union of {MUNICIPALITIES_2020}"
    result = NorwayDivisions()
    result.places.append(PlaceRecord(
        id="NO", country="NO", level=PlaceLevel.COUNTRY, code="NO", code_scheme="iso3166-1",
        name="Norge", names={"no": "Norge", "en": "Norway"}, source="ISO 3166-1",
    ))
    result.places += _division_places(counties_2020, counties_2024, PlaceLevel.COUNTY,
                                      "fylkesnummer", county_files)
    result.places += _division_places(municipalities_2020, municipalities_2024,
                                      PlaceLevel.MUNICIPALITY, "kommunenummer",
                                      municipality_files)
    result.changes += derive_changes(counties_2020, counties_2024, DIVISION_2024)
    result.changes += derive_changes(municipalities_2020, municipalities_2024, DIVISION_2024)
    return result


def _units(features: list[BoundaryFeature], code_key: str, name_key: str) -> dict[str, Unit]:
    units = {}
    for feature in features:
        code = str(feature.properties[code_key]).zfill(4 if "kommune" in code_key else 2)
        units[code] = Unit(code, str(feature.properties[name_key]), feature.geometry)
    return units


def _counties_2020(
    municipalities_2020: dict[str, Unit], counties_2024: dict[str, Unit]
) -> dict[str, Unit]:
    """The 2020 counties: by code prefix of the 2020 municipalities. A county whose code lives
    on in 2024 keeps its 2024 name and boundary; the others are the union of their
    municipalities."""
    codes = sorted({code[:2] for code in municipalities_2020})
    counties = {}
    for code in codes:
        if code in counties_2024:
            counties[code] = counties_2024[code]
            continue
        parts = [unit.geometry for unit in municipalities_2020.values()
                 if unit.code.startswith(code) and unit.geometry is not None]
        counties[code] = Unit(code, COUNTY_NAMES_2020_ONLY[code], union(parts))
    return counties


def _division_places(
    units_2020: dict[str, Unit],
    units_2024: dict[str, Unit],
    level: PlaceLevel,
    code_scheme: str,
    source: str,
) -> list[PlaceRecord]:
    places = []
    for code in sorted(set(units_2020) | set(units_2024)):
        unit = units_2024.get(code) or units_2020[code]
        in_2020, in_2024 = code in units_2020, code in units_2024
        places.append(PlaceRecord(
            id=place_id_for("NO", code),
            country="NO",
            level=level,
            code=code,
            code_scheme=code_scheme,
            name=unit.name,
            names={"no": unit.name},
            parent_id="NO" if level == PlaceLevel.COUNTY else place_id_for("NO", code[:2]),
            valid_from=DIVISION_2020 if in_2020 else DIVISION_2024,
            valid_to=None if in_2024 else DIVISION_2024,
            lau_code=code if level == PlaceLevel.MUNICIPALITY else None,
            geometry=unit.geometry,
            source=f"bundled: {source}",
        ))
    return places


def derive_changes(
    before: dict[str, Unit], after: dict[str, Unit], effective: date
) -> list[ChangeRecord]:
    """Changes from the codes that disappeared to the places their areas went to."""
    targets = {code: unit.geometry for code, unit in after.items() if unit.geometry is not None}
    shares_by_old = {
        code: _normalised(overlap_shares(unit.geometry, targets, MIN_SHARE))
        for code, unit in sorted(before.items())
        if code not in after and unit.geometry is not None
    }
    sources_per_new = Counter(new for shares in shares_by_old.values() for new in shares)
    changes = []
    for old_code, shares in shares_by_old.items():
        for new_code, share in shares.items():
            kind = _kind(len(shares), sources_per_new[new_code])
            changes.append(ChangeRecord(
                from_id=place_id_for("NO", old_code),
                to_id=place_id_for("NO", new_code),
                kind=kind,
                effective=effective,
                source=DERIVED_SOURCE,
                area_share=share,
                note=_name_note(before[old_code].name, after[new_code].name, kind),
            ))
    return changes


def _normalised(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {code: round(share / total, 4) for code, share in shares.items()} if total else {}


def _kind(successors: int, predecessors: int) -> ChangeKind:
    if successors > 1:
        return ChangeKind.SPLIT
    if predecessors > 1:
        return ChangeKind.MERGED
    return ChangeKind.RENUMBERED


def _name_note(old_name: str, new_name: str, kind: ChangeKind) -> str:
    """Derived from boundary overlap; for a renumbering, says whether the names agree."""
    base = "derived from the overlap of the 2020 and 2024 boundaries"
    if kind != ChangeKind.RENUMBERED or names_match(old_name, new_name):
        return base
    return f"{base}; name changed from {old_name} to {new_name}"


def names_match(first: str, second: str) -> bool:
    """True when two names share a form ('Karasjok' and 'Kárášjohka - Karasjok' do)."""
    first_forms = {fold_text(part.strip()) for part in first.split(" - ")}
    second_forms = {fold_text(part.strip()) for part in second.split(" - ")}
    return bool(first_forms & second_forms)
