"""The small catalogue the CKAN and DCAT tests share (this module holds no tests itself).

Molde's place row is built from the boundary bundled in bylab (real: Kartverket's division,
see src/bylab/demo/data/SOURCES.md). Versions are stored through ``dataset_add_version`` with
real rows cut from the bundled statistics and boundaries. The contact address is a
placeholder (example.org), not Molde's."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from shapely.geometry import shape

from bylab.auth.actions import actor_from_token
from bylab.catalog import publish
from bylab.catalog.metadata import DatasetMetadata
from bylab.core import Bylab, Context
from bylab.places.models import Place

DEMO_DATA = Path(__file__).resolve().parents[2] / "src" / "bylab" / "demo" / "data"


@dataclass
class SampleCatalogue:
    tokens: dict[str, str]  # API tokens by username (mia: molde, ola: alesund, ada: acme)
    public: tuple[str, ...] = ("molde-population", "molde-boundary", "molde-draft")
    shared: str = "molde-network"  # shared with the smart-molde network (molde and alesund)
    private: str = "molde-internal"


def user_context(bylab: Bylab, token: str) -> Context:
    return bylab.context(actor_from_token(bylab.context(), token))


@cache
def molde_boundary_feature() -> str:
    """Molde's feature from the bundled 2024 municipality boundaries, as GeoJSON text."""
    boundaries = json.loads(
        (DEMO_DATA / "boundaries" / "no_kommuner_2024_simplified.geojson").read_text())
    return json.dumps(next(feature for feature in boundaries["features"]
                           if feature["properties"]["kommunenummer"] == "1506"))


def add_molde_place(bylab: Bylab) -> Place:
    """Molde (NO-1506) with the centroid of its bundled 2024 boundary."""
    centroid = shape(json.loads(molde_boundary_feature())["geometry"]).centroid
    place = Place(id="NO-1506", country="NO", level="municipality", code="1506",
                  code_scheme="kommunenummer", name="Molde", names={"nb": "Molde"},
                  centroid_lon=round(centroid.x, 5), centroid_lat=round(centroid.y, 5))
    with bylab.db.session() as session:
        session.merge(place)
    return place


def _molde_population_csv(folder: Path) -> Path:
    """Molde's rows of the bundled SSB population table (real figures)."""
    source = DEMO_DATA / "statistics" / "no_population_municipalities_2024borders.csv"
    with source.open(encoding="utf-8") as table:
        rows = list(csv.reader(table))
    path = folder / "molde_population.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([rows[0], *(row for row in rows[1:] if row[0] == "1506")])
    return path


def _molde_boundary_geojson(folder: Path) -> Path:
    path = folder / "molde_boundary.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": [json.loads(molde_boundary_feature())]}))
    return path


def add_version(ctx: Context, name: str, source: Path) -> None:
    publish.dataset_add_version(ctx, name, source)


def build_sample(bylab: Bylab, tokens: dict[str, str], folder: Path) -> SampleCatalogue:
    """Public datasets with and without data, one shared with a network and one private."""
    add_molde_place(bylab)
    mia = user_context(bylab, tokens["mia"])
    publish.dataset_create(mia, DatasetMetadata(
        name="molde-population", organisation="molde", visibility="public",
        title={"en": "Population of Molde", "nb": "Befolkning i Molde"},
        description={"en": "Residents by year, sex and age group (Statistics Norway).",
                     "nb": "Innbyggere etter år, kjønn og aldersgruppe (SSB)."},
        themes=["SOCI", "REGI"], keywords=["population", "befolkning"], spatial=["NO-1506"],
        temporal_start=date(2005, 1, 1), temporal_end=date(2026, 1, 1), frequency="ANNUAL",
        contact_name="Molde kommune", contact_email="data@example.org",  # placeholder address
        landing_page="https://www.ssb.no/statbank/table/07459", licence_id="NLOD-2.0"))
    add_version(mia, "molde-population", _molde_population_csv(folder))
    publish.dataset_create(mia, DatasetMetadata(
        name="molde-boundary", organisation="molde", visibility="public",
        title={"nb": "Kommunegrense for Molde"}, themes=["REGI"], keywords=["boundary"],
        spatial=["NO-1506"]))
    add_version(mia, "molde-boundary", _molde_boundary_geojson(folder))
    publish.dataset_create(mia, DatasetMetadata(
        name="molde-draft", organisation="molde", visibility="public",
        title={"sv": "Utkast"}, themes=["GOVE"]))
    publish.dataset_create(mia, DatasetMetadata(
        name="molde-network", organisation="molde", visibility="shared",
        shared_with=["smart-molde"], title={"en": "Shared in the network"}, keywords=["shared"],
        themes=["SOCI"]))
    add_version(mia, "molde-network", _molde_population_csv(folder))
    publish.dataset_create(mia, DatasetMetadata(
        name="molde-internal", organisation="molde", visibility="private",
        title={"en": "Internal notes"}, themes=["GOVE"], keywords=["internal"]))
    return SampleCatalogue(tokens=tokens)
