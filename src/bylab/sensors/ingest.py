"""MQTT ingestion: subscribe with QoS 1 in a persistent session, store in batches, and
acknowledge a message only once everything it carried is stored (or dead-lettered).

The broker keeps every unacknowledged message of the session (fixed client id, clean start
off, a session that never expires), so if the process dies — even by SIGKILL — between
receiving and storing, the broker delivers those messages again on restart. Messages that
were stored but not yet acknowledged come again too; their observations have the ids of the
stored ones and the store drops them, so each observation is stored exactly once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.sensors.actions import datastream_index, dead_letters_add, observations_store
from bylab.sensors.payloads import Parsed, creates_observations, parse_payload
from bylab.sensors.sta_mqtt import ORIGIN_PROPERTY
from bylab.sensors.store import observation_table

log = logging.getLogger("bylab.sensors.ingest")
NEVER_EXPIRES = 0xFFFFFFFF
RECEIVE_MAXIMUM = 65535  # unacknowledged messages the broker may send us at once
INDEX_REFRESH_S = 5.0


def _carries_observations(message: mqtt.MQTTMessage) -> bool:
    """False for SensorThings notifications, bylab's own (``sta_mqtt``) among them: they
    share the topics that create Observations, and were stored before they were sent."""
    origin = getattr(message.properties, "UserProperty", None) or []
    return ORIGIN_PROPERTY not in origin and creates_observations(message.topic)


class Ingestor:
    def __init__(self, ctx: Context, stop: threading.Event | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.stop = stop or threading.Event()
        self.subscribed = threading.Event()
        self._pending: list[mqtt.MQTTMessage] = []
        self._arrived = threading.Condition()
        self._index = datastream_index(ctx)
        self._index_read = time.monotonic()

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object,
                    reason: mqtt.ReasonCode, _properties: object) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(topic, 1) for topic in self.settings.mqtt_topics])

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int,
                      _reasons: object, _properties: object) -> None:
        log.info("subscribed to %s on %s:%d as %s", ", ".join(self.settings.mqtt_topics),
                 self.settings.mqtt_host, self.settings.mqtt_port, self.settings.mqtt_client_id)
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self._pending.append(message)
            if len(self._pending) >= self.settings.mqtt_batch_size:
                self._arrived.notify()

    def _next_batch(self) -> list[mqtt.MQTTMessage]:
        """Wait for a message, then up to mqtt_batch_ms for the batch to fill."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: self._pending or self.stop.is_set(), 0.5):
                return []
            self._arrived.wait_for(
                lambda: len(self._pending) >= self.settings.mqtt_batch_size
                or self.stop.is_set(), self.settings.mqtt_batch_ms / 1000)
            batch = self._pending[:self.settings.mqtt_batch_size]
            del self._pending[:len(batch)]
            return batch

    def _store(self, client: mqtt.Client, batch: list[mqtt.MQTTMessage]) -> None:
        if time.monotonic() - self._index_read > INDEX_REFRESH_S:
            self._index, self._index_read = datastream_index(self.ctx), time.monotonic()
        parsed = Parsed()
        for message in batch:
            if _carries_observations(message):
                parse_payload(message.payload, message.topic, self._index, parsed)
        new = observations_store(self.ctx, observation_table(
            parsed.datastream_ids, parsed.times_ms, parsed.results, parsed.feature_ids))
        dead_letters_add(self.ctx, parsed.rejected)
        # Only now, with the batch durable, does the broker hear that we have it.
        for message in batch:
            client.ack(message.mid, message.qos)
        log.info("%d messages: %d observations stored, %d duplicates, %d dead letters",
                 len(batch), new, len(parsed.results) - new, len(parsed.rejected))

    def run(self, on_batch: Callable[[], None] | None = None) -> None:
        """Ingest until ``stop`` is set (or the process is killed)."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.settings.mqtt_client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = NEVER_EXPIRES
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        try:
            client.connect(self.settings.mqtt_host, self.settings.mqtt_port, clean_start=False,
                           properties=properties)
        except OSError as error:
            raise InvalidInput("cannot reach the MQTT broker at {host}:{port}: {error}",
                               field="mqtt_host", host=self.settings.mqtt_host,
                               port=self.settings.mqtt_port, error=error) from None
        client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._next_batch()
                if batch:
                    self._store(client, batch)
                    if on_batch:
                        on_batch()
        finally:
            client.disconnect()
            client.loop_stop()
