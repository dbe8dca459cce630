"""The SensorThings MQTT extension against the real Mosquitto broker on 127.0.0.1:1883:
notifications of new Observations, and Observations created by publishing."""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.sensors.actions import (
    Unit,
    datastream_create,
    dead_letter_list,
    observations_store,
    thing_create,
)
from bylab.sensors.ingest import Ingestor
from bylab.sensors.models import SensorVisibility
from bylab.sensors.observation_ids import ID_TIME_BITS
from bylab.sensors.sta_mqtt import CREATE_CONFORMANCE, RECEIVE_CONFORMANCE
from bylab.sensors.store import observation_table
from bylab.testing.backends import embedded_instance
from tests.conftest import PASSWORD
from tests.sensors.test_ingest import _session, _stored, _wait_for

WAIT_S = 10.0


class Subscriber:
    """A client on ``v1.1/#`` that keeps the notifications under one service root (other
    tests publish to the same topics at the same time)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.on_connect = lambda client, *_args: client.subscribe("v1.1/#")
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        assert subscribed.wait(WAIT_S), "the subscriber did not subscribe"

    def _on_message(self, _client: mqtt.Client, _userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        try:
            entity = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(entity, dict) and str(entity.get("@iot.selfLink")).startswith(self.root):
            self.messages.put((message.topic, entity))

    def next(self) -> tuple[str, dict[str, Any]]:
        return self.messages.get(timeout=WAIT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Bylab]:
    """An instance publishing notifications, under a service root of its own."""
    instance = embedded_instance(tmp_path / "data", sta_mqtt_publish=True,
                                 base_url=f"http://live-{uuid.uuid4().hex}.test")
    yield instance
    instance.close()


@pytest.fixture
def subscriber(live: Bylab) -> Iterator[Subscriber]:
    listening = Subscriber(live.settings.base_url + "/sta/v1.1")
    yield listening
    listening.close()


def _editor_token(bylab: Bylab) -> dict[str, str]:
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    return {"Authorization": f"Bearer {accounts.token_create(ctx, 'tests', 'mia')}"}


def _datastream(bylab: Bylab, thing: str, visibility: SensorVisibility) -> int:
    ctx = bylab.system_context()
    thing_create(ctx, thing, organisation="molde", visibility=visibility,
                 coordinates=(7.16, 62.73))
    return datastream_create(ctx, thing, f"{thing}/no2", "NO2", observed_property="NO2",
                             unit=Unit("µg per m³", "µg/m³"), sensor="Monitor").id


def _store_one(bylab: Bylab, datastream_id: int, time_ms: int, result: float) -> int:
    return observations_store(bylab.system_context(), observation_table(
        [datastream_id], [time_ms], [result]))


def test_a_posted_public_observation_is_published_on_all_four_topics_as_the_api_gives_it(
        live: Bylab, subscriber: Subscriber) -> None:
    with TestClient(create_app(live), base_url="http://testserver") as client:
        headers = _editor_token(live)
        datastream_id = _datastream(live, "Harbour", SensorVisibility.PUBLIC)
        created = client.post(f"/sta/v1.1/Datastreams({datastream_id})/Observations",
                              json={"phenomenonTime": "2024-05-01T10:00:00Z", "result": 21.5},
                              headers=headers)
        assert created.status_code == 201, created.text
        received = dict(subscriber.next() for _ in range(4))
        (entity,) = {json.dumps(body, sort_keys=True) for body in received.values()}
        observation_id = json.loads(entity)["@iot.id"]
        stored = client.get(f"/sta/v1.1/Observations({observation_id})", headers=headers)
        feature = client.get(f"/sta/v1.1/Observations({observation_id})/FeatureOfInterest",
                             headers=headers).json()["@iot.id"]
    assert observation_id >> ID_TIME_BITS == datastream_id
    assert set(received) == {"v1.1/Observations",
                             f"v1.1/Datastreams({datastream_id})/Observations",
                             f"v1.1/FeaturesOfInterest({feature})/Observations",
                             f"v1.1/Observations({observation_id})"}
    assert json.loads(entity) == stored.json()
    assert stored.json()["@iot.selfLink"] == (
        f"{live.settings.base_url}/sta/v1.1/Observations({observation_id})")
    assert stored.json()["result"] == 21.5


def test_observations_of_a_private_datastream_are_never_published(
        live: Bylab, subscriber: Subscriber) -> None:
    _editor_token(live)
    private = _datastream(live, "Private station", SensorVisibility.PRIVATE)
    public = _datastream(live, "Public station", SensorVisibility.PUBLIC)
    both = observation_table([private, public], [1_714_557_600_000] * 2, [1.0, 2.0])
    assert observations_store(live.system_context(), both) == 2
    # Published after the private one on the same connection: once it is here, so would that be.
    assert _store_one(live, public, 1_714_557_660_000, 3.0) == 1
    seen: list[dict[str, Any]] = []
    while not any(entity["result"] == 3.0 for entity in seen):
        seen.append(subscriber.next()[1])
    assert {entity["@iot.id"] >> ID_TIME_BITS for entity in seen} == {public}
    assert sorted({entity["result"] for entity in seen}) == [2.0, 3.0]


def test_a_store_succeeds_while_the_broker_is_down_and_says_so_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Port 9 (discard) has no broker listening.
    bylab = embedded_instance(tmp_path / "data", sta_mqtt_publish=True, mqtt_port=9)
    try:
        _editor_token(bylab)
        datastream_id = _datastream(bylab, "Harbour", SensorVisibility.PUBLIC)
        with caplog.at_level(logging.WARNING, logger="bylab.sensors.sta_mqtt"):
            assert _store_one(bylab, datastream_id, 1_714_557_600_000, 1.0) == 1
            assert _store_one(bylab, datastream_id, 1_714_557_660_000, 2.0) == 1
        assert [result for _, _, result in _stored(bylab)] == [1.0, 2.0]
        outages = [record for record in caplog.records
                   if record.name == "bylab.sensors.sta_mqtt"]
        assert len(outages) == 1 and "127.0.0.1:9" in outages[0].getMessage()
    finally:
        bylab.close()


def test_observations_published_to_both_topic_forms_are_created_and_a_bad_one_dead_lettered(
        tmp_path: Path) -> None:
    client_id = f"bylab-test-{uuid.uuid4().hex}"
    bylab = embedded_instance(tmp_path / "data", sta_mqtt_publish=True, mqtt_topics=["v1.1/#"],
                              mqtt_client_id=client_id, mqtt_batch_ms=50)
    stop = threading.Event()
    try:
        _editor_token(bylab)
        datastream_id = _datastream(bylab, "Harbour", SensorVisibility.PUBLIC)
        marker = uuid.uuid4().hex
        with _session(client_id):
            ingestor = Ingestor(bylab.system_context(), stop)
            running = threading.Thread(target=ingestor.run)
            running.start()
            assert ingestor.subscribed.wait(WAIT_S)
            publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            publisher.connect("127.0.0.1", 1883)
            publisher.loop_start()
            for topic, body in (
                    (f"v1.1/Datastreams({datastream_id})/Observations",
                     {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 11.5}),
                    ("v1.1/Observations",
                     {"phenomenonTime": "2024-05-01T11:00:00Z", "result": 12.5,
                      "Datastream": {"@iot.id": datastream_id}}),
                    (f"v1.1/Datastreams({datastream_id})/Observations",
                     {"phenomenonTime": "2024-05-01T12:00:00Z", "result": marker})):
                publisher.publish(topic, json.dumps(body), qos=1).wait_for_publish(WAIT_S)
            publisher.disconnect()
            publisher.loop_stop()
            ctx = bylab.system_context()
            _wait_for(lambda: any(marker in letter.payload for letter in dead_letter_list(ctx)),
                      WAIT_S, "the bad observation's dead letter")
            _wait_for(lambda: len(_stored(bylab)) >= 2, WAIT_S, "the two observations")
            stop.set()
            running.join(WAIT_S)
        assert [(ds, result) for _, ds, result in _stored(bylab)] == [
            (datastream_id, 11.5), (datastream_id, 12.5)]
        # Its own notifications of the two, on the same topics, are not taken as new input.
        assert [letter.reason for letter in dead_letter_list(ctx)] == [
            f"result must be a number, got '{marker}'"]
    finally:
        stop.set()
        bylab.close()


def _root(bylab: Bylab) -> dict[str, Any]:
    with TestClient(create_app(bylab), base_url="http://testserver") as client:
        answer: httpx.Response = client.get("/sta/v1.1")
    return answer.json()["serverSettings"]


def test_the_service_root_names_the_mqtt_endpoints_only_when_enabled(tmp_path: Path) -> None:
    quiet = embedded_instance(tmp_path / "quiet")
    both = embedded_instance(tmp_path / "both", sta_mqtt_publish=True, mqtt_port=1884,
                             mqtt_topics=["bylab/observations/#", "v1.1/#"])
    try:
        assert CREATE_CONFORMANCE not in _root(quiet)["conformance"]
        assert RECEIVE_CONFORMANCE not in _root(quiet)
        settings = _root(both)
        assert CREATE_CONFORMANCE in settings["conformance"]
        # Observations only: the receive class (every entity set) is not claimed, but its
        # endpoint is named so clients find the broker.
        assert RECEIVE_CONFORMANCE not in settings["conformance"]
        for name in (CREATE_CONFORMANCE, RECEIVE_CONFORMANCE):
            assert settings[name] == {"endpoints": ["mqtt://127.0.0.1:1884"]}
    finally:
        quiet.close()
        both.close()
