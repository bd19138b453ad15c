"""Batches with acknowledgement: received messages -> InfluxDB -> PUBACK, in arrival order.

    paho network thread                         writer thread
    -------------------                         -------------
    decode -> Batcher.add (deque append)  ==>   collect a batch (size or time bound)
                                                write readings, then dead letters
                                                acknowledge every message, in order

A message is acknowledged to the broker only after the batch that holds it is in
InfluxDB (as a reading or as a dead letter). While the store is down the writer retries
(:mod:`ingest.retry`) and acknowledges nothing, so the broker stops sending once Receive
Maximum messages are outstanding and keeps the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from ingest.deadletters import DeadLetter, DeadLetterWriter
from ingest.decode import Decoded, Ignored, Rejection
from ingest.metrics import IngestMetrics, IngestStats
from ingest.retry import Retrier
from ingest.store import InfluxStore
from sensors.reasons import DeadLetterReason

log = logging.getLogger(__name__)

# (mid, qos, connection generation): acknowledges one message on its connection.
Acknowledge = Callable[[int, int, int], None]


class Item(NamedTuple):
    """One received message on its way to the store."""

    mid: int
    qos: int
    generation: int
    result: Decoded | Rejection | Ignored
    topic: str
    payload: bytes
    received_at: float


class Batcher:
    """The pending messages and the writer that stores and acknowledges them."""

    def __init__(self, pending: deque[Item], store: InfluxStore,
                 dead_letters: DeadLetterWriter, retrier: Retrier, acknowledge: Acknowledge,
                 stats: IngestStats, metrics: IngestMetrics, batch_size: int,
                 flush_interval_s: float, stop: threading.Event,
                 durable: Callable[[], None] | None = None) -> None:
        # A deque, not a queue.Queue: append and popleft are atomic and lock-free, which
        # matters at tens of thousands of messages a second. It needs no bound of its own:
        # the broker never has more than Receive Maximum messages unacknowledged with us.
        self.pending = pending
        self._wake = threading.Event()
        self._writer_idle = False
        self._store = store
        self._dead_letters = dead_letters
        self._retrier = retrier
        self._acknowledge = acknowledge
        self._stats = stats
        self._metrics = metrics
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._stop = stop
        # Makes the state the decoder kept (cumulative registers) durable: before any ack.
        self._durable = durable

    def add(self, item: Item) -> None:
        """Queue a received message (MQTT thread)."""
        self.pending.append(item)
        if self._writer_idle:
            self._wake.set()

    def collect(self, wait_s: float = 0.25) -> list[Item]:
        """The next batch: up to ``batch_size`` items, waiting at most the flush interval
        for it to fill once the first item is there (empty after ``wait_s`` idle)."""
        pending = self.pending
        if not pending:
            self._writer_idle = True
            self._wake.clear()
            if not pending:  # re-check: a message may have landed before the clear
                self._wake.wait(wait_s)
            self._writer_idle = False
            if not pending:
                return []
        limit = self._batch_size
        deadline = time.monotonic() + self._flush_interval_s
        batch: list[Item] = []
        popleft = pending.popleft
        while len(batch) < limit:
            try:
                batch.append(popleft())
            except IndexError:
                if time.monotonic() >= deadline or self._stop.is_set():
                    break
                # Let the batch fill for a moment; short naps keep stop requests prompt.
                time.sleep(0.002)
        return batch

    def store(self, batch: list[Item]) -> None:
        """Store a batch (readings, then dead letters) and acknowledge all of it.

        Raises:
            ShutdownTimeoutError: the store stayed down through the shutdown grace period;
                nothing of the batch was acknowledged.
            StateStoreError: the decoder's state could not be made durable; nothing of the
                batch was acknowledged.
        """
        started = time.monotonic()
        readings: list[tuple[Item, Decoded]] = []
        dead: list[DeadLetter] = []
        for item in batch:
            result = item.result
            if isinstance(result, Decoded):
                if result.rejections:  # a device format's message with some bad readings
                    dead.extend(DeadLetter(item.topic, item.payload, one.reason, one.domain,
                                           one.detail) for one in result.rejections)
                    if not result.line:
                        continue
                readings.append((item, result))
            elif isinstance(result, Rejection):
                dead.append(DeadLetter(item.topic, item.payload, result.reason, result.domain,
                                       result.detail))
            # Ignored (not a reading): nothing to store, acknowledged below like the rest.
        lines = [decoded.line for _, decoded in readings]
        refused = self._retrier.run(lambda: self._store.write_keeping_good(lines))
        for index, message in sorted(refused.items()):
            item, decoded = readings[index]
            # A reading InfluxDB refused had a valid topic: its measurement is its domain.
            dead.append(DeadLetter(item.topic, item.payload,
                                   DeadLetterReason.STORE_REJECTED.value, decoded.measurement,
                                   message))
            log.error("InfluxDB refused a reading", extra={"topic": item.topic, "error": message})
        if dead:
            self._dead_letters.store(dead)
        if self._durable is not None:
            self._durable()
        stats = self._stats
        stats.stored += len(readings) - len(refused)
        acknowledge = self._acknowledge
        for item in batch:
            acknowledge(item.mid, item.qos, item.generation)
        stats.acked += len(batch)
        stats.batches += 1
        elapsed = time.monotonic() - started
        stats.write_seconds_total += elapsed
        if readings:
            stats.lag_seconds = max(0.0, (time.time_ns() - readings[-1][1].ts_ns) / 1e9)
        self._metrics.batch_size.observe(len(batch))
        self._metrics.write_latency.observe(elapsed)
        self._metrics.lag.observe(time.monotonic() - batch[0].received_at)
