"""paho's MQTT client with the ingestor's fast paths (paho-mqtt 2.x, pinned below 3).

Hand-written for measured speed, each against paho's private internals that have been
stable through 2.x (tests/ingest/test_consumer.py covers every path on a real broker):

- **Reading**: paho reads a packet with three ``recv`` calls (type, length, body) after
  one ``select`` each, so a message cost four system calls. Here one ``recv`` of up to
  64 KiB fills a buffer that paho's packet reader then takes from, and reading goes on
  while the buffer holds bytes (they are invisible to ``select``).
- **Receiving**: a QoS 0/1 PUBLISH without MQTT 5 properties goes straight to
  ``publish_handler``: paho builds a ``Properties`` object (clearing every property
  name), an ``MQTTMessage``, a debug log call and a topic-filter match for each message.
  Anything else (QoS 2, properties present, MQTT 3, a short packet) takes paho's path.
- **Acknowledging**: :meth:`FastClient.send_pubacks` queues the PUBACKs of a whole batch
  as one packet, which paho's network thread (the socket's owner) sends in one write;
  ``ack()`` per message took paho's locks, queued a packet and woke the network thread
  through a socket pair each time.

Figures (bench/drain.py, before/after in one run): the commits that made these changes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

# (mid, qos, topic, payload, retained): a PUBLISH as the fast path hands it over.
PublishHandler = Callable[[int, int, str, bytes, bool], None]
# A PUBACK with reason code success and no properties, which MQTT 5 (3.4.2.1) lets a client
# send as the 4 bytes of MQTT 3.1.1: type and flags, remaining length 2, packet id.
_PUBACK = struct.Struct("!BBH")
_PUBACK_TYPE = 0x40
_READ_SIZE = 65_536


class FastClient(mqtt.Client):
    """paho's client with buffered reads, a lean PUBLISH path and batched PUBACKs; it
    also keeps the error of the latest failed connection attempt (paho's network thread
    swallows it, and only reports that an attempt failed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_connect_error: OSError | None = None
        self.publish_handler: PublishHandler | None = None
        self._read_buffer = bytearray()

    def reconnect(self) -> MQTTErrorCode:
        self._read_buffer = bytearray()  # bytes of an old connection mean nothing now
        try:
            result = super().reconnect()
        except OSError as exc:
            self.last_connect_error = exc
            raise
        self.last_connect_error = None
        return result

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer = self._read_buffer
        if not buffer:
            # Raises BlockingIOError when nothing is there (paho's "try again"); b"" is
            # a closed connection, passed on as paho expects.
            data = super()._sock_recv(_READ_SIZE)
            if not data:
                return data
            buffer += data
        taken = bytes(buffer[:bufsize])
        del buffer[:bufsize]
        return taken

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        result = super().loop_read(max_packets)
        # Packets already in the buffer: select() cannot see them, so read them now. Each
        # round takes a whole packet or empties the buffer (paho then waits for more).
        while result == MQTTErrorCode.MQTT_ERR_SUCCESS and self._read_buffer and self._sock:
            result = super().loop_read(1)
        return result

    def _handle_publish(self) -> MQTTErrorCode:
        handler = self.publish_handler
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if handler is None or qos == 2 or self._protocol != mqtt.MQTTv5:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        topic_end = 2 + int.from_bytes(packet[:2], "big")
        end = topic_end + 2 if qos else topic_end  # the packet id (MQTT 5, 3.3.2)
        if len(packet) <= end or packet[end] != 0:
            return super()._handle_publish()  # properties (or a malformed packet)
        mid = int.from_bytes(packet[topic_end:end], "big") if qos else 0
        # An invalid UTF-8 topic (a broker should refuse it) becomes a topic_invalid dead
        # letter instead of the exception paho raises on reading message.topic.
        handler(mid, qos, packet[2:topic_end].decode("utf-8", "replace"),
                bytes(packet[end + 1:]), bool(header & 0x01))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def send_pubacks(self, mids: Iterable[int]) -> None:
        """Queue a PUBACK for each QoS 1 packet id, as one packet for the network thread."""
        pack = _PUBACK.pack
        packed = b"".join([pack(_PUBACK_TYPE, 2, mid) for mid in mids])
        if packed:
            self._packet_queue(_PUBACK_TYPE, packed, 0, 0)
