"""The ingestor: wires the MQTT consumer, the decoder, the batcher and the store.

Delivery (README, "Nothing lost"): at least once. Batching and acknowledgement are
:mod:`ingest.batching`, bad input :mod:`ingest.deadletters`, retries and the shutdown
grace :mod:`ingest.retry`, device formats :mod:`ingest.formats` and the Sensor.Community
HTTP receiver :mod:`ingest.receiver`, the ``ingest_stats`` points for the dashboard
:mod:`ingest.stats_writer`. This module runs them and serves ``/metrics`` and ``/ready``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from ingest.batching import Batcher, Item
from ingest.consumer import MqttConsumer
from ingest.deadletters import DeadLetterWriter
from ingest.decode import Decoded, MessageDecoder, Rejection
from ingest.endpoints import serve_endpoints
from ingest.errors import (
    DrainError,
    ShutdownTimeoutError,
    StateStoreError,
    StoreUnavailableError,
)
from ingest.formats import load_formats
from ingest.gridfeed import start_grid_feed
from ingest.metrics import IngestMetrics, IngestStats
from ingest.receipts import ReceiptLog
from ingest.receiver import HTTP_GENERATION, SensorCommunityReceiver
from ingest.retry import Retrier
from ingest.spool import Qos0Spool
from ingest.stats_writer import StatsWriter
from ingest.store import InfluxStore
from ingest.subscriptions import stale_subscriptions
from sensors.registry import Registry, load_registry
from sensors.settings import Settings

log = logging.getLogger(__name__)

# Drain (``smartplace ingest drain``): the session is empty once everything received is
# stored and acknowledged and the broker has sent nothing more for this long (it sends
# the next queued messages as soon as acknowledgements come back).
DRAIN_QUIET_S = 2.0
DRAIN_CONNECT_TIMEOUT_S = 60.0


class IngestService:
    """The ingestor. Build it with settings, call :meth:`run`, stop it with :meth:`stop`."""

    def __init__(self, settings: Settings, registry: Registry | None = None, *,
                 drain: bool = False) -> None:
        """Build the ingestor (nothing connects yet).

        Raises:
            DevicesFileError: the devices file is unusable (the message names the entry).
            StateStoreError: the spool dir's durable state cannot be opened.
            ReceiverError: the HTTP receiver cannot listen on its address.
        """
        self.settings = settings
        self.drain = drain
        registry = registry or load_registry()
        self.formats = load_formats(settings, registry)
        self.decoder = MessageDecoder(settings.topic_prefix, registry, self.formats)
        self.stats = IngestStats()
        self._stop = threading.Event()
        self.fatal: str | None = None
        self.retrier = Retrier(self._stop, self.stats, settings.ingest_max_backoff_s)
        self.store = InfluxStore(settings, deadline=self.retrier.deadline)
        extra_topics = self.formats.subscriptions() if self.formats is not None else []
        self.consumer = MqttConsumer(settings, self._on_message, extra_topics=extra_topics,
                                     drain=drain)
        self.consumer.stale_topics = stale_subscriptions(settings.spool_dir, self.consumer.topics)
        self.dead_letters = DeadLetterWriter(self.store, self.retrier, self.stats,
                                             settings.spool_dir, settings.ingest_client_id)
        self.pending: deque[Item] = deque()
        self.spool = (Qos0Spool(settings.spool_dir, settings.ingest_spool_max_bytes)
                      if settings.ingest_spool_max_bytes else None)
        self.metrics = IngestMetrics(self.stats, self.pending.__len__,
                                     self.consumer.subscribed.is_set, self._spool_bytes)
        # The Sensor.Community receiver (never while draining a session).
        receiving = bool(settings.ingest_http_port and self.formats is not None and not drain)
        self.batcher = Batcher(
            self.pending, self.store, self.dead_letters, self.retrier,
            # Without the HTTP receiver, acknowledgements go straight to the broker.
            self._acknowledge if receiving else self.consumer.ack_all,
            self.stats, self.metrics, settings.ingest_batch_size,
            settings.ingest_flush_interval_s, self._stop, self.spool,
            settings.ingest_qos0_memory, self.decoder.decode,
            durable=self.formats.commit if self.formats is not None else None,
        )
        self.receiver: SensorCommunityReceiver | None = None
        if receiving:
            assert self.formats is not None
            self.receiver = SensorCommunityReceiver(
                settings.ingest_http_host, settings.ingest_http_port, self.formats,
                self.batcher, self.retrier, ReceiptLog(settings.spool_dir), self.stats,
                accepting=lambda: not self._stop.is_set(), wait_s=settings.ingest_http_wait_s)
        self.stats_writer = StatsWriter(self.store, self.stats, settings.ingest_client_id,
                                        settings.ingest_stats_interval_s,
                                        self.pending.__len__, self._spool_bytes)
        self._last_message_at = 0.0

    def _spool_bytes(self) -> int:
        return self.spool.holds if self.spool is not None else 0

    def readiness(self) -> tuple[bool, dict[str, object]]:
        """Ready: subscribed to the broker, and InfluxDB accepted the latest request."""
        subscribed = self.consumer.subscribed.is_set()
        outcome = self.store.last_outcome
        store_ok = outcome is not None and outcome[0]
        details: dict[str, object] = {
            "subscribed": subscribed,
            "store": "ok" if store_ok else ("unknown" if outcome is None else "failing"),
        }
        if outcome is not None and outcome[1]:
            details["store_error"] = outcome[1]
        if self.consumer.last_error:
            details["broker_error"] = self.consumer.last_error
        return subscribed and store_ok, details

    # --- MQTT thread -------------------------------------------------------------------

    def _on_message(self, mid: int, qos: int, generation: int, topic: str, payload: bytes,
                    retained: bool) -> None:
        self.stats.received += 1
        if self.drain:
            self._last_message_at = time.monotonic()
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
        self.batcher.add(Item(mid, qos, generation, result, topic, payload, time.monotonic(),
                              retained))

    def _acknowledge(self, batch: Sequence[Item]) -> None:
        self.consumer.ack_all(batch)  # skips HTTP items: no connection has their generation
        receiver = self.receiver
        assert receiver is not None
        for item in batch:
            if item.generation == HTTP_GENERATION:
                receiver.stored(item.mid)

    # --- writer thread -----------------------------------------------------------------

    def _drained(self, started: float) -> bool:
        """Drain mode: True once the session is empty (everything stored and acknowledged,
        nothing new for DRAIN_QUIET_S after leaving the subscription).

        Raises:
            DrainError: no connection within DRAIN_CONNECT_TIMEOUT_S.
        """
        consumer = self.consumer
        if not consumer.unsubscribed.is_set():
            if time.monotonic() - started > DRAIN_CONNECT_TIMEOUT_S:
                raise DrainError(f"could not resume the session of "
                                 f"{self.settings.ingest_client_id!r}: "
                                 f"{consumer.last_error or 'the broker did not answer'}")
            return False
        stats = self.stats
        quiet_since = max(self._last_message_at, consumer.unsubscribed_at)
        return (not self.pending and stats.received == stats.acked + stats.dropped
                and self._spool_bytes() == 0
                and time.monotonic() - quiet_since >= DRAIN_QUIET_S)

    def stop(self) -> None:
        """Ask :meth:`run` to stop taking messages, flush, acknowledge and return."""
        self._stop.set()

    def run(self, report_port: Callable[[int], None] | None = None) -> int:
        """Ingest until :meth:`stop` (or SIGTERM/SIGINT when run on the main thread).

        Args:
            report_port: called with the port of ``/metrics`` and ``/ready`` once they
                are served (a worker serves them on any free port and tells its pool).

        Returns:
            The process exit code: 0 after a clean shutdown, 1 when the durable state
            failed (see :attr:`fatal`).
        """
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        metrics_server = None
        if self.settings.metrics_port or report_port is not None:
            metrics_server = serve_endpoints(self.settings.metrics_host,
                                             self.settings.metrics_port,
                                             self.metrics.registry, self.readiness)
            if report_port is not None:
                report_port(metrics_server.server_address[1])
        self._ensure_database()
        self.consumer.start()
        if self.receiver is not None:
            self.receiver.start()
        # None unless a feed URL is configured (and never while draining a session).
        grid_feed = None if self.drain else start_grid_feed(self.settings, self.consumer.publish)
        log.info("ingest started" if not self.drain else "draining a retired session",
                 extra={"database": self.settings.influx_database,
                        "client_id": self.settings.ingest_client_id})
        batcher = self.batcher
        drained = False
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                batch = batcher.collect()
                if batch:
                    batcher.store(batch)
                self.stats_writer.maybe_write()
                if self.drain and self._drained(started):
                    drained = True
                    break
            self.consumer.stop_accepting()
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
            self.stats_writer.maybe_write(force=True)
            # A drain that finished ends the session; an interrupted one keeps it (and what
            # the broker still holds for it) for the next attempt.
            self.consumer.close(end_session=drained)
            self.store.close()
            if self.formats is not None:
                self.formats.close()
            if self.spool is not None:
                self.spool.close()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
        log.info(
            "session drained and ended" if drained else "ingest stopped",
            extra={"received": self.stats.received, "stored": self.stats.stored,
                   "dead_letters": sum(self.stats.dead_letters.values())},
        )
        if self.fatal:
            return 1
        return 0 if drained or not self.drain else 1

    def _ensure_database(self) -> None:
        try:
            if not self.store.create_database():
                log.warning(
                    "could not create the database (expected on InfluxDB 2.x/3.x, where the "
                    "bucket is provisioned); writing anyway",
                    extra={"database": self.settings.influx_database},
                )
            retention = self.settings.influx_raw_retention
            if retention and not self.store.apply_retention(retention):
                log.warning("could not set the raw readings' retention (on InfluxDB 2.x/3.x "
                            "set the bucket's retention instead)",
                            extra={"retention": retention})
        except StoreUnavailableError as exc:
            log.warning("InfluxDB not reachable yet; writes will retry", extra={"error": str(exc)})
