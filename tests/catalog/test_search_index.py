"""Catalogue search through the text index (SQLite FTS5 trigram table, PostgreSQL pg_trgm):
it follows every write, keeps substring and accent-folded matching, counts right on every
page, and the exact filters and facets are answered by the database, on both backends.

The datasets below are hand-written records with made-up titles; they hold no data."""

from __future__ import annotations

import pytest

from bylab.auth.actions import actor_from_token
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_create, dataset_delete, dataset_publish, dataset_update
from bylab.catalog.queries import DatasetFacet, DatasetQuery, dataset_facets, dataset_search
from bylab.core import Bylab, Context
from tests.conftest import TEST_DATA

POPULATION = TEST_DATA / "catalog" / "no_population_molde_region_cp1252.csv"


@pytest.fixture
def mia(bylab: Bylab, accounts_setup: dict[str, str]) -> Context:
    return bylab.context(actor_from_token(bylab.context(), accounts_setup["mia"]))


def _create(ctx: Context, name: str, title: str, **metadata: object) -> None:
    fields: dict[str, object] = {"organisation": "molde", "visibility": "public", **metadata}
    dataset_create(ctx, DatasetMetadata(name=name, title={"en": title}, **fields))


def _names(ctx: Context, **query: object) -> list[str]:
    query = {"sort": "name asc", "rows": 100, **query}
    page = dataset_search(ctx, DatasetQuery(**query))  # type: ignore[arg-type]
    assert page.count == len(page.datasets)
    return [dataset.name for dataset in page.datasets]


def test_search_index_follows_every_write(bylab: Bylab, mia: Context) -> None:
    _create(mia, "noise-map", "Støykart for Ålesund sentrum")
    _create(mia, "bus-stops", "Bus stops", keywords=["transport"])
    anonymous = bylab.context()
    assert _names(anonymous, text="alesund") == ["noise-map"]  # accents folded
    assert _names(anonymous, text="ÅLESUND støy") == ["noise-map"]
    assert _names(anonymous, text="lesun") == ["noise-map"]  # inside a word
    assert _names(anonymous, text="ka") == ["noise-map"]  # shorter than a trigram
    assert _names(anonymous, text="stops transport") == ["bus-stops"]
    assert _names(anonymous, text="stops alesund") == []  # every word must match
    assert _names(anonymous, text='100% "quoted"') == []
    dataset_update(mia, "noise-map", DatasetMetadata(
        name="noise-map", title={"en": "Noise map of Molde"}, organisation="molde",
        visibility="public"))
    assert _names(anonymous, text="alesund") == []
    assert _names(anonymous, text="molde noise") == ["noise-map"]
    dataset_delete(mia, "noise-map")
    assert _names(anonymous, text="noise") == []
    assert _names(anonymous) == ["bus-stops"]


def test_private_matches_stay_hidden(bylab: Bylab, mia: Context) -> None:
    _create(mia, "open-roads", "Road works")
    _create(mia, "internal-roads", "Road works (internal)", visibility="private")
    assert _names(bylab.context(), text="road works") == ["open-roads"]
    assert _names(mia, text="road works") == ["internal-roads", "open-roads"]


@pytest.mark.parametrize("text", ["", "dataset"])
def test_count_on_every_page(bylab: Bylab, mia: Context, text: str) -> None:
    for number in range(5):
        _create(mia, f"set-{number}", f"Test dataset {number}")
    anonymous = bylab.context()

    def page(rows: int, start: int) -> tuple[int, list[str]]:
        found = dataset_search(anonymous, DatasetQuery(text=text, sort="name asc", rows=rows,
                                                       start=start))  # type: ignore[arg-type]
        return found.count, [dataset.name for dataset in found.datasets]

    assert page(2, 0) == (5, ["set-0", "set-1"])  # a full page
    assert page(2, 4) == (5, ["set-4"])  # the last, short page
    assert page(5, 0) == (5, [f"set-{number}" for number in range(5)])
    assert page(2, 10) == (5, [])  # past the end
    assert page(0, 0) == (5, [])  # only the count


def test_exact_filters(bylab: Bylab, mia: Context) -> None:
    _create(mia, "airport", "Airport traffic", keywords=["airport"], themes=["TRAN"])
    _create(mia, "air", "Air quality", keywords=["air", "Luft"], themes=["ENVI"],
            licence_id="NLOD-2.0")
    _create(mia, "regions", "Region statistics", themes=["SOCI"])
    anonymous = bylab.context()
    assert _names(anonymous, keywords=("air",)) == ["air"]  # not 'airport'
    assert _names(anonymous, keywords=("Luft",)) == ["air"]
    assert _names(anonymous, keywords=("luft",)) == []  # tags match as stored, as in CKAN
    assert _names(anonymous, keywords=("air", "Luft")) == ["air"]
    assert _names(anonymous, keywords=("air", "airport")) == []
    assert _names(anonymous, theme="regi") == []  # a theme code, not text ('Region ...')
    assert _names(anonymous, theme="envi") == ["air"]
    assert _names(anonymous, name="air") == ["air"]
    assert _names(anonymous, licence_id="NLOD-2.0") == ["air"]
    assert _names(anonymous, formats=("csv",)) == []  # none has data yet


def test_formats_follow_the_data(bylab: Bylab, mia: Context) -> None:
    _create(mia, "empty", "No data yet")
    dataset_publish(mia, DatasetMetadata(name="population", title={"en": "Population"},
                                         organisation="molde", visibility="public"), POPULATION)
    anonymous = bylab.context()
    assert _names(anonymous, formats=("csv",)) == ["population"]
    assert _names(anonymous, formats=("parquet", "json")) == ["population"]
    assert _names(anonymous, formats=("geojson",)) == []  # not spatial
    assert _names(anonymous, formats=("xlsx",)) == []
    counts = dataset_facets(anonymous, DatasetQuery(), [DatasetFacet.FORMAT])
    assert counts[DatasetFacet.FORMAT] == [("csv", 1), ("parquet", 1), ("json", 1)]


def test_facets_count_what_the_query_finds(bylab: Bylab, mia: Context,
                                           accounts_setup: dict[str, str]) -> None:
    ola = bylab.context(actor_from_token(bylab.context(), accounts_setup["ola"]))
    _create(mia, "air-molde", "Air in Molde", keywords=["air", "air", "city"],
            themes=["ENVI", "REGI"])
    _create(mia, "noise-molde", "Noise in Molde", keywords=["noise", "city"], themes=["ENVI"],
            licence_id="NLOD-2.0")
    _create(ola, "air-alesund", "Air in Ålesund", organisation="alesund", keywords=["air"],
            themes=["ENVI"])
    _create(mia, "secret-air", "Air (internal)", keywords=["air"], visibility="private")
    every_facet = list(DatasetFacet)
    counts = dataset_facets(bylab.context(), DatasetQuery(), every_facet)
    assert counts[DatasetFacet.KEYWORD] == [("air", 2), ("city", 2), ("noise", 1)]
    assert counts[DatasetFacet.THEME] == [("ENVI", 3), ("REGI", 1)]
    assert counts[DatasetFacet.ORGANISATION] == [("molde", 2), ("alesund", 1)]
    assert counts[DatasetFacet.LICENCE] == [("CC-BY-4.0", 2), ("NLOD-2.0", 1)]
    assert counts[DatasetFacet.FORMAT] == []
    air = dataset_facets(bylab.context(), DatasetQuery(text="air"), every_facet, limit=1)
    assert air[DatasetFacet.KEYWORD] == [("air", 2)]
    assert air[DatasetFacet.ORGANISATION] == [("alesund", 1)]  # ties by name
    assert dataset_facets(mia, DatasetQuery(text="air"), [DatasetFacet.KEYWORD]) == {
        DatasetFacet.KEYWORD: [("air", 3), ("city", 1)]}
