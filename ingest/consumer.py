"""The MQTT side of the ingestor: a paho-mqtt 2.x client with manual acknowledgement.

Why paho's own network thread and not aiomqtt: aiomqtt 2.x acknowledges a QoS 1
message as soon as it is queued, before it is stored, and its callback path is about
half as fast (see shared facts). With ``manual_ack`` the PUBACK is sent only once the
message is in InfluxDB, so a crash loses nothing: the broker redelivers.

The session is persistent (fixed client id, clean start off, a session that never
expires) so the broker queues messages while the ingestor is down. MQTT 5's Receive
Maximum caps how many unacknowledged messages the broker sends: that is the
ingestor's memory bound and its backpressure.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from sensors.settings import Settings
from sensors.topics import subscription

log = logging.getLogger(__name__)

SESSION_NEVER_EXPIRES = 0xFFFFFFFF

# (mid, qos, connection generation, topic, payload)
MessageHandler = Callable[[int, int, int, str, bytes], None]


class MqttConsumer:
    """Receives every message under the topic prefix and acknowledges on request."""

    def __init__(self, settings: Settings, handler: MessageHandler,
                 extra_topics: Sequence[str] = (), stale_topics: Sequence[str] = ()) -> None:
        endpoint = settings.mqtt
        self._endpoint = endpoint
        # <prefix>/#, plus the filters of the device formats in use (contract 7.2), e.g.
        # TTN's v3/+/devices/+/up, which lies outside the prefix.
        self._topics = [subscription(settings.topic_prefix), *extra_topics]
        # Filters an earlier run subscribed to and this one does not need (the persistent
        # session would keep delivering them): dropped on connect.
        self._stale_topics = list(stale_topics)
        self._handler = handler
        self._receive_maximum = settings.ingest_receive_maximum
        self.accepting = True
        self.connected = False
        # Incremented on every connection. A packet id is only meaningful on the
        # connection it arrived on: after a reconnect the broker redelivers unacknowledged
        # messages, so acknowledgements from an older connection are skipped.
        self.generation = 0
        # Set once the broker confirms the subscription: from then on nothing is missed.
        self.subscribed = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.ingest_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if endpoint.username is not None:
            client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        max_delay = int(max(1, settings.ingest_max_backoff_s))
        client.reconnect_delay_set(min_delay=1, max_delay=max_delay)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client

    def start(self) -> None:
        """Connect in the background; paho's thread retries until the broker answers."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        properties.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            self._endpoint.host, self._endpoint.port, keepalive=30,
            clean_start=False, properties=properties,
        )
        self._client.loop_start()

    def ack(self, mid: int, qos: int, generation: int) -> None:
        """Acknowledge a stored message, if it arrived on the current connection."""
        if qos > 0 and generation == self.generation and self.connected:
            self._client.ack(mid, qos)

    def stop_accepting(self) -> None:
        """Ignore further messages; the broker keeps them (unacknowledged) for next time."""
        self.accepting = False

    def close(self) -> None:
        """Send pending acknowledgements, disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()
        self.connected = False

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection", extra={"reason": str(reason_code)})
            return
        self.generation += 1
        self.connected = True
        if self._stale_topics:
            client.unsubscribe(self._stale_topics)
        client.subscribe([(topic, SubscribeOptions(qos=1)) for topic in self._topics])
        log.info(
            "connected to broker",
            extra={"broker": repr(self._endpoint), "topics": self._topics,
                   "session_present": flags.session_present},
        )

    def _on_disconnect(self, client: mqtt.Client, userdata: object,
                       flags: mqtt.DisconnectFlags, reason_code: ReasonCode,
                       properties: Properties | None) -> None:
        was_connected = self.connected
        self.connected = False
        self.subscribed.clear()
        if was_connected and self.accepting:
            log.warning("lost the broker; reconnecting", extra={"reason": str(reason_code)})

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reason_codes: list[ReasonCode], properties: Properties | None) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("broker refused the subscription", extra={"topics": self._topics,
                      "reasons": [str(code) for code in reason_codes]})
            return
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        if not self.accepting:
            return
        self._handler(
            message.mid, message.qos, self.generation, message.topic, bytes(message.payload)
        )
