"""GEH against hand calculations, demand arithmetic, and clear errors for bad counter files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from bylab.errors import InvalidInput
from bylab.mobility.calibration import (
    Count,
    CounterFit,
    counter_fits,
    counts_in_period,
    counts_read,
    geh,
    share_accepted,
)
from bylab.mobility.demand import DemandInput, ModeShare
from tests.mobility.conftest import write_counts

EDGES = {"A0A1", "A1A0", "B0B1"}


def test_geh_matches_hand_calculation() -> None:
    # M = 150, C = 100: 2 · 50² / 250 = 20, √20 = 4.4721
    assert geh(150, 100) == pytest.approx(4.472136, abs=1e-6)
    # M = 60, C = 100: 2 · 40² / 160 = 20, the same GEH from below
    assert geh(60, 100) == pytest.approx(math.sqrt(20))
    # M = 1200, C = 1000: 2 · 200² / 2200 = 36.36, √ = 6.0302 (fails GEH < 5)
    assert geh(1200, 1000) == pytest.approx(6.030227, abs=1e-6)
    assert geh(42, 42) == 0.0
    assert geh(0, 0) == 0.0
    assert geh(8, 0) == pytest.approx(4.0)  # 2 · 64 / 8 = 16
    with pytest.raises(InvalidInput):
        geh(-1, 3)


def test_share_of_counters_below_geh_5() -> None:
    fits = [CounterFit("a", 7, 100, 150), CounterFit("b", 7, 1000, 1200),
            CounterFit("c", 7, 10, 10), CounterFit("d", 7, 100, 60)]
    assert [round(fit.geh, 3) for fit in fits] == [4.472, 6.03, 0.0, 4.472]
    assert share_accepted(fits) == 0.75
    assert share_accepted([]) == 0.0


def test_counter_fits_pair_counts_with_modelled_flows() -> None:
    counts = [Count("A0A1", 7, 10), Count("A1A0", 7, 4)]
    fits = counter_fits(counts, {("A0A1", 7): 12, ("A0A1", 8): 99})
    assert [(fit.edge_id, fit.counted, fit.modelled) for fit in fits] == [
        ("A0A1", 10, 12), ("A1A0", 4, 0)]  # an edge nobody drove on was modelled as 0


def test_counts_in_period_keeps_the_simulated_hours() -> None:
    counts = [Count("A0A1", hour, 5) for hour in (6, 7, 8, 9)]
    assert [c.hour for c in counts_in_period(counts, 7 * 3600, 9 * 3600)] == [7, 8]


def test_counts_file_is_read(tmp_path: Path) -> None:
    path = write_counts(tmp_path / "c.csv", [("A0A1", 7, 12), ("B0B1", 8, 0)])
    assert counts_read(path, EDGES) == [Count("A0A1", 7, 12), Count("B0B1", 8, 0)]


@pytest.mark.parametrize(("rows", "row", "field", "message"), [
    ([("A0A1", 7, 3), ("Z9Z9", 7, 3)], 3, "edge_id", "'Z9Z9' is not in the network"),
    ([("A0A1", "seven", 3)], 2, "hour", "'seven' is not a whole number"),
    ([("A0A1", 24, 3)], 2, "hour", "hour 24 is not 0-23"),
    ([("A0A1", 7, -2)], 2, "count", "cannot be negative"),
    ([("A0A1", 7, 3), ("A0A1", 7, 4)], 3, "edge_id", "a second count"),
])
def test_bad_counts_name_file_row_and_field(tmp_path: Path, rows: list, row: int, field: str,
                                            message: str) -> None:
    path = write_counts(tmp_path / "counts.csv", rows)
    with pytest.raises(InvalidInput) as raised:
        counts_read(path, EDGES, "my counts.csv")
    assert (raised.value.file, raised.value.row, raised.value.field) == ("my counts.csv", row,
                                                                         field)
    assert message in raised.value.message


def test_counts_file_without_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("edge,hour,vehicles\nA0A1,7,3\n")
    with pytest.raises(InvalidInput, match="missing column") as raised:
        counts_read(path, EDGES)
    assert raised.value.field == "edge_id"
    path.write_text("edge_id,hour,count\n")
    with pytest.raises(InvalidInput, match="no rows"):
        counts_read(path, EDGES)


def test_car_trips_from_population_trips_and_mode_share() -> None:
    demand = DemandInput(population=10_000, trips_per_person_per_day=2.5,
                         mode_share=ModeShare(car=0.5, public_transport=0.2, bicycle=0.1,
                                              walk=0.2),
                         persons_per_car=1.25, peak_hour_share=0.12, simulated_hours=2)
    # 10 000 × 2.5 × 0.12 × 2 h = 6 000 person trips; × 0.5 car / 1.25 persons per car
    assert demand.person_trips()["car"] == pytest.approx(3000)
    assert demand.person_trips()["bicycle"] == pytest.approx(600)
    assert demand.car_trips() == 2400
    assert (demand.begin_s, demand.end_s) == (7 * 3600, 9 * 3600)


def test_mode_shares_must_add_up_to_one() -> None:
    with pytest.raises(ValidationError, match="add up to 1"):
        ModeShare(car=0.7, public_transport=0.2, bicycle=0.1, walk=0.1)
