"""Retrying store writes: capped, jittered exponential backoff, and a shutdown grace period.

While the ingestor runs, a write is retried until the store takes it (the broker keeps
everything unacknowledged meanwhile). Once a stop is requested, retries continue only
until the grace period ends; then :class:`ingest.errors.ShutdownTimeoutError` ends the
flush and the unacknowledged messages stay with the broker.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ingest.errors import ShutdownTimeoutError, StoreUnavailableError
from ingest.metrics import IngestStats

log = logging.getLogger(__name__)

T = TypeVar("T")
SHUTDOWN_GRACE_S = 20.0


class Retrier:
    """Runs store writes until they succeed, backing off between failures."""

    def __init__(self, stop: threading.Event, stats: IngestStats, max_backoff_s: float) -> None:
        self._stop = stop
        self._stats = stats
        self._max_backoff_s = max_backoff_s
        self.deadline = float("inf")
        # True from a failed write until the next one succeeds: the HTTP receiver answers
        # 503 at once meanwhile instead of queueing what it cannot store.
        self.failing = False

    def start_grace(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """From now on, give up ``grace_s`` later."""
        self.deadline = time.monotonic() + grace_s

    def run(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until the store takes it.

        Raises:
            ShutdownTimeoutError: the grace period ended while the store was unavailable.
        """
        failures = 0
        while True:
            try:
                result = attempt()
            except StoreUnavailableError as exc:
                self.failing = True
                failures += 1
                self._stats.write_retries += 1
                if time.monotonic() > self.deadline:
                    raise ShutdownTimeoutError from exc
                cap = min(self._max_backoff_s, 0.1 * 2 ** min(failures, 20))
                delay = cap * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
                log.warning(
                    "store unavailable; retrying",
                    extra={"error": str(exc), "attempt": failures, "retry_in_s": round(delay, 2)},
                )
                if self._stop.is_set():
                    time.sleep(min(delay, max(0.0, self.deadline - time.monotonic())))
                else:
                    self._stop.wait(delay)  # wakes early on stop to start the grace period
            else:
                self.failing = False
                return result
