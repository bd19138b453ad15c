"""Publish to the broker at QoS 1 with paho-mqtt 2.x, counting only what the broker acknowledged.

A message counts as published when its PUBACK arrives with a success reason code; a
PUBACK with a failure code (MQTT 5 lets the broker say "not authorised", for example),
a publish paho refuses, or a message still unacknowledged when the publisher is flushed
counts as failed. Errors: :mod:`simulators.errors`.
"""

from __future__ import annotations

import logging
import queue
import secrets
import ssl
import threading
import time
from collections import Counter

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sensors.settings import Settings
from simulators.errors import BrokerUnavailableError

log = logging.getLogger(__name__)

# paho refuses a publish whose packet id is still in use and ids wrap at 65,535: keep the
# number awaiting PUBACK well below that.
DEFAULT_MAX_PENDING = 10_000
# MQTT 5 (3.3.4): a CONNACK without Receive Maximum allows 65,535 unacknowledged messages.
_SPEC_RECEIVE_MAXIMUM = 65_535


class MqttPublisher:
    """A QoS 1 publisher that tracks every message until the broker acknowledges it.

    Each message carries a ``tag`` (for example its domain); :attr:`acknowledged`
    counts the acknowledged messages per tag. Only one thread may publish.
    """

    def __init__(self, settings: Settings, *, client_id: str | None = None,
                 max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._endpoint = settings.mqtt
        self._max_pending = max_pending
        self._window = max_pending
        # mid -> tag of every message sent and not yet settled.
        self._pending: dict[int, str] = {}
        # PUBACKs arrive on paho's network thread while it holds paho's own message lock:
        # handing them over through a lock-free queue rules out a lock-order deadlock.
        self._acks: queue.SimpleQueue[tuple[int, ReasonCode]] = queue.SimpleQueue()
        self._refusals_seen: set[str] = set()
        self._connected = threading.Event()
        self._refusal: ReasonCode | None = None
        self.acknowledged: Counter[str] = Counter()
        self.failed = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"smartplace-sim-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        if self._endpoint.username is not None:
            client.username_pw_set(self._endpoint.username, self._endpoint.password)
        if self._endpoint.tls:
            client.tls_set_context(settings.mqtt_ssl_context())
        # The window of unacknowledged messages is kept here (wait_for_room), sized to the
        # broker's Receive Maximum. paho's own limit is switched off: past it paho queues,
        # and on every PUBACK scans all its outgoing messages for one to release, which
        # measured 7,000 msgs/s against 20,000 without the limit (mosquitto on loopback).
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    @property
    def pending(self) -> int:
        """Messages sent and not yet acknowledged (as of the last :meth:`settle`)."""
        return len(self._pending)

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect and wait for the broker's CONNACK; paho's thread reconnects after that.

        Raises:
            BrokerUnavailableError: the broker is unreachable, too slow, or refused us.
        """
        scheme = "mqtts" if self._endpoint.tls else "mqtt"
        where = f"{scheme}://{self._endpoint.host}:{self._endpoint.port}"
        try:
            self._client.connect(self._endpoint.host, self._endpoint.port, keepalive=30)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerUnavailableError(f"cannot connect to the MQTT broker at {where}: "
                                         f"{exc.strerror or exc}") from exc
        self._client.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self._connected.wait(0.05):
            if self._refusal is not None or time.monotonic() > deadline:
                self.close()
                why = f"refused: {self._refusal}" if self._refusal else "no answer in time"
                raise BrokerUnavailableError(f"the MQTT broker at {where} {why}")

    def publish(self, topic: str, payload: bytes, tag: str) -> None:
        """Send one message at QoS 1 without waiting for its acknowledgement.

        Call :meth:`wait_for_room` before each publish to stay within the broker's window.
        """
        info = self._client.publish(topic, payload, qos=1)
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            # NO_CONN: paho keeps the message and sends it once it has reconnected.
            self._pending[info.mid] = tag
        else:
            log.warning("paho refused a publish: %s", mqtt.error_string(info.rc))
            self.failed += 1

    def settle(self, wait_s: float = 0.0) -> None:
        """Count the acknowledgements received so far, waiting up to ``wait_s`` for one."""
        try:
            ack = self._acks.get(timeout=wait_s) if wait_s > 0 else self._acks.get_nowait()
        except queue.Empty:
            return
        while True:
            mid, reason_code = ack
            tag = self._pending.pop(mid, None)
            if tag is not None and not reason_code.is_failure:
                self.acknowledged[tag] += 1
            elif tag is not None:
                self.failed += 1
                if str(reason_code) not in self._refusals_seen:
                    self._refusals_seen.add(str(reason_code))
                    log.warning("the broker refused a message: %s", reason_code)
            try:
                ack = self._acks.get_nowait()
            except queue.Empty:
                return

    def wait_for_room(self, stop: threading.Event) -> bool:
        """Block while too many messages await PUBACK; False if ``stop`` is set meanwhile."""
        self.settle()
        while len(self._pending) >= self._window:
            if stop.is_set():
                return False
            self.settle(0.1)
        return True

    def flush(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for outstanding PUBACKs; count the rest as failed."""
        deadline = time.monotonic() + timeout_s
        self.settle()
        while self._pending and time.monotonic() < deadline:
            self.settle(min(0.1, max(0.0, deadline - time.monotonic())))
        if self._pending:
            log.warning("%d messages were not acknowledged in time", len(self._pending))
            self.failed += len(self._pending)
            self._pending.clear()

    def close(self) -> None:
        """Disconnect and stop paho's network thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self._refusal = reason_code
            return
        receive_maximum = getattr(properties, "ReceiveMaximum", _SPEC_RECEIVE_MAXIMUM)
        self._window = max(1, min(self._max_pending, receive_maximum))
        if self._connected.is_set():
            log.warning("reconnected to the MQTT broker")
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object,
                       flags: mqtt.DisconnectFlags, reason_code: ReasonCode,
                       properties: Properties | None) -> None:
        if reason_code.is_failure and self._connected.is_set():
            log.warning("lost the MQTT broker (%s); reconnecting", reason_code)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int,
                    reason_code: ReasonCode, properties: Properties) -> None:
        self._acks.put((mid, reason_code))
