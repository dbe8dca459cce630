from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bylab.core import Bylab
from bylab.errors import InvalidInput, NotAuthorized
from bylab.places.history import place_crosswalk, place_history
from bylab.places.klass import places_import_klass, read_klass_changes
from bylab.places.loading import DEMO_DATA_DIR, LoadReport, places_load_bundled
from bylab.places.models import PlaceChange
from bylab.places.queries import place_show
from bylab.testing.backends import embedded_instance

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "places"
POPULATION = DEMO_DATA_DIR / "statistics" / "no_population_municipalities_2024borders.csv"


def _changes(bylab: Bylab) -> list[PlaceChange]:
    with bylab.db.session() as session:
        return list(session.scalars(select(PlaceChange)))


def _derived_by_kind(bylab: Bylab) -> dict[str, set[str]]:
    """2024 municipality ids by the kind of derived change that made them."""
    made: dict[str, set[str]] = defaultdict(set)
    for change in _changes(bylab):
        if len(change.to_place_id) == 7:  # NO-dddd: municipalities
            made[change.kind].add(change.to_place_id)
    return made


def test_alesund_split_into_alesund_and_haram(places: Bylab) -> None:
    history = place_history(places.context(), "NO-1507")
    shares = {step.to_place.id: step.area_share for step in history.successors}
    assert set(shares) == {"NO-1508", "NO-1580"}
    assert {step.kind for step in history.successors} == {"split"}
    assert {step.effective for step in history.successors} == {date(2024, 1, 1)}
    # Haram (about 260 km²) is the smaller part of the 2020-2023 Ålesund (about 630 km²).
    assert shares["NO-1580"] == pytest.approx(0.41, abs=0.05)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_viken_renumbering_and_county_split(places: Bylab) -> None:
    history = place_history(places.context(), "NO-3301")
    assert [(step.from_place.id, step.kind, step.area_share) for step in history.predecessors] == [
        ("NO-3005", "renumbered", 1.0)]  # Drammen
    viken = place_history(places.context(), "NO-30").successors
    assert {step.to_place.id for step in viken} == {"NO-31", "NO-32", "NO-33"}
    assert {step.kind for step in viken} == {"split"}
    shares = {step.to_place.id: step.area_share for step in viken}
    assert max(shares, key=shares.__getitem__) == "NO-33"  # Buskerud is the largest part
    for former, successors in (("NO-38", {"NO-39", "NO-40"}), ("NO-54", {"NO-55", "NO-56"})):
        steps = place_history(places.context(), former).successors
        assert {step.to_place.id for step in steps} == successors


def test_derivation_agrees_with_the_population_file(places: Bylab) -> None:
    """The population file (SSB via FHI, on 2024 borders) was built independently of our
    boundaries. Verifiable: split results have no population before 2024 (csdata dropped
    the estimated years), renumbered codes have every year and are flagged as summed from a
    former municipality for 2023, and codes we leave unchanged are not. Not verifiable: the
    area shares, and anything before the 2020 division."""
    years: dict[str, set[int]] = defaultdict(set)
    summed_2023 = set()
    with POPULATION.open(encoding="utf-8") as population_file:
        for row in csv.DictReader(population_file):
            place_id = f"NO-{row['municipality_code']}"
            years[place_id].add(int(row["year"]))
            if row["year"] == "2023" and row["summed_from_former_municipalities"] == "True":
                summed_2023.add(place_id)
    made = _derived_by_kind(places)
    assert made["split"] == {place_id for place_id, found in years.items()
                             if min(found) == 2024}
    assert made["renumbered"] == summed_2023
    assert "merged" not in made  # no municipality mergers in 2024
    assert all(min(years[place_id]) <= 2020 for place_id in made["renumbered"])


@pytest.fixture(scope="module")
def klass_loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bylab, LoadReport]]:
    """Bundled places, the KLASS fixtures (real changes, see tests/data/places), then the
    bundled places again (which must keep the KLASS changes); returns the reload's report."""
    instance = embedded_instance(tmp_path_factory.mktemp("klass") / "data")
    ctx = instance.system_context()
    places_load_bundled(ctx)
    municipalities = places_import_klass(ctx, FIXTURES / "klass_131_changes.json")
    counties = places_import_klass(ctx, FIXTURES / "klass_104_changes.csv")
    assert (municipalities.derived_replaced, counties.derived_replaced) == (4, 3)
    assert (municipalities.places_created, counties.places_created) == (11, 3)
    yield instance, places_load_bundled(ctx)
    instance.close()


@pytest.fixture
def with_klass(klass_loaded: tuple[Bylab, LoadReport]) -> Bylab:
    return klass_loaded[0]


def test_klass_replaces_derived_changes(with_klass: Bylab) -> None:
    pairs = defaultdict(list)
    for change in _changes(with_klass):
        pairs[(change.from_place_id, change.to_place_id)].append(change)
    assert all(len(found) == 1 for found in pairs.values())
    split = pairs[("NO-1507", "NO-1580")][0]
    assert (split.source, split.kind) == ("klass", "split")
    assert split.area_share == pytest.approx(0.41, abs=0.05)  # from the stored boundaries
    assert pairs[("NO-3001", "NO-3101")][0].source == "klass"
    assert pairs[("NO-3005", "NO-3301")][0].source == "derived:boundaries"  # not in fixture
    assert {pairs[("NO-30", county)][0].source for county in ("NO-31", "NO-32", "NO-33")} == {
        "klass"}


def test_klass_creates_unknown_places_without_boundaries(with_klass: Bylab) -> None:
    ctx = with_klass.context()
    nesset = place_show(ctx, "NO-1543")
    assert (nesset.name, nesset.parent_id, nesset.valid_to) == ("Nesset", "NO-15",
                                                                 date(2020, 1, 1))
    assert nesset.area_km2 is None and nesset.source.startswith("klass")
    ostfold_2019 = place_show(ctx, "NO-01")  # Latin-1 CSV: the name must survive decoding
    assert (ostfold_2019.name, ostfold_2019.level) == ("Østfold", "county")
    assert place_show(ctx, "NO-1506").valid_from == date(2020, 1, 1)


def test_reloading_keeps_klass_changes(klass_loaded: tuple[Bylab, LoadReport]) -> None:
    with_klass, report = klass_loaded
    assert report.changes_left_to_klass == 7  # Ålesund x2, Halden, Nordre Follo, Viken x3
    sources = {(c.from_place_id, c.to_place_id): c.source for c in _changes(with_klass)}
    assert sources[("NO-1507", "NO-1508")] == "klass"


def test_crosswalk_merge_maps_many_to_one(with_klass: Bylab) -> None:
    ctx = with_klass.context()
    for former in ("NO-1502", "NO-1543", "NO-1545"):
        [match] = place_crosswalk(ctx, former, date(2025, 1, 1))
        assert (match.place.id, match.share, match.split) == ("NO-1506", 1.0, False)
    backwards = place_crosswalk(ctx, "NO-1506", date(2019, 6, 1))
    assert {match.place.id for match in backwards} == {"NO-1502", "NO-1543", "NO-1545"}
    assert all(match.split for match in backwards)


def test_crosswalk_split_is_transitive_with_shares(with_klass: Bylab) -> None:
    ctx = with_klass.context()
    matches = place_crosswalk(ctx, "NO-1534", date(2024, 6, 1))  # Haram before 2020
    assert {match.place.id for match in matches} == {"NO-1508", "NO-1580"}
    assert all(match.split for match in matches)
    assert sum(match.share for match in matches) == pytest.approx(1.0, abs=0.001)
    [back] = place_crosswalk(ctx, "NO-1580", date(2022, 1, 1))
    assert (back.place.id, back.share, back.split) == ("NO-1507", 1.0, False)
    [same] = place_crosswalk(ctx, "NO-1506", date(2022, 1, 1))
    assert same.place.id == "NO-1506"
    assert place_crosswalk(ctx, "NO-1502", date(1990, 1, 1))[0].place.id == "NO-1502"


def test_history_is_transitive_with_dates(with_klass: Bylab) -> None:
    history = place_history(with_klass.context(), "NO-1580")
    steps = [(step.from_place.id, step.effective, step.depth) for step in history.predecessors]
    assert ("NO-1507", date(2024, 1, 1), 1) in steps
    assert ("NO-1534", date(2020, 1, 1), 2) in steps
    assert steps[0][1] == date(2020, 1, 1)  # oldest first


def test_klass_file_errors_say_where(tmp_path: Path, embedded: Bylab) -> None:
    bad_date = tmp_path / "changes.json"
    bad_date.write_text(json.dumps({"codeChanges": [
        {"oldCode": "1507", "newCode": "1508", "changeOccurred": "2024-01-01"},
        {"oldCode": "1507", "newCode": "1580", "changeOccurred": "1. januar"}]}))
    with pytest.raises(InvalidInput) as error:
        read_klass_changes(bad_date)
    assert (error.value.row, error.value.field) == (2, "changeOccurred")
    not_klass = tmp_path / "other.csv"
    not_klass.write_text("code;name\n1506;Molde\n")
    with pytest.raises(InvalidInput) as error:
        read_klass_changes(not_klass)
    assert error.value.field == "oldCode" and error.value.file == "other.csv"
    bad_code = tmp_path / "code.csv"
    bad_code.write_text('"oldCode","newCode","changeOccurred"\n"15A","1506","2020-01-01"\n')
    with pytest.raises(InvalidInput) as error:
        read_klass_changes(bad_code)
    assert (error.value.row, error.value.field) == (1, "oldCode")
    with pytest.raises(NotAuthorized):
        places_import_klass(embedded.context(), FIXTURES / "klass_131_changes.json")


def test_klass_csv_is_read_in_latin_1() -> None:
    rows = read_klass_changes(FIXTURES / "klass_104_changes.csv")
    assert [(row.old_code, row.new_code, row.new_name) for row in rows][3] == (
        "30", "31", "Østfold")
