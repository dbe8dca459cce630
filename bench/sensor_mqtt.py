"""Benchmark: MQTT ingestion from a publisher process through Mosquitto into
storage — observations/s, loss and end-to-end latency p95 — for `bylab sensors ingest`
beside a baseline measured in the same run: a straightforward paho-mqtt subscriber inserting
each message's rows into PostgreSQL (executemany + commit per message).

A private Mosquitto is started for the run (see BROKER_CONFIG: the stock defaults drop QoS 1
messages for a subscriber that falls behind a burst). Each message is a JSON array of SensorThings-style observations whose result is the time it
was published, so latency = time stored − result (bylab: the Parquet file's mtime; baseline:
clock_timestamp() of the row). SYNTHETIC data, QoS 1 throughout.

    .venv/bin/python bench/sensor_mqtt.py                         # 2,000 messages × 100
    .venv/bin/python bench/sensor_mqtt.py --messages 500 --per-message 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import make_url

from bylab.core import Bylab
from bylab.sensors.actions import Unit, datastream_create, observation_store, thing_create
from bylab.sensors.store import ObservationStore
from bylab.storage.tables import sql_string
from bylab.testing.backends import POSTGRES_ADMIN_URL, embedded_instance
from bylab.testing.server import free_port

# Payloads are built before the clock starts; each gets its publish time as it goes out.
PUBLISHER = """
import json, sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
topic, messages, per_message, datastream, port = sys.argv[1], *map(int, sys.argv[2:6])
payloads = []
for number in range(messages):
    items = [{"phenomenonTime": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                              time.gmtime(1704067200 + number * per_message + o)),
              "result": "NOW", "Datastream": {"@iot.id": datastream}}
             for o in range(per_message)]
    payloads.append(json.dumps(items))
client = mqtt.Client(CallbackAPIVersion.VERSION2)
client.connect("127.0.0.1", port)
client.loop_start()
print(time.time(), flush=True)
sent = [client.publish(topic, payload.replace('"NOW"', repr(time.time())), qos=1)
        for payload in payloads]
for info in sent:
    info.wait_for_publish(60)
client.loop_stop()
client.disconnect()
"""


def _publish(topic: str, messages: int, per_message: int, datastream: int) -> float:
    """Run the publisher process; returns when it started publishing."""
    done = subprocess.run([sys.executable, "-c", PUBLISHER, topic, str(messages),
                           str(per_message), str(datastream), str(PORT)], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[0])


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _report(label: str, total: int, stored: int, started: float, latencies: numpy.ndarray,
            last_stored: float) -> None:
    seconds = last_stored - started
    print(f"{label:34} {stored:>9,}/{total:,} stored  {stored / seconds:>10,.0f} obs/s  "
          f"latency p50 {numpy.percentile(latencies, 50) * 1000:7.0f} ms  "
          f"p95 {numpy.percentile(latencies, 95) * 1000:7.0f} ms")


def bench_bylab(messages: int, per_message: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        instance = embedded_instance(Path(folder) / "data")
        ctx = instance.system_context()
        thing_create(ctx, "bench")
        datastream = datastream_create(ctx, "bench", "bench/x", "x", observed_property="x",
                                       unit=Unit("second", "s"), sensor="bench").id
        topic, client_id = f"bench/{uuid.uuid4().hex}", f"bench-{uuid.uuid4().hex}"
        log = Path(folder) / "ingest.log"
        env = {**os.environ, "BYLAB_DATA_DIR": str(instance.settings.data_dir),
               "BYLAB_SECRET_KEY": "bench", "BYLAB_MQTT_TOPICS": json.dumps([topic]),
               "BYLAB_MQTT_CLIENT_ID": client_id, "BYLAB_MQTT_PORT": str(PORT)}
        with open(log, "w") as output:
            ingest = subprocess.Popen([sys.executable, "-c", "from bylab.cli import main; main()",
                                       "sensors", "ingest"], env=env, stdout=output,
                                      stderr=subprocess.STDOUT)
        if not _wait(lambda: "subscribed to" in log.read_text(), 120):
            raise SystemExit(f"ingest did not subscribe:\n{log.read_text()}")
        total = messages * per_message
        started = _publish(topic, messages, per_message, datastream)
        store = observation_store(ctx)

        def rows() -> list[tuple[str, float]]:
            return _rows_with_files(instance, store)

        _wait(lambda: len(rows()) >= total, 300)
        ingest.terminate()
        ingest.wait(20)
        found = rows()
        mtimes = {name: os.stat(name).st_mtime for name in {name for name, _ in found}}
        latencies = numpy.array([mtimes[name] - result for name, result in found])
        _report("bylab sensors ingest (Parquet)", total, len(found), started, latencies,
                max(mtimes.values()))
        _clean_session(client_id)
        instance.close()


def _rows_with_files(instance: Bylab, store: ObservationStore) -> list[tuple[str, float]]:
    """(file, result) of every stored observation."""
    files = store.files()
    if not files:
        return []
    paths = ", ".join(sql_string(path) for path in files)
    return instance.tables.connection().execute(
        f"SELECT filename, result FROM read_parquet([{paths}], filename = true, "
        "hive_partitioning = false)").fetchall()


def _clean_session(client_id: str) -> None:
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                          protocol=mqtt.MQTTv5)
    cleaner.connect("127.0.0.1", PORT, clean_start=True)
    cleaner.disconnect()


def bench_postgres(messages: int, per_message: int) -> None:
    admin_url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    name = f"bench_mqtt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url.render_as_string(hide_password=False),
                         autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE observations (datastream_id int, "
                               "phenomenon_time timestamptz, result double precision, "
                               "stored_at timestamptz DEFAULT clock_timestamp())")
            connection.commit()
            _subscribe_and_insert(connection, messages, per_message)
    finally:
        with psycopg.connect(admin_url.render_as_string(hide_password=False),
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _subscribe_and_insert(connection: psycopg.Connection, messages: int,
                          per_message: int) -> None:
    topic = f"bench/{uuid.uuid4().hex}"
    subscribed = []

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        items = json.loads(message.payload)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO observations (datastream_id, phenomenon_time, result) "
                "VALUES (%s, %s, %s)",
                [(item["Datastream"]["@iot.id"], item["phenomenonTime"], item["result"])
                 for item in items])
        connection.commit()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.append(True)
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = 65535
    client.connect("127.0.0.1", PORT, properties=properties)
    client.subscribe(topic, qos=1)
    client.loop_start()
    _wait(lambda: bool(subscribed), 10)
    total = messages * per_message
    started = _publish(topic, messages, per_message, 1)
    with psycopg.connect(connection.info.dsn) as reader:
        def count() -> int:
            row = reader.execute("SELECT count(*) FROM observations").fetchone()
            reader.commit()
            return int(row[0]) if row else 0
        _wait(lambda: count() >= total, 300)
        rows = reader.execute("SELECT extract(epoch FROM stored_at), result "
                              "FROM observations").fetchall()
    client.loop_stop()
    client.disconnect()
    stored_at = numpy.array([float(row[0]) for row in rows])
    latencies = stored_at - numpy.array([row[1] for row in rows])
    _report("baseline: paho → PostgreSQL rows", total, len(rows), started, latencies,
            float(stored_at.max()))


# Mosquitto's defaults (20 messages in flight, 1000 queued per client) drop QoS 1 messages
# for any subscriber that falls behind a burst, before it sees them; a deployment raises them.
BROKER_CONFIG = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 0
max_queued_messages 0
"""
PORT = free_port()


@contextmanager
def private_broker() -> Iterator[None]:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mosquitto.conf"
        config.write_text(BROKER_CONFIG.format(port=PORT))
        broker = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            yield
        finally:
            broker.terminate()
            broker.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--per-message", type=int, default=100)
    arguments = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}; {arguments.messages:,} messages × "
          f"{arguments.per_message} observations")
    with private_broker():
        bench_bylab(arguments.messages, arguments.per_message)
        bench_postgres(arguments.messages, arguments.per_message)


if __name__ == "__main__":
    main()
