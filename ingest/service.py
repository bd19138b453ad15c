"""The ingestor: wires the MQTT consumer, the decoder, the batcher and the store.

Delivery (README, "Nothing lost"): at least once. Batching and acknowledgement are
:mod:`ingest.batching`, bad input :mod:`ingest.deadletters`, retries and the shutdown
grace :mod:`ingest.retry`, device formats :mod:`ingest.formats` and the Sensor.Community
HTTP receiver :mod:`ingest.receiver`. This module runs them and reports the ingestor's
own counters (Prometheus, and the ``ingest_stats`` measurement for the dashboard).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque

from prometheus_client import start_http_server

from ingest.batching import Batcher, Item
from ingest.consumer import MqttConsumer
from ingest.deadletters import DeadLetterWriter
from ingest.decode import Decoded, MessageDecoder, Rejection
from ingest.errors import (
    ShutdownTimeoutError,
    StateStoreError,
    StoreError,
    StoreUnavailableError,
)
from ingest.formats import load_formats
from ingest.gridfeed import start_grid_feed
from ingest.metrics import IngestMetrics, IngestStats
from ingest.receipts import ReceiptLog
from ingest.receiver import HTTP_GENERATION, SensorCommunityReceiver
from ingest.retry import Retrier
from ingest.store import InfluxStore
from ingest.subscriptions import stale_subscriptions
from sensors.lineprotocol import point_line
from sensors.registry import Registry, load_registry
from sensors.settings import Settings
from sensors.storage import Measurement
from sensors.topics import subscription

log = logging.getLogger(__name__)


class IngestService:
    """The ingestor. Build it with settings, call :meth:`run`, stop it with :meth:`stop`."""

    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        """Build the ingestor (nothing connects yet).

        Raises:
            DevicesFileError: the devices file is unusable (the message names the entry).
            StateStoreError: the spool dir's durable state cannot be opened.
            ReceiverError: the HTTP receiver cannot listen on its address.
        """
        self.settings = settings
        registry = registry or load_registry()
        self.formats = load_formats(settings, registry)
        self.decoder = MessageDecoder(settings.topic_prefix, registry, self.formats)
        self.stats = IngestStats()
        self._stop = threading.Event()
        self.fatal: str | None = None
        self.store = InfluxStore(settings)
        extra_topics = self.formats.subscriptions() if self.formats is not None else []
        stale = stale_subscriptions(settings.spool_dir,
                                    [subscription(settings.topic_prefix), *extra_topics])
        self.consumer = MqttConsumer(settings, self._on_message, extra_topics, stale)
        self.retrier = Retrier(self._stop, self.stats, settings.ingest_max_backoff_s)
        self.dead_letters = DeadLetterWriter(self.store, self.retrier, self.stats,
                                             settings.spool_dir)
        self.pending: deque[Item] = deque()
        self.metrics = IngestMetrics(self.stats, self.pending.__len__,
                                     self.consumer.subscribed.is_set)
        self.batcher = Batcher(
            self.pending, self.store, self.dead_letters, self.retrier,
            # Without the HTTP receiver, acknowledgements go straight to the broker.
            self._acknowledge if settings.ingest_http_port and self.formats is not None
            else self.consumer.ack,
            self.stats, self.metrics, settings.ingest_batch_size,
            settings.ingest_flush_interval_s, self._stop,
            durable=self.formats.commit if self.formats is not None else None,
        )
        self.receiver: SensorCommunityReceiver | None = None
        if settings.ingest_http_port and self.formats is not None:
            self.receiver = SensorCommunityReceiver(
                settings.ingest_http_host, settings.ingest_http_port, self.formats,
                self.batcher, self.retrier, ReceiptLog(settings.spool_dir), self.stats,
                accepting=lambda: not self._stop.is_set(), wait_s=settings.ingest_http_wait_s)
        self._next_stats_at = 0.0

    # --- MQTT thread -------------------------------------------------------------------

    def _on_message(self, mid: int, qos: int, generation: int, topic: str, payload: bytes) -> None:
        self.stats.received += 1
        try:
            result = self.decoder.decode(topic, payload)
        except StateStoreError as exc:
            # Without its register history a cumulative reading cannot be computed right:
            # stop, leaving this message (unacknowledged) with the broker.
            self.consumer.stop_accepting()
            self.fatal = str(exc)
            log.error("cannot keep the register history; stopping", extra={"error": str(exc)})
            self.stop()
            return
        if isinstance(result, Decoded):
            if result.unknown_fields:
                self.stats.unknown_fields += result.unknown_fields
            for one in result.rejections:
                self.dead_letters.log_once(topic, one.reason, one.detail)
        elif isinstance(result, Rejection):
            self.dead_letters.log_once(topic, result.reason, result.detail)
        else:
            self.stats.ignored[result.kind] += 1
        self.batcher.add(Item(mid, qos, generation, result, topic, payload, time.monotonic()))

    def _acknowledge(self, mid: int, qos: int, generation: int) -> None:
        if generation != HTTP_GENERATION:
            self.consumer.ack(mid, qos, generation)
        elif self.receiver is not None:
            self.receiver.stored(mid)

    # --- writer thread -----------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to stop taking messages, flush, acknowledge and return."""
        self._stop.set()

    def run(self) -> int:
        """Ingest until :meth:`stop` (or SIGTERM/SIGINT when run on the main thread).

        Returns:
            The process exit code: 0 after a clean shutdown, 1 when the durable state
            failed (see :attr:`fatal`).
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
        if self.receiver is not None:
            self.receiver.start()
        grid_feed = start_grid_feed(self.settings)  # None unless a feed URL is configured
        log.info("ingest started", extra={"database": self.settings.influx_database})
        batcher = self.batcher
        try:
            while not self._stop.is_set():
                batch = batcher.collect()
                if batch:
                    batcher.store(batch)
                self._maybe_write_stats()
            self.consumer.stop_accepting()
            self.retrier.start_grace()
            while batch := batcher.collect(wait_s=0.3):
                batcher.store(batch)
        except ShutdownTimeoutError:
            log.error(
                "store unavailable at shutdown; unacknowledged messages stay with the broker",
                extra={"left": len(batcher.pending)},
            )
        except StateStoreError as exc:
            self.fatal = str(exc)
            log.error("cannot keep the register history; stopping (unacknowledged messages "
                      "stay with the broker)", extra={"error": str(exc)})
        finally:
            if self.receiver is not None:
                self.receiver.stop()
            if grid_feed is not None:
                grid_feed.stop()
            self._maybe_write_stats(force=True)
            self.consumer.close()
            self.store.close()
            if self.formats is not None:
                self.formats.close()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
        log.info(
            "ingest stopped",
            extra={"received": self.stats.received, "stored": self.stats.stored,
                   "dead_letters": sum(self.stats.dead_letters.values())},
        )
        return 1 if self.fatal else 0

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
        line = point_line(Measurement.INGEST_STATS, {"instance": self.settings.ingest_client_id}, {
            "received": stats.received, "stored": stats.stored,
            "dead_letters": sum(stats.dead_letters.values()), "acked": stats.acked,
            "ignored": sum(stats.ignored.values()),
            "write_retries": stats.write_retries, "batches": stats.batches,
            "queue_depth": len(self.pending), "started_at_ms": stats.started_at_ms,
            "write_seconds_total": stats.write_seconds_total, "lag_seconds": stats.lag_seconds,
        }, time.time_ns())
        assert line is not None
        try:
            self.store.write([line])
        except StoreError as exc:
            log.debug("could not write ingest_stats", extra={"error": str(exc)})
