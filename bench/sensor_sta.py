"""Benchmark: p95 latency of a filtered SensorThings Observations query
(``$filter=phenomenonTime ge <t> and result gt <v>&$top=100``, with varying t and v) against a
real bylab server, sent one after another from a second process. Baselines measured in the
same run: the p95 of ``GET /api/health`` (the HTTP floor of that server) and of the same
query written directly for DuckDB over the same files (the query floor).

The observations are SYNTHETIC (see bench/sensor_aggregate.py): one value a second in the
store's day-partitioned layout.

    .venv/bin/python bench/sensor_sta.py                                  # 100,000,000 rows
    .venv/bin/python bench/sensor_sta.py --rows 5000000 --requests 50     # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx

from bylab.sensors.actions import observation_store
from bylab.testing.server import running_server

sys.path.insert(0, str(Path(__file__).parent))
from sensor_aggregate import bench_instance, write_observations  # noqa: E402

START = datetime(2021, 1, 1, tzinfo=UTC)


def queries(rows: int, count: int) -> list[tuple[str, float]]:
    """(start time, result threshold) pairs, seeded, spread over the stored span."""
    chooser = random.Random(7)
    return [((START + timedelta(seconds=chooser.randrange(rows))).strftime("%Y-%m-%dT%H:%M:%SZ"),
             round(chooser.uniform(0, 50), 1)) for _ in range(count)]


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def client(base_url: str, rows: int, count: int) -> None:
    """The second process: sends the queries one by one, prints the latencies as JSON."""
    sta, health = [], []
    with httpx.Client(base_url=base_url, timeout=120) as http:
        http.get("/api/health")
        for moment, threshold in queries(rows, count):
            started = time.perf_counter()
            answer = http.get("/sta/v1.1/Observations", params={
                "$filter": f"phenomenonTime ge {moment} and result gt {threshold}",
                "$top": "100"})
            sta.append(time.perf_counter() - started)
            answer.raise_for_status()
            assert len(answer.json()["value"]) <= 100
            started = time.perf_counter()
            http.get("/api/health").raise_for_status()
            health.append(time.perf_counter() - started)
    print(json.dumps({"sta": sta, "health": health}))


def direct(root: Path, rows: int, count: int) -> list[float]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone='UTC'")
    latencies = []
    for moment, threshold in queries(rows, count):
        started = time.perf_counter()
        connection.execute(
            f"SELECT id, datastream_id, phenomenon_time, result, result_time, feature_id "
            f"FROM read_parquet('{root}/day=*/*.parquet', hive_partitioning = false) "
            "WHERE phenomenon_time >= ?::TIMESTAMPTZ AND result > ? ORDER BY id LIMIT 101",
            [moment, threshold]).fetchall()
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.client:
        client(arguments.client, arguments.rows, arguments.requests)
        return
    rows, count = arguments.rows, arguments.requests
    print(f"load average: {os.getloadavg()[0]:.1f}   SYNTHETIC observations: {rows:,}")
    with tempfile.TemporaryDirectory() as folder:
        instance, stream = bench_instance(Path(folder))
        root = observation_store(instance.system_context()).root
        write_observations(root, stream, rows)
        with running_server(instance) as base_url:
            measured = subprocess.run(
                [sys.executable, __file__, "--client", base_url, "--rows", str(rows),
                 "--requests", str(count)], capture_output=True, text=True, check=True)
        latencies = json.loads(measured.stdout)
        floor = direct(root, rows, count)
        print(f"STA filtered Observations $top=100  p95 {p95(latencies['sta']) * 1000:8.1f} ms  "
              f"median {sorted(latencies['sta'])[count // 2] * 1000:8.1f} ms  ({count} requests)")
        print(f"baseline GET /api/health           p95 {p95(latencies['health']) * 1000:8.1f} ms")
        print(f"baseline direct DuckDB query       p95 {p95(floor) * 1000:8.1f} ms")
        instance.close()


if __name__ == "__main__":
    main()
