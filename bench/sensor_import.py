"""Benchmark: bulk import of observations (CSV, Parquet and a SensorThings CreateObservations
dataArray document) into the sensor store, beside the floor of the same work done plainly:
pyarrow reading the CSV and writing one Parquet file, and for the dataArray document the
orjson parsing plus pyarrow writing its rows to one Parquet file (no checks,
no dedupe, no day partitions). Same process, same files, best of 3.

The dataArray document is read from its bytes as the HTTP route reads them (DuckDB's JSON
reader, column-wise), and once more as Python objects (orjson), as the general reader takes a
document of another shape. The dataArray rows are also sent as CreateObservations table
bodies (the bylab extension: Arrow IPC stream and CSV with a Datastream/id column).

The last bylab line imports the Parquet file again into a store holding it already: every
row is found stored (the dedupe path), nothing is written.

The observations are SYNTHETIC (seeded): 200 datastreams, one value a minute each.

    .venv/bin/python bench/sensor_import.py                       # 2,000,000 observations
    .venv/bin/python bench/sensor_import.py --observations 200000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bylab.sensors.actions import Unit, datastream_create, observations_import, thing_create
from bylab.sensors.dataarray import observations_create_strict, read_body
from bylab.testing.backends import embedded_instance

DATASTREAMS = 200


def _write_files(folder: Path, observations: int) -> tuple[Path, Path, Path, Path, Path]:
    csv_path, parquet_path = folder / "observations.csv", folder / "observations.parquet"
    json_path = folder / "observations.json"
    arrow_body, csv_body = folder / "body.arrows", folder / "body.csv"
    per_stream = observations // DATASTREAMS
    duckdb.sql(
        f"COPY (SELECT 'S' || s || '/pm25' AS datastream, "
        f"strftime(TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (m) MINUTE, "
        f"'%Y-%m-%dT%H:%M:%SZ') AS phenomenonTime, round(random() * 50, 2) AS result "
        f"FROM range({DATASTREAMS}) s(s), range({per_stream}) m(m)) "
        f"TO '{csv_path}' (HEADER)")
    table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
        column_types={"phenomenonTime": pa.string()}))
    pq.write_table(table, parquet_path)
    json_path.write_text(json.dumps(_data_array_document(table)))
    body = _table_body(table)
    with pa.OSFile(str(arrow_body), "wb") as sink, pa.ipc.new_stream(sink, body.schema) as out:
        out.write_table(body)
    pacsv.write_csv(body, csv_body)
    return csv_path, parquet_path, json_path, arrow_body, csv_body


def _table_body(table: pa.Table) -> pa.Table:
    """The rows as a CreateObservations table body: ids follow creation order."""
    numbers = pc.utf8_slice_codeunits(table["datastream"], 1)
    numbers = pc.cast(pc.replace_substring(numbers, "/pm25", ""), pa.int32())
    return pa.table({"Datastream/id": pc.add(numbers, 1),
                     "phenomenonTime": table["phenomenonTime"], "result": table["result"]})


def _data_array_document(table: pa.Table) -> list[dict[str, Any]]:
    """One block per datastream; ids follow creation order in ``fresh_instance``."""
    blocks: dict[str, list[list[Any]]] = {}
    for key, moment, result in zip(table["datastream"].to_pylist(),
                                 table["phenomenonTime"].to_pylist(),
                                 table["result"].to_pylist(), strict=True):
        blocks.setdefault(key, []).append([moment, result])
    return [{"Datastream": {"@iot.id": int(key.removeprefix("S").split("/")[0]) + 1},
             "components": ["phenomenonTime", "result"], "dataArray@iot.count": len(rows),
             "dataArray": rows} for key, rows in blocks.items()]


def _best(run: Callable[[], None], prepare: Callable[[], None]) -> float:
    times = []
    for _ in range(3):
        prepare()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--observations", type=int, default=2_000_000)
    count = parser.parse_args().observations // DATASTREAMS * DATASTREAMS
    print(f"load average: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        csv_path, parquet_path, json_path, arrow_body, csv_body = _write_files(folder, count)
        data_dir = folder / "data"

        def fresh_instance() -> None:
            shutil.rmtree(data_dir, ignore_errors=True)
            instance = embedded_instance(data_dir)
            ctx = instance.system_context()
            thing_create(ctx, "bench")
            for number in range(DATASTREAMS):
                datastream_create(ctx, "bench", f"S{number}/pm25", f"S{number}",
                                  observed_property="PM2.5", unit=Unit("µg/m³", "µg/m³"),
                                  sensor="bench")
            instance.close()

        for label, path, as_objects in (
                ("CSV", csv_path, False), ("Parquet", parquet_path, False),
                ("dataArray", json_path, False), ("dataArray, orjson reader", json_path, True),
                ("dataArray Arrow IPC body", arrow_body, False),
                ("dataArray CSV body", csv_body, False)):
            seconds = _best(lambda path=path, as_objects=as_objects: _import(
                data_dir, path, as_objects=as_objects), fresh_instance)
            print(f"bylab import {label:24} {count:>10,} obs  {seconds:6.2f} s  "
                  f"{count / seconds:>12,.0f} obs/s")

        def filled_instance() -> None:
            fresh_instance()
            _import(data_dir, parquet_path)

        seconds = _best(lambda: _import(data_dir, parquet_path, expect_new=False),
                        filled_instance)
        print(f"bylab import {'Parquet again (stored)':24} {count:>10,} obs  {seconds:6.2f} s"
              f"  {count / seconds:>12,.0f} obs/s")
        floor = _best(lambda: pq.write_table(pacsv.read_csv(csv_path), folder / "floor.parquet"),
                      lambda: None)
        print(f"baseline: pyarrow CSV→Parquet {count:>8,} obs  {floor:6.2f} s  "
              f"{count / floor:>12,.0f} obs/s")
        floor = _best(lambda: _json_floor(json_path, folder / "floor.parquet"), lambda: None)
        print(f"baseline: orjson→Parquet      {count:>8,} obs  {floor:6.2f} s  "
              f"{count / floor:>12,.0f} obs/s")


def _json_floor(path: Path, target: Path) -> None:
    rows = [(block["Datastream"]["@iot.id"], *row)
            for block in orjson.loads(path.read_bytes()) for row in block["dataArray"]]
    ids, times, results = zip(*rows, strict=True)
    pq.write_table(pa.table({"datastream_id": pa.array(ids, pa.int32()),
                             "phenomenon_time": pa.array(times).cast(
                                 pa.timestamp("ms", tz="UTC")),
                             "result": pa.array(results, pa.float64())}), target)


BODY_TYPES = {".json": "application/json", ".arrows": "application/vnd.apache.arrow.stream",
              ".csv": "text/csv"}


def _import(data_dir: Path, path: Path, expect_new: bool = True, as_objects: bool = False
            ) -> None:
    """Import a file; every row is new, or (``expect_new`` false) every row is stored already.
    ``as_objects``: a JSON document parsed to Python objects (the general reader)."""
    instance = embedded_instance(data_dir)
    if as_objects:
        document = orjson.loads(path.read_bytes())
        read, new = observations_create_strict(instance.system_context(), document, path.name)
    elif path.suffix == ".json" or path.name.startswith("body."):
        document = read_body(path.read_bytes(), BODY_TYPES[path.suffix], path.name)
        read, new = observations_create_strict(instance.system_context(), document, path.name)
    else:
        read, new = observations_import(instance.system_context(), path)
    assert new == (read if expect_new else 0), (read, new)
    instance.close()


if __name__ == "__main__":
    main()
