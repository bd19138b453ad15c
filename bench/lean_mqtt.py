"""A minimal MQTT 3.1.1 QoS 1 publisher for the benchmarks: the few packets a publisher
needs (CONNECT, PUBLISH, PUBACK, DISCONNECT; no keep-alive), queued PUBLISHes written in one
``sendall`` and PUBACKs counted.

Why not paho: publishing through paho cost about 120 us of CPU per message on these
2 cores (its publish and PUBACK paths build properties, reason codes, message-info
objects and write one socket pair byte per message), as much as the ingestor under test
spends; this client costs 20-40 us, so one process reaches 10,000 msg/s and the drain's
preload of 100,000 messages takes seconds instead of 40 (2,300 msg/s with paho).
"""

from __future__ import annotations

import select
import socket
import struct

_CONNECT, _CONNACK, _PUBLISH_QOS1, _PUBACK, _DISCONNECT = 0x10, 0x20, 0x32, 0x40, 0xE0


def _length(n: int) -> bytes:
    """MQTT's variable-length "remaining length"."""
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


class LeanPublisher:
    """One MQTT 3.1.1 connection that publishes at QoS 1 and counts the PUBACKs."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Protocol "MQTT" level 4; flags: user name, password, clean session; keep-alive 0.
        body = _string("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 0)
        body += _string(user) + _string(user) + _string(password)
        self.sock.sendall(bytes([_CONNECT]) + _length(len(body)) + body)
        connack = self.sock.recv(4)
        if len(connack) < 4 or connack[0] != _CONNACK or connack[3] != 0:
            raise SystemExit(f"publisher {user}: the broker refused the connection "
                             f"({connack.hex()})")
        self.sock.setblocking(False)
        self.acked = 0
        self._mid = 0
        self._pending = bytearray()
        self._buffer = b""

    def queue(self, topic: bytes, payload: bytes) -> None:
        """Add one QoS 1 PUBLISH to what :meth:`flush` sends next."""
        self._mid = self._mid % 0xFFFF + 1  # packet ids 1..65535; PUBLISH_WINDOW bounds reuse
        self._pending += bytes([_PUBLISH_QOS1]) + _length(len(topic) + 4 + len(payload))
        self._pending += struct.pack("!H", len(topic)) + topic
        self._pending += struct.pack("!H", self._mid) + payload

    def flush(self, wait_s: float) -> None:
        """Send what is queued, then read the PUBACKs there are (waiting up to ``wait_s``)."""
        if self._pending:
            self.sock.setblocking(True)
            self.sock.sendall(self._pending)
            self.sock.setblocking(False)
            self._pending.clear()
        if select.select([self.sock], [], [], wait_s)[0]:
            self._read()

    def _read(self) -> None:
        data = self._buffer + self.sock.recv(1 << 16)
        at = 0
        while len(data) - at >= 2:
            kind, size = data[at], data[at + 1]  # PUBACKs are 4 bytes: 0x40 0x02 <id>
            if size & 0x80:
                raise SystemExit("publisher: unexpected packet from the broker")
            if len(data) - at < 2 + size:
                break
            if kind == _PUBACK:
                self.acked += 1
            at += 2 + size
        self._buffer = data[at:]

    def close(self) -> None:
        self.sock.setblocking(True)
        self.sock.sendall(bytes([_DISCONNECT, 0]))
        self.sock.close()
