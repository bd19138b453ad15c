"""The MQTT side of the ingestor: a paho-mqtt 2.x client with manual acknowledgement.

Why paho's own network thread and not aiomqtt: aiomqtt 2.x acknowledges a QoS 1
message as soon as it is queued, before it is stored, and its callback path is about
half as fast (see shared facts). With ``manual_ack`` the PUBACK is sent only once the
message is in InfluxDB, so a crash loses nothing: the broker redelivers.

The session is persistent (fixed client id, clean start off, a session that never
expires) so the broker queues messages while the ingestor is down. MQTT 5's Receive
Maximum caps how many unacknowledged QoS 1 messages the broker sends: that is the
ingestor's memory bound and its backpressure (QoS 0 is bounded by the spool instead).
The subscription asks for retained messages only when it is new (MQTT 5 retain
handling 1), so a reconnect of the persistent session does not receive them again.
Connection failures are logged with their cause (a TLS verification failure names the
CA setting), and a session taken over by another client with the same id says so.

Several ingestors share the load through an MQTT 5 shared subscription
(``$share/<group>/<prefix>/#``, ``SMARTPLACE_INGEST_SHARE_GROUP``): each keeps its own
stable id and persistent session, so what the broker queued for a member waits for that
member to come back. A member retired for good is emptied with ``drain=True``
(``smartplace ingest drain``): it resumes the session, leaves the group at once, stores
what was queued, and ends the session (docs/scaling.md).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt_client import FastClient
from sensors.settings import Settings
from sensors.topics import shared, subscription

log = logging.getLogger(__name__)


def subscription_of(topic: str) -> str:
    """The topic filter of a subscription, without a ``$share/<group>/`` in front."""
    if topic.startswith("$share/"):
        return topic.split("/", 2)[2]
    return topic


SESSION_NEVER_EXPIRES = 0xFFFFFFFF
SESSION_TAKEN_OVER = 0x8E  # MQTT 5 DISCONNECT reason: another client connected with our id
RETAIN_IF_NEW_SUBSCRIPTION = 1
# A connection that ends this soon after it began, this often in a minute, is a takeover.
SHORT_CONNECTION_S = 10.0
FLAP_WINDOW_S = 60.0
FLAPS_FOR_TAKEOVER = 3

# (mid, qos, connection generation, topic, payload, retained)
MessageHandler = Callable[[int, int, int, str, bytes, bool], None]
class Delivery(Protocol):
    """What acknowledging a received message needs to know about it."""

    @property
    def mid(self) -> int: ...
    @property
    def qos(self) -> int: ...
    @property
    def generation(self) -> int: ...


def describe_connect_error(error: OSError, endpoint: str) -> str:
    """Why a connection attempt failed, in words an operator can act on."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"TLS verification of the broker at {endpoint} failed "
                f"({error.verify_message}): set SMARTPLACE_MQTT_CA_FILE to the CA that signed "
                "the broker's certificate (and check the host name in SMARTPLACE_MQTT_URL)")
    if isinstance(error, ssl.SSLError):
        return (f"TLS with the broker at {endpoint} failed ({error.reason or error}): check "
                "SMARTPLACE_MQTT_CA_FILE, SMARTPLACE_MQTT_CLIENT_CERT and _KEY")
    return f"cannot reach the broker at {endpoint} ({error.strerror or error})"


class MqttConsumer:
    """Receives every message under the topic prefix and acknowledges on request."""

    def __init__(self, settings: Settings, handler: MessageHandler, *,
                 extra_topics: Sequence[str] = (), drain: bool = False) -> None:
        endpoint = settings.mqtt
        self._endpoint = endpoint
        group = settings.ingest_share_group
        # <prefix>/#, plus the filters of the device formats in use (contract 7.2), e.g.
        # TTN's v3/+/devices/+/up, which lies outside the prefix; shared like it in a group.
        self.topics = [subscription(settings.topic_prefix, group),
                       *(shared(topic, group) for topic in extra_topics)]
        # Filters an earlier run subscribed to and this one does not need (the persistent
        # session would keep delivering them): dropped on connect (set before start).
        self.stale_topics: list[str] = []
        # Drain: unsubscribe instead of subscribing; `unsubscribed` is set once the broker
        # confirms, after which only messages already queued for the session arrive.
        self._drain = drain
        self.unsubscribed = threading.Event()
        self.unsubscribed_at = 0.0
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
        # The latest connection problem, for the readiness check (None once connected).
        self.last_error: str | None = None
        self._client_id = settings.ingest_client_id
        self._connected_at = 0.0
        self._short_drops: deque[float] = deque(maxlen=FLAPS_FOR_TAKEOVER)
        client = FastClient(
            CallbackAPIVersion.VERSION2,
            client_id=settings.ingest_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if endpoint.username is not None:
            client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            client.tls_set_context(settings.mqtt_ssl_context())
        max_delay = int(max(1, settings.ingest_max_backoff_s))
        client.reconnect_delay_set(min_delay=1, max_delay=max_delay)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.publish_handler = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_connect_fail = self._on_connect_fail
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

    def ack_all(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge stored messages (those of the current connection) in one write."""
        if not self.connected:
            return
        generation = self.generation
        self._client.send_pubacks([one.mid for one in deliveries
                                   if one.qos == 1 and one.generation == generation])
        for one in deliveries:  # the subscription is QoS 1, so a broker never sends 2
            if one.qos == 2 and one.generation == generation:
                self._client.ack(one.mid, 2)

    def publish(self, topic: str, payload: bytes, timeout_s: float) -> bool:
        """Publish at QoS 1 on this connection; True once the broker acknowledged it (paho
        keeps it and sends it on reconnection if the broker is away)."""
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout_s)
        return info.is_published()

    def stop_accepting(self) -> None:
        """Ignore further messages; the broker keeps them (unacknowledged) for next time."""
        self.accepting = False

    def close(self, end_session: bool = False) -> None:
        """Send pending acknowledgements, disconnect and stop the network thread; with
        ``end_session``, tell the broker to discard the session (MQTT 5 session expiry 0)."""
        properties = None
        if end_session:
            properties = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 0
        self._client.disconnect(properties=properties)
        self._client.loop_stop()
        # paho closes its wake-up socket pair only when the client is collected, which a
        # reference cycle can leave to chance (a ResourceWarning then): close it now.
        self._client._reset_sockets()
        self.connected = False

    def _report(self, message: str, **extra: object) -> None:
        # Once per distinct problem: a broker away for an hour is one log line, not 3,600.
        if message != self.last_error:
            log.error(message, extra=dict(extra))
        self.last_error = message

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        error = self._client.last_connect_error
        if error is not None:
            self._report(describe_connect_error(error, repr(self._endpoint)))

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self._report(f"the broker refused the connection ({reason_code}): check the user "
                         "and password in SMARTPLACE_MQTT_URL and the broker's ACL",
                         reason=str(reason_code))
            return
        self.generation += 1
        self.connected = True
        self._connected_at = time.monotonic()
        if self._drain:
            # Both forms: the retired member may have run with or without a share group.
            client.unsubscribe(list(dict.fromkeys(
                form for topic in self.topics for form in (topic, subscription_of(topic)))))
        else:
            if self.stale_topics:
                client.unsubscribe(self.stale_topics)
            client.subscribe([(topic, SubscribeOptions(
                qos=1, retainHandling=RETAIN_IF_NEW_SUBSCRIPTION)) for topic in self.topics])
        log.info(
            "connected to broker",
            extra={"broker": self._endpoint.address, "topics": self.topics,
                   "session_present": flags.session_present},
        )

    def _on_disconnect(self, client: mqtt.Client, userdata: object,
                       flags: mqtt.DisconnectFlags, reason_code: ReasonCode,
                       properties: Properties | None) -> None:
        was_connected = self.connected
        self.connected = False
        self.subscribed.clear()
        now = time.monotonic()
        if was_connected and now - self._connected_at < SHORT_CONNECTION_S:
            self._short_drops.append(now)
        recent = [at for at in self._short_drops if now - at < FLAP_WINDOW_S]
        # mosquitto 2.0 drops the older connection without saying why ("Unspecified error");
        # other brokers send "Session taken over". Either way: connections that keep ending
        # right after they began mean another client is using our id.
        if reason_code.value == SESSION_TAKEN_OVER or len(recent) >= FLAPS_FOR_TAKEOVER:
            # Two processes with one client id take the session from each other in turns,
            # and each loses the messages in flight to it: never a state to run in.
            self._report(f"another client connected with this ingestor's client id "
                         f"{self._client_id!r} and took over its session: give each ingestor "
                         "its own SMARTPLACE_INGEST_CLIENT_ID (and keep the broker's ACL from "
                         "letting anyone else use it)", reason=str(reason_code))
        elif was_connected and self.accepting:
            log.warning("lost the broker; reconnecting", extra={"reason": str(reason_code)})
        elif self.accepting:
            hint = (": check SMARTPLACE_MQTT_CLIENT_CERT and SMARTPLACE_MQTT_CLIENT_KEY if it "
                    "asks for a client certificate (its log says why)" if self._endpoint.tls
                    else "")
            self._report(f"the broker at {self._endpoint!r} closed the connection before "
                         f"accepting it ({reason_code}){hint}", reason=str(reason_code))

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reason_codes: list[ReasonCode], properties: Properties | None) -> None:
        if any(code.is_failure for code in reason_codes):
            self._report(f"the broker refused the subscription to {', '.join(self.topics)} "
                         f"({', '.join(str(code) for code in reason_codes)}): the broker's ACL "
                         "must let this account read it",
                         reasons=[str(code) for code in reason_codes])
            return
        # Connected and subscribed: any earlier problem is over (a takeover report stays
        # until the connections stop flapping).
        if self.last_error is not None and "took over" not in self.last_error:
            log.info("broker connection recovered", extra={"was": self.last_error})
            self.last_error = None
        self.subscribed.set()

    def _on_unsubscribe(self, client: mqtt.Client, userdata: object, mid: int,
                        reason_codes: list[ReasonCode], properties: Properties | None) -> None:
        log.info("left the subscription; storing what the broker queued for this session",
                 extra={"topics": self.topics, "reasons": [str(code) for code in reason_codes]})
        self.unsubscribed_at = time.monotonic()
        self.unsubscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        # paho's path: a message with MQTT 5 properties (or QoS 2).
        if not self.accepting:
            return
        self._handler(message.mid, message.qos, self.generation, message.topic,
                      bytes(message.payload), message.retain)

    def _on_publish(self, mid: int, qos: int, topic: str, payload: bytes,
                    retained: bool) -> None:
        if self.accepting:
            self._handler(mid, qos, self.generation, topic, payload, retained)
