"""Mergers and splits: a merged place's earlier values come from the sums of its predecessors'
additive inputs (properties over generated inputs, and end to end through the places
register); splits are flagged, never divided."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata, Visibility
from bylab.catalog.publish import dataset_publish
from bylab.core import Bylab
from bylab.indicators.actions import indicator_compute, indicator_value_show
from bylab.indicators.engine import ValueRecord
from bylab.indicators.mergers import Merger, aggregate_merger
from bylab.indicators.models import ValueStatus
from bylab.indicators.specs import bundled_definitions, load_definition, load_mapping
from bylab.places.models import ChangeKind, Place, PlaceChange

GHG = "EN: EN: AQ: 2C"
UNEMPLOYMENT = "EC: P: EM: 1C"
MERGER = Merger("NO-9003", ("NO-9001", "NO-9002"), date(2020, 1, 1))
TEST_DATA = Path(__file__).parents[1] / "data" / "indicators" / "review"


def _record(kpi: str, place: str, period: str, inputs: dict[str, float | None]) -> ValueRecord:
    provenance = {"definition": {}, "country": "NO", "notes": [], "inputs": [
        {"variable": name, "value": value, "unit": "", "period": period, "rows": 1,
         "values": int(value is not None), "expected": None, "sources": []}
        for name, value in inputs.items()]}
    return ValueRecord(kpi, place, period, ValueStatus.COMPUTED, 0.0, "", "", [f"d-{place}"],
                       provenance)


amounts = st.floats(min_value=1.0, max_value=1e7, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(st.tuples(amounts, amounts), min_size=2, max_size=2),
       year=st.integers(min_value=2010, max_value=2022))
def test_merged_value_is_the_formula_over_summed_inputs(parts: list[tuple[float, float]],
                                                        year: int) -> None:
    definition = bundled_definitions()[GHG]
    by_key = {(GHG, place, str(year)): _record(GHG, place, str(year),
                                               {"ghg_emissions": emissions,
                                                "population": population})
              for place, (emissions, population) in zip(MERGER.predecessors, parts,
                                                        strict=True)}
    aggregated = aggregate_merger(definition, MERGER, by_key)
    if year >= MERGER.effective.year:  # the merged place reports for itself from then on
        assert aggregated == []
        return
    [record] = aggregated
    assert record.place_id == "NO-9003" and record.period == str(year)
    assert record.value == pytest.approx(sum(e for e, _ in parts) / sum(p for _, p in parts))
    assert record.provenance["aggregated_from"] == ["NO-9001", "NO-9002"]
    assert record.dataset_ids == ["d-NO-9001", "d-NO-9002"]


@settings(max_examples=50, deadline=None)
@given(parts=st.lists(st.tuples(st.one_of(st.none(), amounts), st.one_of(st.none(), amounts)),
                      min_size=2, max_size=2),
       own=st.one_of(st.none(), amounts))
def test_a_missing_part_or_an_own_value_means_no_aggregate(
        parts: list[tuple[float | None, float | None]], own: float | None) -> None:
    definition = bundled_definitions()[GHG]
    by_key = {(GHG, place, "2019"): _record(GHG, place, "2019",
                                            {"ghg_emissions": e, "population": p})
              for place, (e, p) in zip(MERGER.predecessors, parts, strict=True)}
    if own is not None:
        by_key[(GHG, "NO-9003", "2019")] = _record(GHG, "NO-9003", "2019",
                                                   {"ghg_emissions": own, "population": 1.0})
    aggregated = aggregate_merger(definition, MERGER, by_key)
    complete = all(e is not None and p is not None for e, p in parts)
    assert len(aggregated) == int(complete and own is None)


@given(shares=st.lists(st.floats(min_value=0, max_value=100), min_size=2, max_size=2))
def test_shares_are_never_aggregated(shares: list[float]) -> None:
    definition = bundled_definitions()[UNEMPLOYMENT]
    by_key = {(UNEMPLOYMENT, place, "2019"): _record(
        UNEMPLOYMENT, place, "2019", {"registered_unemployment_share": share})
        for place, share in zip(MERGER.predecessors, shares, strict=True)}
    assert aggregate_merger(definition, MERGER, by_key) == []


def test_compute_aggregates_a_merger_from_the_places_register(embedded: Bylab,
                                                              tmp_path: Path) -> None:
    system = embedded.system_context()
    with embedded.db.session() as session:
        for code, name, valid_from, valid_to in (("1501", "Old A", None, date(2020, 1, 1)),
                                                 ("1502", "Old B", None, date(2020, 1, 1)),
                                                 ("1599", "New", date(2020, 1, 1), None)):
            session.add(Place(id=f"NO-{code}", country="NO", level="municipality", code=code,
                              code_scheme="kommunenummer", name=name, valid_from=valid_from,
                              valid_to=valid_to))
        session.flush()
        for old in ("NO-1501", "NO-1502"):
            session.add(PlaceChange(from_place_id=old, to_place_id="NO-1599",
                                    kind=ChangeKind.MERGED.value, effective=date(2020, 1, 1),
                                    area_share=1.0, source="test"))
    accounts.organisation_create(system, "test", "Test")
    source = tmp_path / "waste.csv"
    source.write_text("code,year,tonnes\n1501,2019,100\n1502,2019,30\n1501,2018,90\n"
                      "1599,2020,140\n", encoding="utf-8")
    dataset_publish(system, DatasetMetadata(name="test-waste", title={"en": "Waste"},
                                            organisation="test",
                                            visibility=Visibility.PUBLIC), source)
    definition = load_definition(TEST_DATA / "definition.yaml")
    indicator_compute(system, definitions={definition.code: definition},
                      mappings={"NO": load_mapping(TEST_DATA / "mapping.yaml")})
    merged = indicator_value_show(system, definition.code, "NO-1599", "2019")
    assert merged.value == 130.0 and merged.provenance["aggregated_from"] == ["NO-1501",
                                                                               "NO-1502"]
    # 2018: NO-1502 has no row, so the sum is unknown
    assert indicator_value_show(system, definition.code, "NO-1599", "2018").value is None
    assert indicator_value_show(system, definition.code, "NO-1599", "2020").value == 140.0


def test_split_places_are_flagged(demo: Bylab) -> None:
    """Ålesund (NO-1507) was split into NO-1508 and NO-1580 on 2024-01-01."""
    system = demo.system_context()
    before = indicator_value_show(system, "EC-ICT-ICT-4C", "NO-1507", "2022")
    assert before.value == pytest.approx(99.15)
    assert "NO-1507 was split into NO-1508, NO-1580 on 2024-01-01: its values are for the " \
           "former area" in before.provenance["notes"]
    after = indicator_value_show(system, "CTX-POPULATION-DENSITY", "NO-1508", "2024")
    assert any("by a split of NO-1507" in note for note in after.provenance["notes"])
