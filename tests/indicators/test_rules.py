"""The rules the compiled query encodes, checked on the real data and, as properties, on
generated input: unit conversion, the completeness rule for means, the period rule."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bylab.core import Bylab
from bylab.indicators.actions import indicator_compute
from bylab.indicators.compile import BoundSource, input_cte
from bylab.indicators.specs import SourceSpec, load_definition, load_mapping
from bylab.indicators.units import conversion_factor

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators"
MASS_UNITS = ["kg", "t", "kilotonne", "megatonne", "g"]


@settings(max_examples=60, deadline=None)
@given(magnitude=st.floats(min_value=1e-6, max_value=1e9), there=st.sampled_from(MASS_UNITS),
       back=st.sampled_from(MASS_UNITS))
def test_unit_conversion_round_trips(magnitude: float, there: str, back: str) -> None:
    converted = magnitude * conversion_factor(there, back)
    assert converted * conversion_factor(back, there) == pytest.approx(magnitude, rel=1e-12)


def _monthly_source() -> SourceSpec:
    return SourceSpec.model_validate({
        "dataset": "test", "place": {"column": "code", "template": "NO-{}"},
        "period": {"column": "month", "kind": "year_month_text"},
        "value": {"column": "share", "unit": "percent", "aggregate": "mean",
                  "expected_count": "months_in_year", "min_share": 0.75}})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=30)), min_size=12,
                max_size=12))
def test_a_mean_needs_enough_months(monthly: list[float | None]) -> None:
    """A year's mean exists only when at least 75 % (9) of 12 months have a value, and then
    it is the mean of the months present; missing months are never read as zero."""
    rows = pa.table({"code": ["1506"] * 12, "month": [f"2023-{m:02d}" for m in range(1, 13)],
                     "share": monthly})
    connection = duckdb.connect()
    connection.register("src_monthly", rows)
    cte = input_cte("share", "percent", [BoundSource(_monthly_source(), "src_monthly")])
    value, present = connection.execute(
        f"WITH {cte} SELECT value, value_count FROM in_share").fetchone()  # type: ignore[misc]
    known = [item for item in monthly if item is not None]
    assert present == len(known)
    if len(known) >= 9:
        assert value == pytest.approx(sum(known) / len(known))
    else:
        assert value is None


def test_older_population_is_used_and_said_so(demo: Bylab) -> None:
    definition = load_definition(TEST_DATA / "earlier_population" / "definition.yaml")
    mapping = load_mapping(TEST_DATA / "earlier_population" / "mapping.yaml")
    _report, records = indicator_compute(demo.system_context(), store=False,
                                         definitions={definition.code: definition},
                                         mappings={"NO": mapping})
    by_key = {(record.place_id, record.period): record for record in records}
    porsgrunn_2020, porsgrunn_2015 = by_key[("NO-4001", "2020")], by_key[("NO-4001", "2015")]
    inputs = {item["variable"]: item for item in porsgrunn_2020.provenance["inputs"]}
    assert inputs["population"]["period"] == "2019"
    assert porsgrunn_2020.value == pytest.approx(  # kilotonnes per 1000 = tonnes per person
        inputs["ghg_emissions"]["value"] * 1000 / inputs["population"]["value"])
    assert inputs["ghg_emissions"]["value"] == pytest.approx(2128.94501)  # in kilotonnes
    assert porsgrunn_2020.provenance["notes"] == [
        "population from 2019 used for 2020 (latest not newer than the period)"]
    assert porsgrunn_2015.reason == ("population: no row for NO-4001 in 2015 or earlier in "
                                     "no-population-municipalities v1")
