"""The SensorThings MQTT extension (OGC 18-088 §14): new Observations of public Datastreams
are published to the broker, and Observations published to it are created by ingestion.

Publishing is QoS 0: the messages are live notifications, the same data stays readable over
HTTP, and at-most-once means paho never queues messages in memory while the broker is down,
so a store never waits for, or piles up behind, the broker.

A batch of up to ``PUBLISH_EVERY_ROW_UP_TO`` new rows publishes each of them; a bigger one
(a file import, a harvest) publishes only the latest new observation of each datastream, the
one a live dashboard shows, so a 2 M-row import sends a message per datastream, not 2 M."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pyarrow as pa
import pyarrow.compute as pc
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select

from bylab.auth.actor import Actor
from bylab.core import Context
from bylab.sensors.actions import visible_things_clause
from bylab.sensors.models import Datastream, Thing
from bylab.sensors.sta import SERVICE_PATH, Options, Request, observation_entity, render
from bylab.sensors.sta_graph import Graph
from bylab.sensors.store import OBSERVATION_SCHEMA
from bylab.settings import Settings

log = logging.getLogger("bylab.sensors.sta_mqtt")
VERSION_TOPIC = "v1.1"
CREATE_TOPICS = (f"{VERSION_TOPIC}/Observations", f"{VERSION_TOPIC}/Datastreams(1)/Observations")
CREATE_CONFORMANCE = ("http://www.opengis.net/spec/iot_sensing/1.1/req/"
                      "create-observations-via-mqtt/observations-creation")
RECEIVE_CONFORMANCE = ("http://www.opengis.net/spec/iot_sensing/1.1/req/"
                       "receive-updates-via-mqtt/receive-updates")
PUBLISH_EVERY_ROW_UP_TO = 1000
CONNECT_TIMEOUT_S = 5.0
RECONNECT_AFTER_S = 10.0  # while the broker is down, try it again at most this often
# Marks our own notifications, so that ingestion subscribed to the same topics skips them.
ORIGIN_PROPERTY = ("bylab-origin", "sta-notification")


class ObservationPublisher:
    """One persistent paho client per broker and process, connected on first use; every
    method is safe to call from any thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._client: mqtt.Client | None = None
        self._failed_at: float | None = None  # when the current outage was first seen
        self._properties = Properties(PacketTypes.PUBLISH)
        self._properties.UserProperty = [ORIGIN_PROPERTY]

    def _connected_client(self) -> mqtt.Client | None:
        if self._client is not None:
            return self._client
        if self._failed_at is not None and time.monotonic() - self._failed_at < RECONNECT_AFTER_S:
            return None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        accepted = threading.Event()
        client.on_connect = lambda *_args: accepted.set()
        try:
            client.connect(self.host, self.port)
        except OSError as error:
            return self._unreachable(str(error))
        client.loop_start()  # from here paho reconnects by itself
        # Publishing before the broker's answer leaves messages in paho's queue until the
        # next network event, which may be a keep-alive a minute later.
        if not accepted.wait(CONNECT_TIMEOUT_S):
            client.loop_stop()
            return self._unreachable("no answer to CONNECT")
        self._client = client
        return client

    def _unreachable(self, reason: str) -> None:
        self._outage(reason)
        self._failed_at = time.monotonic()

    def _outage(self, reason: str) -> None:
        if self._failed_at is None:
            log.warning("cannot publish Observations to the MQTT broker at %s:%d (%s); "
                        "stores go on without notifications", self.host, self.port, reason)

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish (topic, payload) pairs at QoS 0; drop them when the broker is down."""
        with self._lock:
            client = self._connected_client()
            if client is None:
                return
            for topic, payload in messages:
                info = client.publish(topic, payload, qos=0, properties=self._properties)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    self._outage(mqtt.error_string(info.rc))
                    self._failed_at = self._failed_at or time.monotonic()
                    return
            if self._failed_at is not None:
                log.info("publishing Observations to %s:%d again", self.host, self.port)
                self._failed_at = None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client.loop_stop()
                self._client = None


_publishers: dict[tuple[str, int], ObservationPublisher] = {}
_publishers_lock = threading.Lock()


def publisher_for(settings: Settings) -> ObservationPublisher:
    """The process's publisher to the configured broker."""
    address = (settings.mqtt_host, settings.mqtt_port)
    with _publishers_lock:
        if address not in _publishers:
            _publishers[address] = ObservationPublisher(*address)
        return _publishers[address]


def service_root_url(settings: Settings) -> str:
    """The absolute STA root for self links; without ``base_url``, where `bylab serve` listens."""
    base = settings.base_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return base + SERVICE_PATH


def public_datastream_ids(ctx: Context, datastream_ids: list[int]) -> set[int]:
    """Those of the datastreams that anonymous readers see through the STA."""
    query = select(Datastream.id).join(Thing, Thing.id == Datastream.thing_id).where(
        Datastream.id.in_(datastream_ids), visible_things_clause(Actor.anonymous()))
    with ctx.db.session() as session:
        return set(session.scalars(query))


def _to_publish(fresh: pa.Table) -> pa.Table:
    if fresh.num_rows <= PUBLISH_EVERY_ROW_UP_TO:
        return fresh
    latest = fresh.group_by("datastream_id", use_threads=False).aggregate(
        [("phenomenon_time", "max")])
    keyed = fresh.join(latest, "datastream_id", use_threads=False)
    return keyed.filter(pc.equal(keyed["phenomenon_time"], keyed["phenomenon_time_max"]))


def observation_messages(ctx: Context, root: str, rows: pa.Table) -> list[tuple[str, bytes]]:
    """The four (topic, payload) notifications of each stored observation row."""
    # No $expand, so the renderer reads no related entity from the graph.
    request = Request(ctx=ctx, graph=Graph(sets={}, thing_locations=[]), root=root, path=root,
                      params={})
    messages = []
    for row in zip(*(rows[name].to_pylist() for name in OBSERVATION_SCHEMA.names), strict=True):
        entity = observation_entity(row)
        payload = json.dumps(render(request, "Observations", entity, Options())).encode()
        identifier, datastream_id, feature_id = row[0], entity["_datastream"], entity["_feature"]
        topics = [f"{VERSION_TOPIC}/Observations",
                  f"{VERSION_TOPIC}/Datastreams({datastream_id})/Observations",
                  f"{VERSION_TOPIC}/Observations({identifier})"]
        if feature_id is not None:
            topics.append(f"{VERSION_TOPIC}/FeaturesOfInterest({feature_id})/Observations")
        messages.extend((topic, payload) for topic in topics)
    return messages


def observations_publish(ctx: Context, fresh: pa.Table) -> None:
    """Notify MQTT subscribers of newly stored observations of public datastreams (see the
    module docstring for which); never raises for the broker's sake."""
    public = public_datastream_ids(ctx, pc.unique(fresh["datastream_id"]).to_pylist())
    if not public:
        return
    shown = _to_publish(fresh.filter(pc.is_in(fresh["datastream_id"], pa.array(
        sorted(public), pa.int32()))))
    messages = observation_messages(ctx, service_root_url(ctx.settings), shown)
    publisher_for(ctx.settings).publish(messages)


def creation_enabled(settings: Settings) -> bool:
    """Whether ingestion's subscriptions take Observations published to the STA topics."""
    return any(mqtt.topic_matches_sub(topic_filter, topic)
               for topic_filter in settings.mqtt_topics for topic in CREATE_TOPICS)


def server_settings(settings: Settings) -> dict[str, Any]:
    """The MQTT part of the service root's ``serverSettings``: the endpoint of each enabled
    class under the class's name, as OGC 18-088 §8.2 shows."""
    endpoint = {"endpoints": [f"mqtt://{settings.mqtt_host}:{settings.mqtt_port}"]}
    enabled = {CREATE_CONFORMANCE: creation_enabled(settings),
               RECEIVE_CONFORMANCE: settings.sta_mqtt_publish}
    return {name: endpoint for name, on in enabled.items() if on}


def claimed_classes(settings: Settings) -> list[str]:
    """The enabled MQTT classes bylab conforms to. Receiving updates is not claimed: the
    class asks for notifications of every entity set, and bylab publishes Observations only
    (its endpoint is still named, so clients find the broker)."""
    return [CREATE_CONFORMANCE] if creation_enabled(settings) else []
