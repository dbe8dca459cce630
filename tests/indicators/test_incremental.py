"""Incremental recompute: after a new version of one dataset only the KPIs reading it and the
places whose rows changed are recomputed, and the stored result equals a full recompute."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata, Visibility
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.catalog.queries import dataset_get, dataset_version
from bylab.core import Bylab
from bylab.indicators.actions import indicator_compute, indicator_value_show
from bylab.indicators.incremental import dependent_definitions, indicator_recompute_dataset
from bylab.indicators.models import IndicatorValue
from bylab.indicators.specs import (
    bundled_definitions,
    bundled_mappings,
    load_definition,
    load_mapping,
)

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators" / "review"
KPI = "TEST: WASTE"


def _csv(path: Path, molde_2023: str) -> Path:
    path.write_text("code,year,tonnes\n1506,2022,100\n1506,2023," + molde_2023 + "\n"
                    "1507,2022,80\n1507,2023,85\n1505,2023,60\n", encoding="utf-8")
    return path


def _stored(instance: Bylab) -> dict[tuple[str, str], tuple[float | None, object]]:
    with instance.db.session() as session:
        return {(item.place_id, item.period): (item.value, item.computed_at)
                for item in session.scalars(select(IndicatorValue))}


def test_only_changed_places_are_recomputed(bylab: Bylab, tmp_path: Path) -> None:
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    dataset_publish(system, DatasetMetadata(name="test-waste", title={"en": "Waste"},
                                            organisation="molde",
                                            visibility=Visibility.PUBLIC),
                    _csv(tmp_path / "v1.csv", "110"))
    definitions = {KPI: load_definition(TEST_DATA / "definition.yaml")}
    mappings = {"NO": load_mapping(TEST_DATA / "mapping.yaml")}
    indicator_compute(system, definitions=definitions, mappings=mappings)
    before = _stored(bylab)
    dataset_add_version(system, "test-waste", _csv(tmp_path / "v2.csv", "120"))
    report = indicator_recompute_dataset(system, "test-waste", definitions, mappings)
    assert report.kpi_codes == [KPI] and report.place_ids == {"NO-1506"}
    assert report.stored == 2  # NO-1506 in 2022 and 2023
    after = _stored(bylab)
    assert after[("NO-1506", "2023")][0] == 120.0
    assert after[("NO-1507", "2023")] == before[("NO-1507", "2023")]  # not rewritten
    indicator_compute(system, definitions=definitions, mappings=mappings)
    assert {key: value for key, (value, _at) in _stored(bylab).items()} == {
        key: value for key, (value, _at) in after.items()}


def test_unchanged_rows_recompute_nothing(bylab: Bylab, tmp_path: Path) -> None:
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    metadata = DatasetMetadata(name="test-waste", title={"en": "Waste"}, organisation="molde",
                               visibility=Visibility.PUBLIC)
    dataset_publish(system, metadata, _csv(tmp_path / "v1.csv", "110"))
    dataset_add_version(system, "test-waste", _csv(tmp_path / "v2.csv", "110"))
    report = indicator_recompute_dataset(system, "test-waste",
                                         {KPI: load_definition(TEST_DATA / "definition.yaml")},
                                         {"NO": load_mapping(TEST_DATA / "mapping.yaml")})
    assert report.place_ids == set() and report.stored == 0


def _recompute_cli(demo: Bylab, dataset: str) -> str:
    environment = {**os.environ, "BYLAB_DATA_DIR": str(demo.settings.data_dir)}
    done = subprocess.run([sys.executable, "-m", "bylab.cli", "indicators", "recompute",
                           "--dataset", dataset], env=environment, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_recomputes_after_a_bundled_dataset_changed(demo: Bylab, tmp_path: Path) -> None:
    """Porsgrunn's 2022 coverage changes in a new version: only NO-3806 (its code in the
    source) and NO-4001 (the code it was renumbered to) are recomputed. The shared demo
    instance gets its original rows back as a further version at the end."""
    system, dataset = demo.system_context(), "no-broadband-coverage-2022"
    with demo.db.session() as session:
        path = system.tables.resolve(dataset_version(dataset_get(session, system,
                                                                 dataset)).table_path)
    original = pd.read_parquet(path)
    porsgrunn = original["municipality_code_2020"].astype(str).str.zfill(4) == "3806"
    changed = original.copy()
    changed.loc[porsgrunn, "mobile_4g_ge30mbit"] = 42.0
    changed.to_csv(tmp_path / "changed.csv", index=False)
    original.to_csv(tmp_path / "original.csv", index=False)
    dataset_add_version(system, dataset, tmp_path / "changed.csv")
    try:
        shown = _recompute_cli(demo, dataset)
        assert shown.startswith(f"{dataset}: EC: ICT: ICT: 4C; 2 places;"), shown
        value = indicator_value_show(system, "EC-ICT-ICT-4C", "NO-4001", "2022")
        assert value.value == 42.0 and value.provenance["carried_from"] == "NO-3806"
    finally:
        dataset_add_version(system, dataset, tmp_path / "original.csv")
        _recompute_cli(demo, dataset)
    restored = indicator_value_show(system, "EC-ICT-ICT-4C", "NO-4001", "2022").value
    assert restored == float(original.loc[porsgrunn, "mobile_4g_ge30mbit"].iloc[0])
    # the other places' values still name the first version: recompute them all, so the
    # shared instance is as other tests expect (every value from the latest versions)
    indicator_compute(system, kpi_codes=["EC: ICT: ICT: 4C"])


def test_dependent_kpis_of_the_bundled_mappings() -> None:
    population = dependent_definitions(bundled_definitions(), bundled_mappings(),
                                       "se-population-municipalities")
    assert set(population) == {"EN: EN: AQ: 2C", "CTX: POPULATION-DENSITY"}
    stations = dependent_definitions(bundled_definitions(), bundled_mappings(),
                                     "no-air-quality-stations")  # read as a place lookup
    assert set(stations) == {"EN: EN: AQ: 1C"}
    assert dependent_definitions(bundled_definitions(), bundled_mappings(), "nope") == {}
