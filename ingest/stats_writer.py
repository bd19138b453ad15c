"""The ingestor's own counters, written to InfluxDB (``ingest_stats``) for the dashboard.

So the dashboard needs no other source than InfluxDB (docs/live.md); Prometheus reads
the same counters from :mod:`ingest.metrics`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ingest.errors import StoreAuthError, StoreError
from ingest.metrics import IngestStats
from ingest.store import InfluxStore
from sensors.lineprotocol import point_line
from sensors.storage import Measurement

log = logging.getLogger(__name__)


class StatsWriter:
    """Writes one ``ingest_stats`` point per interval (0 = never)."""

    def __init__(self, store: InfluxStore, stats: IngestStats, instance: str,
                 interval_s: float, queue_depth: Callable[[], int],
                 spool_bytes: Callable[[], int]) -> None:
        self._store = store
        self._stats = stats
        self._instance = instance
        self._interval_s = interval_s
        self._queue_depth = queue_depth
        self._spool_bytes = spool_bytes
        self._next_at = 0.0
        self._auth_failing = False

    def maybe_write(self, force: bool = False) -> None:
        """Write the counters when the interval has passed (or ``force``).

        Best effort: a failure is logged at debug level and the next interval tries again;
        these points are telemetry about the pipeline, never readings.
        """
        interval = self._interval_s
        now = time.monotonic()
        if not interval or (now < self._next_at and not force):
            return
        self._next_at = now + interval
        stats = self._stats
        line = point_line(Measurement.INGEST_STATS, {"instance": self._instance}, {
            "received": stats.received, "stored": stats.stored,
            "dead_letters": sum(stats.dead_letters.values()), "acked": stats.acked,
            "ignored": sum(stats.ignored.values()),
            "write_retries": stats.write_retries, "batches": stats.batches,
            "queue_depth": self._queue_depth(), "started_at_ms": stats.started_at_ms,
            "write_seconds_total": stats.write_seconds_total, "lag_seconds": stats.lag_seconds,
            "dropped": stats.dropped, "spool_bytes": self._spool_bytes(),
        }, time.time_ns())
        assert line is not None
        try:
            self._store.write([line])
        except StoreAuthError as exc:
            # Readings would be retried (and logged) too; without traffic this is the only
            # sign, so say it once per failure streak.
            if not self._auth_failing:
                log.error("InfluxDB refuses the ingestor's credentials",
                          extra={"error": str(exc)})
            self._auth_failing = True
            return
        except StoreError as exc:
            log.debug("could not write ingest_stats", extra={"error": str(exc)})
        self._auth_failing = False
