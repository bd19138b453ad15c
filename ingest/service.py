"""Wires the consumer, the decoder and the store together with at-least-once delivery.

    paho network thread                         writer thread (the caller of run())
    -------------------                         -----------------------------------
    on_message -> decode -> pending.append ==>  collect a batch (size or time bound)
                                                write readings, then dead letters
                                                acknowledge every message, in order

A message is acknowledged to the broker only after the batch that holds it is in
InfluxDB (as a reading or as a dead letter). While the store is down the writer
retries with capped, jittered backoff and acknowledges nothing, so the broker stops
sending once Receive Maximum messages are outstanding and keeps the rest.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

import orjson
from prometheus_client import start_http_server

from ingest.consumer import MqttConsumer
from ingest.decode import MessageDecoder, Rejection
from ingest.errors import StoreError, StoreUnavailableError
from ingest.gridfeed import start_grid_feed
from ingest.lineprotocol import dead_letter_line, ingest_stats_line
from ingest.metrics import IngestMetrics, IngestStats
from ingest.store import InfluxStore
from sensors.reasons import DeadLetterReason
from sensors.registry import Registry, load_registry
from sensors.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
SHUTDOWN_GRACE_S = 20.0
_LOGGED_TOPICS_CAP = 10_000


class Item(NamedTuple):
    """One received message on its way to the store."""

    mid: int
    qos: int
    generation: int
    line: str | None  # the reading's line, or None for bad input
    rejection: Rejection | None
    topic: str
    payload: bytes
    received_at: float


class ShutdownTimeoutError(Exception):
    """The store stayed unavailable through the shutdown grace period."""


class IngestService:
    """The ingestor. Build it with settings, call :meth:`run`, stop it with :meth:`stop`."""

    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        self.settings = settings
        self.decoder = MessageDecoder(settings.topic_prefix, registry or load_registry())
        # A deque, not a queue.Queue: append and popleft are atomic and lock-free, which
        # matters at tens of thousands of messages a second. It needs no bound of its own:
        # the broker never has more than Receive Maximum messages unacknowledged with us.
        self.pending: deque[Item] = deque()
        self._wake = threading.Event()
        self._writer_idle = False
        self.stats = IngestStats()
        self.store = InfluxStore(settings)
        self.consumer = MqttConsumer(settings, self._on_message)
        self.metrics = IngestMetrics(
            self.stats, self.pending.__len__, self.consumer.subscribed.is_set
        )
        self._stop = threading.Event()
        self._shutdown_deadline = float("inf")
        self._last_dead_letter_ns = 0
        self._next_stats_at = 0.0
        self._logged_topics: set[tuple[str, str]] = set()

    # --- MQTT thread -------------------------------------------------------------------

    def _on_message(self, mid: int, qos: int, generation: int, topic: str, payload: bytes) -> None:
        self.stats.received += 1
        result = self.decoder.decode(topic, payload)
        if type(result) is tuple:
            line, unknown = result
            if unknown:
                self.stats.unknown_fields += unknown
            item = Item(mid, qos, generation, line, None, topic, payload, time.monotonic())
        else:
            assert isinstance(result, Rejection)
            self._log_bad_input(topic, result)
            item = Item(mid, qos, generation, None, result, topic, payload, time.monotonic())
        self.pending.append(item)
        if self._writer_idle:
            self._wake.set()

    def _log_bad_input(self, topic: str, rejection: Rejection) -> None:
        key = (topic, rejection.reason)
        if key in self._logged_topics or len(self._logged_topics) >= _LOGGED_TOPICS_CAP:
            return
        self._logged_topics.add(key)
        log.warning(
            "bad input sent to dead letters (logged once per topic and reason)",
            extra={"topic": topic, "reason": rejection.reason, "detail": rejection.detail},
        )

    # --- writer thread -----------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to stop taking messages, flush, acknowledge and return."""
        self._stop.set()

    def run(self) -> int:
        """Ingest until :meth:`stop` (or SIGTERM/SIGINT when run on the main thread).

        Returns:
            The process exit code: 0 after a clean shutdown.
        """
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        metrics_server = None
        if self.settings.metrics_port:
            metrics_server, _ = start_http_server(
                self.settings.metrics_port, self.settings.metrics_host,
                registry=self.metrics.registry,
            )
        self._ensure_database()
        self.consumer.start()
        grid_feed = start_grid_feed(self.settings)  # None unless a feed URL is configured
        log.info("ingest started", extra={"database": self.settings.influx_database})
        try:
            while not self._stop.is_set():
                batch = self._collect()
                if batch:
                    self._store(batch)
                self._maybe_write_stats()
            self.consumer.stop_accepting()
            self._shutdown_deadline = time.monotonic() + SHUTDOWN_GRACE_S
            while batch := self._collect(wait_s=0.3):
                self._store(batch)
        except ShutdownTimeoutError:
            log.error(
                "store unavailable at shutdown; unacknowledged messages stay with the broker",
                extra={"left": len(self.pending)},
            )
        finally:
            if grid_feed is not None:
                grid_feed.stop()
            self._maybe_write_stats(force=True)
            self.consumer.close()
            self.store.close()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
        log.info(
            "ingest stopped",
            extra={"received": self.stats.received, "stored": self.stats.stored,
                   "dead_letters": sum(self.stats.dead_letters.values())},
        )
        return 0

    def _ensure_database(self) -> None:
        try:
            if not self.store.create_database():
                log.warning(
                    "could not create the database (expected on InfluxDB 2.x/3.x, where the "
                    "bucket is provisioned); writing anyway",
                    extra={"database": self.settings.influx_database},
                )
        except StoreUnavailableError as exc:
            log.warning("InfluxDB not reachable yet; writes will retry", extra={"error": str(exc)})

    def _collect(self, wait_s: float = 0.25) -> list[Item]:
        pending = self.pending
        if not pending:
            self._writer_idle = True
            self._wake.clear()
            if not pending:  # re-check: a message may have landed before the clear
                self._wake.wait(wait_s)
            self._writer_idle = False
            if not pending:
                return []
        limit = self.settings.ingest_batch_size
        deadline = time.monotonic() + self.settings.ingest_flush_interval_s
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

    def _store(self, batch: list[Item]) -> None:
        started = time.monotonic()
        readings = [item for item in batch if item.line is not None]
        refused = self._retry(
            lambda: self.store.write_keeping_good([item.line for item in readings if item.line])
        )
        dead: list[tuple[Item, str, str]] = []
        for item in batch:
            if item.rejection is not None:
                dead.append((item, item.rejection.reason, item.rejection.detail))
        for index, message in sorted(refused.items()):
            item = readings[index]
            dead.append((item, DeadLetterReason.STORE_REJECTED.value, message))
            log.error("InfluxDB refused a reading", extra={"topic": item.topic, "error": message})
        if dead:
            self._store_dead_letters(dead)
        self.stats.stored += len(readings) - len(refused)
        ack = self.consumer.ack
        for item in batch:
            ack(item.mid, item.qos, item.generation)
        stats = self.stats
        stats.acked += len(batch)
        stats.batches += 1
        elapsed = time.monotonic() - started
        stats.write_seconds_total += elapsed
        if readings and readings[-1].line:
            newest_line = readings[-1].line
            newest_ns = int(newest_line[newest_line.rindex(" ") + 1 :])
            stats.lag_seconds = max(0.0, (time.time_ns() - newest_ns) / 1e9)
        self.metrics.batch_size.observe(len(batch))
        self.metrics.write_latency.observe(elapsed)
        self.metrics.lag.observe(time.monotonic() - batch[0].received_at)

    def _store_dead_letters(self, dead: list[tuple[Item, str, str]]) -> None:
        lines = []
        for item, reason, detail in dead:
            # A reading InfluxDB refused had a valid topic: its measurement is its domain.
            domain = item.rejection.domain if item.rejection else (item.line or "").split(",")[0]
            lines.append(dead_letter_line(
                reason=reason, domain=domain,
                topic=item.topic, payload=item.payload, detail=detail,
                ts_ns=self._next_dead_letter_ns(),
            ))
        refused = self._retry(lambda: self.store.write_keeping_good(lines))
        for index, message in refused.items():
            self._quarantine(dead[index][0], message)
        for _, reason, _ in dead:
            self.stats.dead_letters[reason] += 1

    def _maybe_write_stats(self, force: bool = False) -> None:
        """Write the ingestor's counters to InfluxDB, so the dashboard needs no other source.

        Best effort: a failure is logged at debug level and the next interval tries again;
        these points are telemetry about the pipeline, never readings.
        """
        interval = self.settings.ingest_stats_interval_s
        now = time.monotonic()
        if not interval or (now < self._next_stats_at and not force):
            return
        self._next_stats_at = now + interval
        stats = self.stats
        line = ingest_stats_line(self.settings.ingest_client_id, {
            "received": stats.received, "stored": stats.stored,
            "dead_letters": sum(stats.dead_letters.values()), "acked": stats.acked,
            "write_retries": stats.write_retries, "batches": stats.batches,
            "queue_depth": len(self.pending), "started_at_ms": stats.started_at_ms,
            "write_seconds_total": stats.write_seconds_total, "lag_seconds": stats.lag_seconds,
        }, time.time_ns())
        try:
            self.store.write([line])
        except StoreError as exc:
            log.debug("could not write ingest_stats", extra={"error": str(exc)})

    def _next_dead_letter_ns(self) -> int:
        # Strictly increasing, so two dead letters never share series and timestamp.
        now = time.time_ns()
        self._last_dead_letter_ns = max(now, self._last_dead_letter_ns + 1)
        return self._last_dead_letter_ns

    def _quarantine(self, item: Item, error: str) -> None:
        """Keep a message InfluxDB refused even as a dead letter in the spool folder."""
        spool: Path = self.settings.spool_dir
        spool.mkdir(parents=True, exist_ok=True)
        record = {"topic": item.topic, "payload": item.payload.decode("utf-8", "replace"),
                  "error": error, "at_ns": time.time_ns()}
        with (spool / "quarantine.jsonl").open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
        log.error("dead letter refused by InfluxDB; kept in the spool", extra=record)

    def _retry(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until the store takes it, backing off between failures."""
        failures = 0
        while True:
            try:
                return attempt()
            except StoreUnavailableError as exc:
                failures += 1
                self.stats.write_retries += 1
                if time.monotonic() > self._shutdown_deadline:
                    raise ShutdownTimeoutError from exc
                cap = min(self.settings.ingest_max_backoff_s, 0.1 * 2 ** min(failures, 20))
                delay = cap * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
                log.warning(
                    "store unavailable; retrying",
                    extra={"error": str(exc), "attempt": failures, "retry_in_s": round(delay, 2)},
                )
                if self._stop.is_set():
                    time.sleep(min(delay, max(0.0, self._shutdown_deadline - time.monotonic())))
                else:
                    self._stop.wait(delay)  # wakes early on stop to start the grace period
