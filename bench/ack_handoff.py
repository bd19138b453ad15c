"""Stage benchmark: what handing messages to a writer thread and acknowledging them costs.

Run as a child process: ``python -m bench.ack_handoff MODE HOST PORT CLIENT_ID N RECEIVE_MAX``
(the account's password in ``BENCH_MQTT_PASSWORD``). It drains N queued QoS 1 messages
with ``manual_ack`` the way the ingestor does, minus validation and storage: the network
thread appends each message to a deque, a writer thread takes batches of up to 5,000 and
acknowledges them. Modes:

``each``   the ingestor before issue 13: the writer naps 2 ms while a batch fills and
           calls ``client.ack`` once per message (a lock, a packet, a wake-up each);
``batch``  the ingestor now: the writer sleeps on an event until the batch is full (or
           the flush interval ends), and all of a batch's PUBACKs go in one packet
           (``ingest.consumer.MqttConsumer.ack_all``).

Prints the seconds from the first message to the last acknowledgement, and the CPU
seconds of the process over that time.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from collections import deque

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.count_subscriber import session_properties

BATCH = 5000
FLUSH_S = 0.2
_PUBACK = struct.Struct("!BBH")


class _Drain:
    def __init__(self, mode: str, expected: int) -> None:
        self.mode = mode
        self.expected = expected
        self.pending: deque[tuple[int, int]] = deque()
        self.wake = threading.Event()
        self.waiting = False
        self.wake_at = 1
        self.first = 0.0
        self.first_cpu = 0.0
        self.acked = 0
        self.done = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                                  client_id=sys.argv[4], manual_ack=True)

    def on_message(self, client: mqtt.Client, userdata: object,
                   message: mqtt.MQTTMessage) -> None:
        if not self.first:
            self.first = time.perf_counter()
            self.first_cpu = time.process_time()
        pending = self.pending
        pending.append((message.mid, message.qos))
        if self.waiting and len(pending) >= self.wake_at:
            self.wake.set()

    def _wait_for(self, count: int, timeout_s: float) -> None:
        self.wake.clear()
        self.wake_at = count
        self.waiting = True
        if len(self.pending) < count:
            self.wake.wait(timeout_s)
        self.waiting = False

    def _collect_napping(self) -> list[tuple[int, int]]:
        batch: list[tuple[int, int]] = []
        deadline = time.monotonic() + FLUSH_S
        while len(batch) < BATCH:
            try:
                batch.append(self.pending.popleft())
            except IndexError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.002)
        return batch

    def _collect_woken(self) -> list[tuple[int, int]]:
        batch: list[tuple[int, int]] = []
        pending = self.pending
        deadline = time.monotonic() + FLUSH_S
        while True:
            batch.extend(pending.popleft() for _ in range(min(len(pending), BATCH - len(batch))))
            left = deadline - time.monotonic()
            if len(batch) >= BATCH or left <= 0:
                return batch
            self._wait_for(BATCH - len(batch), left)

    def writer(self) -> None:
        client = self.client
        while not self.done.is_set():
            if self.mode == "each":
                batch = self._collect_napping()
                for mid, qos in batch:
                    client.ack(mid, qos)
            else:
                batch = self._collect_woken()
                if batch:
                    packed = b"".join([_PUBACK.pack(0x40, 2, mid) for mid, _ in batch])
                    client._packet_queue(0x40, packed, 0, 0)
            self.acked += len(batch)
            if self.acked >= self.expected:
                self.done.set()


def main() -> None:
    mode, host, port, client_id, expected, receive_maximum = sys.argv[1:7]
    drain = _Drain(mode, int(expected))
    client = drain.client
    client.username_pw_set(client_id, os.environ.get("BENCH_MQTT_PASSWORD"))
    client.on_message = drain.on_message
    client.connect(host, int(port), clean_start=False,
                   properties=session_properties(int(receive_maximum)))
    writer = threading.Thread(target=drain.writer, daemon=True)
    writer.start()
    client.loop_start()
    if not drain.done.wait(600):
        raise SystemExit(f"only {drain.acked} of {expected} acknowledged")
    last, last_cpu = time.perf_counter(), time.process_time()
    time.sleep(0.2)  # let the network thread send the last acknowledgements
    client.disconnect()
    client.loop_stop()
    print(last - drain.first, last_cpu - drain.first_cpu)


if __name__ == "__main__":
    main()
