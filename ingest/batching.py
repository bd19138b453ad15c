"""Batches with acknowledgement: received messages -> InfluxDB -> PUBACK, in arrival order.

    paho network thread                         writer thread
    -------------------                         -------------
    decode -> Batcher.add (deque append)  ==>   collect a batch (size or time bound)
                                                write readings, then dead letters
    send the batch's PUBACKs in one write <==   acknowledge every message, in order

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
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ingest.deadletters import DeadLetter, DeadLetterWriter
from ingest.decode import Decoded, Ignored, Rejection
from ingest.metrics import IngestMetrics, IngestStats
from ingest.retry import Retrier
from ingest.spool import Qos0Spool
from ingest.store import InfluxStore
from sensors.reasons import DeadLetterReason

log = logging.getLogger(__name__)

# Acknowledges stored messages (each on the connection it arrived on), in order.
Acknowledge = Callable[[Sequence["Item"]], None]
Decode = Callable[[str, bytes], "Decoded | Rejection | Ignored"]


class Item(NamedTuple):
    """One received message on its way to the store."""

    mid: int
    qos: int
    generation: int
    result: Decoded | Rejection | Ignored
    topic: str
    payload: bytes
    received_at: float
    retained: bool = False


class Batcher:
    """The pending messages and the writer that stores and acknowledges them."""

    def __init__(self, pending: deque[Item], store: InfluxStore,
                 dead_letters: DeadLetterWriter, retrier: Retrier, acknowledge: Acknowledge,
                 stats: IngestStats, metrics: IngestMetrics, batch_size: int,
                 flush_interval_s: float, stop: threading.Event,
                 spool: Qos0Spool | None = None, qos0_memory: int = 20_000,
                 decode: Decode | None = None,
                 durable: Callable[[], None] | None = None) -> None:
        # A deque, not a queue.Queue: append and popleft are atomic and lock-free, which
        # matters at tens of thousands of messages a second. It needs no bound of its own:
        # the broker never has more than Receive Maximum messages unacknowledged with us.
        self.pending = pending
        # The writer sleeps on this while it waits (idle, or for a batch to fill); ``add``
        # sets it only when the writer waits and has enough, so a message costs no lock.
        self._wake = threading.Event()
        self._writer_waiting = False
        self._wake_at = 1  # pending messages that end the writer's wait
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
        self._spool = spool
        self._qos0_memory = qos0_memory
        self._decode = decode
        self._replaying = False  # the batch being stored holds spooled messages
        self._dropping = False

    def _spool_qos0(self, item: Item) -> bool:
        """True when a QoS 0 message went to the spool (or was dropped, spool full)."""
        spool = self._spool
        if spool is None or (not spool.holds and len(self.pending) < self._qos0_memory):
            return False
        if spool.append(item.topic, item.payload, time.time()):
            self._dropping = False
            return True
        self._stats.dropped += 1
        if not self._dropping:
            log.error("QoS 0 spool full: dropping QoS 0 messages until the store catches up",
                      extra={"spool_bytes": spool.holds})
            self._dropping = True
        return True

    def add(self, item: Item) -> None:
        """Queue a received message (MQTT thread). QoS 0 spills to the spool past
        ``qos0_memory`` waiting messages (QoS 1 is bounded by Receive Maximum)."""
        if item.qos == 0 and self._spool_qos0(item):
            return
        pending = self.pending
        pending.append(item)
        if self._writer_waiting and len(pending) >= self._wake_at:
            self._wake.set()

    def _wait_for(self, count: int, timeout_s: float) -> None:
        """Sleep until ``count`` messages are pending or ``timeout_s`` passes."""
        self._wake.clear()
        self._wake_at = count
        self._writer_waiting = True
        # Re-check after announcing the wait: a message may have landed just before.
        if len(self.pending) < count:
            self._wake.wait(timeout_s)
        self._writer_waiting = False

    def collect(self, wait_s: float = 0.25) -> list[Item]:
        """The next batch: up to ``batch_size`` items, waiting for it to fill until the
        oldest of them has waited the flush interval (empty after ``wait_s`` idle)."""
        pending = self.pending
        if not pending and not self._spool_holds():
            self._wait_for(1, wait_s)
            if not pending and not self._spool_holds():
                return []
        limit = self._batch_size
        # The flush interval counts from the oldest waiting message's arrival, not from
        # now: messages that arrived while the writer was storing the last batch have
        # waited that long already.
        deadline = (pending[0].received_at if pending else time.monotonic()) \
            + self._flush_interval_s
        batch: list[Item] = []
        popleft = pending.popleft
        while True:
            # Take what is there in one go (popleft never fails: we checked the length).
            batch.extend(popleft() for _ in range(min(len(pending), limit - len(batch))))
            left = deadline - time.monotonic()
            if (len(batch) >= limit or left <= 0 or self._stop.is_set()
                    or self._spool_holds()):  # no waiting while spooled messages wait
                break
            # Let the batch fill: woken when it is full, or at the deadline. Never longer
            # than a quarter second at a time, so a stop request stays prompt.
            self._wait_for(limit - len(batch), min(left, 0.25))
        return batch + self._replay(limit - len(batch))

    def _spool_holds(self) -> bool:
        return self._spool is not None and self._spool.holds > 0

    def _replay(self, room: int) -> list[Item]:
        """Spooled QoS 0 messages for the rest of the batch, decoded anew."""
        self._replaying = False
        if room <= 0 or self._spool is None or self._decode is None or not self._spool.holds:
            return []
        spooled = self._spool.read(room)
        self._replaying = bool(spooled)
        now = time.monotonic()
        return [Item(0, 0, 0, self._decode(one.topic, one.payload), one.topic, one.payload,
                     now) for one in spooled]

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
                                           one.detail, item.retained)
                                for one in result.rejections)
                    if not result.line:
                        continue
                readings.append((item, result))
            elif isinstance(result, Rejection):
                dead.append(DeadLetter(item.topic, item.payload, result.reason, result.domain,
                                       result.detail, item.retained))
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
        self._acknowledge(batch)
        if self._replaying and self._spool is not None:
            self._spool.commit()  # the replayed messages are stored: past them for good
        stats.acked += len(batch)
        stats.batches += 1
        elapsed = time.monotonic() - started
        stats.write_seconds_total += elapsed
        if readings:
            stats.lag_seconds = max(0.0, (time.time_ns() - readings[-1][1].ts_ns) / 1e9)
        self._metrics.batch_size.observe(len(batch))
        self._metrics.write_latency.observe(elapsed)
        self._metrics.lag.observe(time.monotonic() - batch[0].received_at)
