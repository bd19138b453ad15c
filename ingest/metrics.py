"""Prometheus metrics of the ingestor.

Names follow the Prometheus conventions (https://prometheus.io/docs/practices/naming/):
counters end in ``_total`` (added by the client library), measured quantities carry their
unit in the plural (``_seconds``, ``_bytes``, ``_lines``, ``_messages``);
``smartplace_build_info`` says which build runs.

Per-message counts are plain integers, each written by a single thread, and exported by
a collector at scrape time: a prometheus ``Counter`` takes a lock per increment, which
the hot path does not need.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sensors.version import build_labels


class IngestStats:
    """Counts the ingestor keeps; read by the metrics collector and the logs."""

    def __init__(self) -> None:
        self.received = 0  # written by the MQTT thread only
        self.unknown_fields = 0  # MQTT thread only
        # Messages of a device format's topic that are not readings, by kind (MQTT thread).
        self.ignored: Tally[str] = Tally()
        # Sensor.Community receiver answers by HTTP status (its request threads, which
        # update it under the receiver's lock).
        self.http_answers: Tally[str] = Tally()
        self.stored = 0  # writer thread only
        self.dead_letters: Tally[str] = Tally()  # writer thread only
        self.write_retries = 0  # writer thread only
        self.acked = 0  # writer thread only
        self.batches = 0  # writer thread only
        self.write_seconds_total = 0.0  # writer thread only
        self.lag_seconds = 0.0  # writer thread only: newest reading's age when stored
        self.dropped = 0  # MQTT thread only: QoS 0 messages dropped, the spool being full
        self.started_at_ms = int(time.time() * 1000)


class IngestMetrics(Collector):
    """Exports :class:`IngestStats` plus the batch histograms on its own registry."""

    def __init__(self, stats: IngestStats, queue_depth: Callable[[], int],
                 subscribed: Callable[[], bool],
                 spool_bytes: Callable[[], int] = lambda: 0) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._stats = stats
        self._queue_depth = queue_depth
        self._subscribed = subscribed
        self._spool_bytes = spool_bytes
        self.batch_size = Histogram(
            "smartplace_ingest_batch_lines", "Lines per write to InfluxDB",
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000),
            registry=self.registry,
        )
        self.write_latency = Histogram(
            "smartplace_ingest_write_seconds", "Time to store one batch, retries included",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.lag = Histogram(
            "smartplace_ingest_lag_seconds", "Time from MQTT receipt to acknowledgement",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        Info("smartplace_build", "The running smartplace build", registry=self.registry).info(
            build_labels("ingest"))
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:
        stats = self._stats
        yield CounterMetricFamily(
            "smartplace_ingest_received", "MQTT messages received", value=stats.received
        )
        yield CounterMetricFamily(
            "smartplace_ingest_stored", "Readings stored in InfluxDB", value=stats.stored
        )
        yield CounterMetricFamily(
            "smartplace_ingest_acked", "Messages acknowledged to the broker", value=stats.acked
        )
        yield CounterMetricFamily(
            "smartplace_ingest_unknown_fields",
            "Payload fields the contract does not define (ignored)", value=stats.unknown_fields,
        )
        yield CounterMetricFamily(
            "smartplace_ingest_write_retries", "Failed writes that were retried",
            value=stats.write_retries,
        )
        yield _by_label(
            "smartplace_ingest_ignored",
            "Messages of a device format that are not readings (joins, events), by kind",
            "kind", stats.ignored)
        yield _by_label(
            "smartplace_ingest_http_requests",
            "Sensor.Community receiver requests, by the HTTP status answered", "status",
            stats.http_answers)
        yield _by_label("smartplace_ingest_dead_letters", "Bad messages stored as dead letters",
                        "reason", stats.dead_letters)
        yield GaugeMetricFamily(
            "smartplace_ingest_queue_messages", "Messages received and not yet stored",
            value=self._queue_depth(),
        )
        yield CounterMetricFamily(
            "smartplace_ingest_dropped",
            "QoS 0 messages dropped because the spool was full (store outage)",
            value=stats.dropped,
        )
        yield GaugeMetricFamily(
            "smartplace_ingest_spool_bytes", "QoS 0 messages waiting in the on-disk spool",
            value=self._spool_bytes(),
        )
        yield GaugeMetricFamily(
            "smartplace_ingest_mqtt_subscribed",
            "1 while connected to the broker and subscribed (0 while reconnecting)",
            value=1 if self._subscribed() else 0,
        )


def _by_label(name: str, help_text: str, label: str, tally: Tally[str]) -> CounterMetricFamily:
    """A counter family with one sample per key of ``tally``."""
    family = CounterMetricFamily(name, help_text, labels=[label])
    for key, count in sorted(tally.items()):
        family.add_metric([key], count)
    return family
