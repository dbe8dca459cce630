"""Storing computed values: what is read back equals what was computed (values, reasons,
provenance and its digest), on SQLite and PostgreSQL, for the demo's real data too."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata, Visibility
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.core import Bylab
from bylab.indicators.actions import indicator_compute
from bylab.indicators.engine import ValueRecord, gc_paused
from bylab.indicators.models import IndicatorValue
from bylab.indicators.provenance import inputs_digest
from bylab.indicators.specs import bundled_definitions, load_definition, load_mapping

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators" / "review"
KPI = "TEST: WASTE"


def _stored(instance: Bylab) -> dict[tuple[str, str, str], IndicatorValue]:
    with instance.db.session() as session:
        return {(item.kpi_code, item.place_id, item.period): item
                for item in session.scalars(select(IndicatorValue))}


def _as_stored(record: ValueRecord) -> tuple[object, ...]:
    return (record.status.value, record.value, record.unit, record.reason,
            record.dataset_ids, record.provenance)


def _read(item: IndicatorValue) -> tuple[object, ...]:
    return (item.status, item.value, item.unit, item.reason, item.dataset_ids,
            item.provenance)


def test_stored_values_read_back_as_computed(bylab: Bylab, tmp_path: Path) -> None:
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    # 1505 has no 2022 row: a missing record with its reason is stored too
    (tmp_path / "waste.csv").write_text("code,year,tonnes\n1506,2022,100\n1506,2023,110.25\n"
                                        "1507,2022,80\n1507,2023,85\n1505,2023,60\n",
                                        encoding="utf-8")
    dataset_publish(system, DatasetMetadata(name="test-waste", title={"en": "Avfall i Ålesund"},
                                            organisation="molde",
                                            visibility=Visibility.PUBLIC),
                    tmp_path / "waste.csv")
    definition = load_definition(TEST_DATA / "definition.yaml")
    started = datetime.now(UTC)
    _report, records = indicator_compute(
        system, definitions={definition.code: definition},
        mappings={"NO": load_mapping(TEST_DATA / "mapping.yaml")})
    stored = _stored(bylab)
    assert {key: _read(item) for key, item in stored.items()} == {
        (record.kpi_code, record.place_id, record.period): _as_stored(record)
        for record in records}
    assert {item.status for item in stored.values()} >= {"computed"}
    for item in stored.values():
        assert item.provenance["inputs_sha256"] == inputs_digest(item.provenance)
        at = item.computed_at if item.computed_at.tzinfo else item.computed_at.replace(
            tzinfo=UTC)
        assert started - timedelta(seconds=1) <= at <= datetime.now(UTC)


def test_demo_values_read_back_with_their_digest(demo: Bylab) -> None:
    """Every stored demo value and missing record equals a fresh computation, and its
    ``inputs_sha256`` is ``inputs_digest`` of its provenance (what sign-offs compare)."""
    bundled = bundled_definitions()  # other tests store test KPIs in the shared demo
    stored = {key: item for key, item in _stored(demo).items() if key[0] in bundled}
    _report, records = indicator_compute(demo.system_context(), store=False)
    assert {key: _read(item) for key, item in stored.items()} == {
        (record.kpi_code, record.place_id, record.period): _as_stored(record)
        for record in records}
    assert {item.status for item in stored.values()} == {"computed", "missing"}
    mismatched = [key for key, item in stored.items()
                  if item.provenance["inputs_sha256"] != inputs_digest(item.provenance)]
    assert mismatched == []


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collection_is_restored_after_overlapping_pauses(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        outer, inner = gc_paused(), gc_paused()
        outer.__enter__()
        inner.__enter__()
        assert not gc.isenabled()
        outer.__exit__(None, None, None)  # the first to start ends first (another thread)
        assert not gc.isenabled()
        inner.__exit__(None, None, None)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def _ids(instance: Bylab) -> dict[tuple[str, str, str], tuple[int, datetime]]:
    return {key: (item.id, item.computed_at) for key, item in _stored(instance).items()}


def test_storing_rewrites_only_changed_rows(bylab: Bylab, tmp_path: Path) -> None:
    """A recompute of unchanged data writes nothing on SQLite (ids and ``computed_at``
    stay); a changed row is replaced by a new row, and what is stored equals the records."""
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    (tmp_path / "v1.csv").write_text("code,year,tonnes\n1506,2022,100\n1506,2023,110\n"
                                     "1507,2022,80\n1507,2023,85\n", encoding="utf-8")
    dataset_publish(system, DatasetMetadata(name="test-waste", title={"en": "Waste"},
                                            organisation="molde",
                                            visibility=Visibility.PUBLIC),
                    tmp_path / "v1.csv")
    definitions = {KPI: load_definition(TEST_DATA / "definition.yaml")}
    mappings = {"NO": load_mapping(TEST_DATA / "mapping.yaml")}
    indicator_compute(system, definitions=definitions, mappings=mappings)
    first = _ids(bylab)
    indicator_compute(system, definitions=definitions, mappings=mappings)
    if bylab.db.is_sqlite:
        assert _ids(bylab) == first
    (tmp_path / "v2.csv").write_text("code,year,tonnes\n1506,2022,100\n1506,2023,120\n"
                                     "1507,2022,80\n", encoding="utf-8")
    dataset_add_version(system, "test-waste", tmp_path / "v2.csv")
    _report, records = indicator_compute(system, definitions=definitions, mappings=mappings)
    after = _ids(bylab)
    assert after.keys() == {(record.kpi_code, record.place_id, record.period)
                            for record in records}
    changed = {key for key in after if after[key] != first.get(key)}
    assert (KPI, "NO-1506", "2023") in changed  # its value changed: a new computed_at
    assert {key: _read(item) for key, item in _stored(bylab).items()} == {
        (record.kpi_code, record.place_id, record.period): _as_stored(record)
        for record in records}
