"""Benchmark: daily and annual mean/min/max/count of one datastream's observations through
bylab (the aggregate action, and the STA ``$apply`` path in-process) beside the same query
written directly for DuckDB over the same Parquet files. Best of 3, same process.

With pyspark installed (the ``spark`` extra, Java 17+), the same bucket query
(``bucket_query``, the SQL the aggregate action runs) also runs on Apache Spark ``local[2]``
over the same files; its buckets are checked equal to DuckDB's (means to 1e-9 relative), and
the JVM start-up and the first (cold) query are printed apart from the best of 3.

The observations are SYNTHETIC (seeded DuckDB random()): one value a second, written by
DuckDB straight into the store's layout (``day=YYYY-MM-DD/part-<uuid>.parquet``, rows sorted
by time, zstd), so 100 million rows span about 3.2 years (≈1,160 day folders).

    .venv/bin/python bench/sensor_aggregate.py                    # 100,000,000 observations
    .venv/bin/python bench/sensor_aggregate.py --rows 5000000     # quick
    .venv/bin/python bench/sensor_aggregate.py --rows 10000000 --no-spark
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import tempfile
import time
from datetime import UTC
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from bylab.core import Bylab, Context
from bylab.sensors.actions import Unit, datastream_create, observation_store, thing_create
from bylab.sensors.aggregate import Bucket, bucket_query, datastream_aggregate
from bylab.sensors.sta import ObservationScope, aggregated_page, parse_options
from bylab.testing.backends import embedded_instance

START = "2021-01-01 00:00:00+00"
STA_DAILY = ("compute(year(phenomenonTime) as year, month(phenomenonTime) as month, "
             "day(phenomenonTime) as day)/groupby((year, month, day), aggregate("
             "result with average as mean, result with min as low, result with max as high, "
             "$count as n))")


def write_observations(root: Path, datastream_id: int, rows: int) -> None:
    """``rows`` synthetic observations, one a second, in the store's day-partitioned layout."""
    root.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute("SET TimeZone='UTC'")
    connection.execute("SELECT setseed(0.42)")
    connection.execute(f"""
        COPY (
            SELECT ({datastream_id}::BIGINT << 42) + epoch_ms(moment) AS id,
                   {datastream_id}::INTEGER AS datastream_id,
                   moment AS phenomenon_time,
                   round(random() * 50, 2)::DOUBLE AS result,
                   NULL::TIMESTAMPTZ AS result_time,
                   NULL::INTEGER AS feature_id,
                   moment::DATE AS day
            FROM (SELECT TIMESTAMPTZ '{START}' + to_seconds(i) AS moment FROM range({rows}) r(i))
        ) TO '{root}' (FORMAT parquet, PARTITION_BY (day), FILENAME_PATTERN 'part-{{uuid}}',
                       COMPRESSION zstd, ROW_GROUP_SIZE 131072)""")
    connection.close()


def bench_instance(folder: Path) -> tuple[Bylab, int]:
    """An embedded instance in ``folder`` with one datastream; returns it and the stream id."""
    instance = embedded_instance(folder / "data")
    ctx = instance.system_context()
    thing_create(ctx, "bench")
    stream = datastream_create(ctx, "bench", "bench/pm25", "PM2.5", observed_property="PM2.5",
                               unit=Unit("µg/m³", "µg/m³"), sensor="bench").id
    return instance, stream


def direct_query(root: Path, datastream_id: int, interval: str) -> list[Any]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone='UTC'")
    rows = connection.execute(
        f"SELECT date_trunc('{interval}', phenomenon_time) AS bucket, avg(result), "
        f"min(result), max(result), count(*) "
        f"FROM read_parquet('{root}/day=*/*.parquet', hive_partitioning = false) "
        "WHERE datastream_id = ? GROUP BY bucket ORDER BY bucket", [datastream_id]).fetchall()
    connection.close()
    return rows


def best(run: Callable[[], Any]) -> tuple[float, Any]:
    times, answer = [], None
    for _ in range(3):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return min(times), answer


def best_of_pair(ours: Callable[[], Any], baseline: Callable[[], Any]
                 ) -> tuple[float, Any, float, Any]:
    """Best of 3 of each, run in turns so that load from other processes hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    answers: list[Any] = [None, None]
    for _ in range(3):
        for side, run in enumerate((ours, baseline)):
            started = time.perf_counter()
            answers[side] = run()
            times[side].append(time.perf_counter() - started)
    return min(times[0]), answers[0], min(times[1]), answers[1]


def spark_buckets(spark: Any, files: list[str], datastream_id: int, interval: str
                  ) -> list[Any]:
    """The aggregate action's bucket query on Spark over the store's Parquet files."""
    spark.read.parquet(*files).createOrReplaceTempView("observations")
    sql = bucket_query(interval, "observations", f"datastream_id = {int(datastream_id)}")
    return [tuple(row) for row in spark.sql(sql).collect()]


def same_buckets(ours: list[Bucket], spark: list[Any]) -> bool:
    """Equal starts, counts, minima and maxima; means equal to 1e-9 relative (Spark and DuckDB
    add in another order). PySpark hands back naive local times: ``astimezone`` reads them so."""
    return len(ours) == len(spark) and all(
        bucket.start == start.astimezone(UTC) and bucket.count == count
        and bucket.min == low and bucket.max == high
        and math.isclose(bucket.mean, mean, rel_tol=1e-9)
        for bucket, (start, mean, low, high, count) in zip(ours, spark, strict=True))


def spark_figures(files: list[str], datastream_id: int, ours: dict[str, tuple[float, Any]]
                  ) -> None:
    """Start Spark local[2] (timed apart), run the bucket queries cold and best of 3, check
    them equal to bylab's DuckDB buckets and print the times side by side."""
    from bylab.indicators.spark import spark_session

    started = time.perf_counter()
    spark = spark_session("local[2]")
    print(f"Spark local[2]: JVM and session start-up {time.perf_counter() - started:.1f} s")
    for interval, (duckdb_s, buckets) in ours.items():
        started = time.perf_counter()
        answer = spark_buckets(spark, files, datastream_id, interval)
        cold = time.perf_counter() - started
        warm, answer = best(lambda i=interval: spark_buckets(spark, files, datastream_id, i))
        assert same_buckets(buckets, answer), f"Spark's {interval} buckets differ from DuckDB's"
        print(f"{interval:>4} means  Spark local[2] {warm:7.2f} s (cold {cold:.2f} s)   "
              f"bylab DuckDB (baseline) {duckdb_s:7.2f} s   ratio {warm / duckdb_s:5.1f}×  "
              "(buckets equal)")
    spark.stop()


def sta_daily(ctx: Context, datastream_id: int) -> list[Any]:
    options = parse_options({"$apply": STA_DAILY, "$top": "10000"})
    return aggregated_page(ctx, ObservationScope((datastream_id,)), options)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark figures")
    arguments = parser.parse_args()
    rows = arguments.rows
    print(f"load average: {os.getloadavg()[0]:.1f}   SYNTHETIC observations: {rows:,}")
    with tempfile.TemporaryDirectory() as folder:
        instance, stream = bench_instance(Path(folder))
        ctx = instance.system_context()
        store = observation_store(ctx)
        started = time.perf_counter()
        write_observations(store.root, stream, rows)
        seconds = time.perf_counter() - started
        print(f"generate {rows:,} rows into {len(list(store.root.glob('day=*')))} day folders: "
              f"{seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        ours_by_interval: dict[str, tuple[float, Any]] = {}
        for interval in ("day", "year"):
            ours, buckets, floor, direct = best_of_pair(
                lambda i=interval: datastream_aggregate(ctx, stream, i),
                lambda i=interval: direct_query(store.root, stream, i))
            assert len(buckets) == len(direct) and sum(b.count for b in buckets) == rows
            ours_by_interval[interval] = (ours, buckets)
            print(f"{interval:>4} means  bylab {ours:7.2f} s   direct DuckDB (baseline) "
                  f"{floor:7.2f} s   ratio {ours / floor:4.2f}×  ({len(buckets)} buckets)")
        sta, answer = best(lambda: sta_daily(ctx, stream))
        assert sum(row["n"] for row in answer) == rows
        print(f" day means  bylab STA $apply (in-process) {sta:7.2f} s")
        if not arguments.no_spark and importlib.util.find_spec("pyspark"):
            spark_figures(store.files(), stream, ours_by_interval)
        elif not arguments.no_spark:
            print("Spark: skipped (pyspark is not installed: the spark extra)")
        instance.close()


if __name__ == "__main__":
    main()
