"""MQTT ingestion against the real Mosquitto broker on 127.0.0.1:1883, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bylab.core import Bylab
from bylab.sensors.actions import (
    Unit,
    datastream_create,
    dead_letter_list,
    dead_letter_replay,
    observation_store,
    thing_create,
)

START = datetime(2024, 5, 1, tzinfo=UTC)


def _stations(bylab: Bylab) -> dict[str, int]:
    ctx = bylab.system_context()
    thing_create(ctx, "Valand", coordinates=(5.73, 58.97))
    return {key: datastream_create(ctx, "Valand", key, key, observed_property=prop, unit=unit,
                                   sensor="Monitor").id
            for key, prop, unit in (("Valand/pm25", "PM2.5", Unit("µg per m³", "µg/m³")),
                                    ("Valand/temperature", "Air temperature",
                                     Unit("degree Celsius", "°C")))}


def _stored(bylab: Bylab) -> list[tuple[int, int, float]]:
    """(id, datastream, result) of every stored observation, with duplicates if any."""
    scan = observation_store(bylab.system_context()).scan()
    if scan is None:
        return []
    return bylab.tables.connection().execute(
        f"SELECT id, datastream_id, result FROM {scan} ORDER BY id").fetchall()


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def _session(client_id: str) -> Iterator[None]:
    """Remove the broker's persistent session of ``client_id`` afterwards."""
    try:
        yield
    finally:
        cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                              protocol=mqtt.MQTTv5)
        cleaner.connect("127.0.0.1", 1883, clean_start=True)
        cleaner.disconnect()


class IngestProcess:
    """`bylab sensors ingest` as its own process, logging to a file."""

    def __init__(self, bylab: Bylab, topic: str, client_id: str, log: Path) -> None:
        self.log = log
        env = {**os.environ, "BYLAB_DATA_DIR": str(bylab.settings.data_dir),
               "BYLAB_SECRET_KEY": "test-secret", "BYLAB_MQTT_TOPICS": json.dumps([topic]),
               "BYLAB_MQTT_CLIENT_ID": client_id, "BYLAB_MQTT_BATCH_MS": "50",
               "BYLAB_MQTT_BATCH_SIZE": "50", "COLUMNS": "200"}
        env.pop("BYLAB_DATABASE_URL", None)
        with open(log, "w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from bylab.cli import main; main()", "sensors",
                 "ingest"], env=env, stdout=output, stderr=subprocess.STDOUT)
        _wait_for(lambda: "subscribed to" in self.text() or self.process.poll() is not None,
                  30, "the ingest process to subscribe")
        assert self.process.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


def _publisher() -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    return client


def _observation_messages(ids: dict[str, int], messages: int, per_message: int
                          ) -> list[bytes]:
    """STA-style arrays alternating with simple payloads; every observation is distinct."""
    payloads = []
    for number in range(messages):
        items = []
        for offset in range(per_message):
            moment = (START + timedelta(minutes=number * per_message + offset)).isoformat()
            if number % 2:
                items.append({"sensor": "Valand/pm25", "time": moment,
                              "value": number + offset / 10})
            else:
                items.append({"phenomenonTime": moment, "result": number + offset / 10,
                              "Datastream": {"@iot.id": ids["Valand/temperature"]}})
        payloads.append(json.dumps(items).encode())
    return payloads


def test_killed_ingestion_loses_no_acknowledged_observation_and_stores_each_once(
        embedded: Bylab, tmp_path: Path) -> None:
    ids = _stations(embedded)
    topic, client_id = f"bylab-test/{uuid.uuid4().hex}/obs", f"ingest-{uuid.uuid4().hex}"
    payloads = _observation_messages(ids, messages=600, per_message=5)
    total = 600 * 5
    with _session(client_id):
        first = IngestProcess(embedded, topic, client_id, tmp_path / "first.log")
        publisher = _publisher()
        published: list[mqtt.MQTTMessageInfo] = []

        def publish_all() -> None:
            for payload in payloads:
                published.append(publisher.publish(topic, payload, qos=1))
                time.sleep(0.003)

        sender = threading.Thread(target=publish_all)
        sender.start()
        _wait_for(lambda: len(_stored(embedded)) >= 500, 60, "the first batches")
        first.kill()  # SIGKILL: no chance to finish a batch or say goodbye
        stored_at_kill = len(_stored(embedded))
        sender.join()
        for info in published:
            info.wait_for_publish(10)
        publisher.loop_stop()
        publisher.disconnect()
        assert stored_at_kill < total, "killed too late to prove anything"

        second = IngestProcess(embedded, topic, client_id, tmp_path / "second.log")
        _wait_for(lambda: len(_stored(embedded)) >= total, 60, "every observation")
        time.sleep(0.5)  # would a late redelivery add a duplicate?
        second.stop()
    rows = _stored(embedded)
    assert len(rows) == total
    assert len({row[0] for row in rows}) == total
    expected = sorted(number + offset / 10 for number in range(600) for offset in range(5))
    assert sorted(row[2] for row in rows) == expected


def test_bad_payloads_go_to_dead_letters_and_good_neighbours_are_kept(
        embedded: Bylab, tmp_path: Path) -> None:
    ids = _stations(embedded)
    topic, client_id = f"bylab-test/{uuid.uuid4().hex}/obs", f"ingest-{uuid.uuid4().hex}"
    good = {"sensor": "Valand/pm25", "time": "2024-05-01T00:00:00Z", "value": 3.5}
    messages = [
        b"{not json",
        json.dumps([good, {"sensor": "Nowhere/pm25", "time": "2024-05-01T00:00:00Z",
                           "value": 1}]).encode(),
        b'{"sensor": "Valand/pm25", "time": "2024-05-01T01:00:00Z", "value": NaN}',
        json.dumps({"sensor": "Valand/pm25", "time": "2099-01-01T00:00:00Z",
                    "value": 1}).encode(),
        json.dumps({"sensor": "Valand/pm25", "time": "2024-05-01T02:00:00Z", "value": 1,
                    "unit": "mg/m³"}).encode(),
        json.dumps({"phenomenonTime": "2024-05-01T03:00:00Z", "result": 7.0,
                    "Datastream": {"@iot.id": ids["Valand/temperature"]}}).encode(),
    ]
    with _session(client_id):
        ingest = IngestProcess(embedded, topic, client_id, tmp_path / "ingest.log")
        publisher = _publisher()
        for message in messages:
            publisher.publish(topic, message, qos=1).wait_for_publish(10)
        ctx = embedded.system_context()
        _wait_for(lambda: len(dead_letter_list(ctx)) == 5, 30, "five dead letters")
        ingest.stop()
        publisher.loop_stop()
        publisher.disconnect()
    assert sorted(row[2] for row in _stored(embedded)) == [3.5, 7.0]
    reasons = " | ".join(letter.reason for letter in dead_letter_list(ctx))
    for expected in ("malformed JSON", "unknown sensor 'Nowhere/pm25'", "not a finite number",
                     "in the future", "wrong unit 'mg/m³'"):
        assert expected in reasons
    assert "unknown sensor 'Nowhere/pm25'" in ingest.text()  # a clear log line

    # Once the missing station exists, replaying stores what it refused before.
    datastream_create(ctx, "Valand", "Nowhere/pm25", "PM2.5 elsewhere",
                      observed_property="PM2.5", unit=Unit("µg per m³", "µg/m³"),
                      sensor="Monitor")
    result = dead_letter_replay(ctx)
    assert (result.stored, result.still_bad) == (1, 4)
    assert sorted(row[2] for row in _stored(embedded)) == [1.0, 3.5, 7.0]
    assert len(dead_letter_list(ctx)) == 4
