"""The same compiled KPI queries on Apache Spark (pyspark, local mode) and on DuckDB give
identical results for the demo region: every value, missing record, reason and provenance.
One Spark session for the module; under xdist the module stays on one worker (loadgroup)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bylab.core import Bylab
from bylab.indicators.actions import indicator_compute
from bylab.indicators.engine import ValueRecord

pytest.importorskip("pyspark")
pytestmark = pytest.mark.xdist_group("spark")
# Small data on a shared test machine: one core, no adaptive re-planning or code generation
# (compiling Java per query costs more than it saves here), a JIT that warms up fast.
SMALL_DATA_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false",
                   "spark.sql.codegen.wholeStage": "false",
                   "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}


@pytest.fixture(scope="module")
def on_spark(demo: Bylab) -> Iterator[Bylab]:
    settings = demo.settings.model_copy(update={
        "indicator_engine": "spark", "spark_master": "local[1]", "spark_conf": SMALL_DATA_CONF})
    instance = Bylab(settings)
    yield instance
    instance.close()


def _by_key(records: list[ValueRecord]) -> dict[tuple[str, str, str], ValueRecord]:
    return {(record.kpi_code, record.place_id, record.period): record for record in records}


def test_spark_computes_the_demo_region_as_duckdb_does(demo: Bylab, on_spark: Bylab) -> None:
    spark_report, on_spark_records = indicator_compute(on_spark.system_context(), store=False)
    duckdb_report, duckdb_records = indicator_compute(demo.system_context(), store=False)
    spark, duck = _by_key(on_spark_records), _by_key(duckdb_records)
    assert spark.keys() == duck.keys() and len(spark) > 10_000
    assert spark_report.by_kpi == duckdb_report.by_kpi
    assert spark_report.queries == duckdb_report.queries  # one query text for both engines
    for key, record in duck.items():
        assert spark[key] == record, key
    porsgrunn_ghg = spark[("EN: EN: AQ: 2C", "NO-4001", "2022")]
    assert porsgrunn_ghg.value is not None and porsgrunn_ghg.provenance["inputs_sha256"]
