"""The compiled KPI queries on Apache Spark: the same SQL text the embedded engine runs on
DuckDB, over the same immutable Parquet files of the table store (``spark.read.parquet``).

Selected with ``BYLAB_INDICATOR_ENGINE=spark``; ``BYLAB_SPARK_MASTER`` says where Spark runs
(``local[N]`` in this process, or a cluster: ``spark://host:7077``, ``yarn``, ``k8s://…``)
and ``BYLAB_SPARK_CONF`` adds configuration. On a cluster the executors read the table store
by path, so the data dir must be on a file system every executor sees at the same path.

The session keeps to the SQL the compiler writes: ANSI mode with double-quoted identifiers
(as DuckDB), literal backslashes in strings, and UTC for ``year()`` of timestamps.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa
from pyspark.sql import SparkSession
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.indicators.engine import Binder, DatasetRef

SESSION_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.parser.escapedStringLiterals": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


@cache
def spark_session(master: str, conf: tuple[tuple[str, str], ...] = ()) -> SparkSession:
    """One Spark session per process, master and configuration (starting one takes seconds)."""
    builder = SparkSession.builder.master(master).appName("bylab-indicators")
    for key, value in {**SESSION_CONF, **dict(conf)}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkBinder(Binder):
    """Binds inputs as Spark temporary views and runs the queries with ``spark.sql``."""

    def __init__(self, ctx: Context, session: Session, spark: SparkSession) -> None:
        super().__init__(ctx, session, None)
        self.spark = spark
        self.views: list[str] = []

    def bind_dataset(self, table: str, dataset: DatasetRef) -> None:
        self.spark.read.parquet(dataset.path).createOrReplaceTempView(table)
        self.views.append(table)

    def bind_rows(self, table: str, columns: dict[str, list[Any]]) -> None:
        rows = pa.table(columns)
        # An empty list has no type; Spark needs one (keys and place ids are text).
        rows = rows.cast(pa.schema([pa.field(field.name, pa.string())
                                    if pa.types.is_null(field.type) else field
                                    for field in rows.schema]))
        self.spark.createDataFrame(rows).createOrReplaceTempView(table)
        self.views.append(table)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def close(self) -> None:
        for view in self.views:
            self.spark.catalog.dropTempView(view)
