"""Retrying store writes: capped, jittered exponential backoff, and a shutdown grace period.

While the ingestor runs, a write is retried until the store takes it (the broker keeps
everything unacknowledged meanwhile). Once a stop is requested (even in the middle of a
retry loop), retries continue only until the grace period ends, and every request is
given at most what remains of it; then :class:`ingest.errors.ShutdownTimeoutError` ends
the flush and the unacknowledged messages stay with the broker.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ingest.errors import ShutdownTimeoutError, StoreAuthError, StoreUnavailableError
from ingest.metrics import IngestStats

log = logging.getLogger(__name__)

T = TypeVar("T")
SHUTDOWN_GRACE_S = 20.0


class Retrier:
    """Runs store writes until they succeed, backing off between failures."""

    def __init__(self, stop: threading.Event, stats: IngestStats, max_backoff_s: float,
                 grace_s: float = SHUTDOWN_GRACE_S) -> None:
        self._stop = stop
        self._stats = stats
        self._max_backoff_s = max_backoff_s
        self._grace_s = grace_s
        self._deadline = float("inf")
        # True from a failed write until the next one succeeds: the HTTP receiver answers
        # 503 at once meanwhile instead of queueing what it cannot store.
        self.failing = False

    def deadline(self) -> float:
        """When retrying ends (``time.monotonic()``): never, until a stop is requested,
        then the end of the grace period."""
        if self._stop.is_set() and self._deadline == float("inf"):
            self._deadline = time.monotonic() + self._grace_s
        return self._deadline

    def give_up_after(self, grace_s: float) -> None:
        """End retrying ``grace_s`` from now (a batch job, which has no stop request)."""
        self._deadline = time.monotonic() + grace_s

    def run(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until the store takes it.

        Raises:
            ShutdownTimeoutError: a stop was requested and the grace period ended while the
                store was unavailable.
        """
        failures = 0
        while True:
            try:
                result = attempt()
            except StoreUnavailableError as exc:
                self.failing = True
                failures += 1
                self._stats.write_retries += 1
                remaining = self.deadline() - time.monotonic()
                if remaining <= 0:
                    raise ShutdownTimeoutError from exc
                cap = min(self._max_backoff_s, 0.1 * 2 ** min(failures, 20))
                delay = min(cap * random.uniform(0.5, 1.0), remaining)  # noqa: S311 - jitter
                # Wrong credentials need an operator, not patience: an error, not a warning.
                level = logging.ERROR if isinstance(exc, StoreAuthError) else logging.WARNING
                log.log(level, "store unavailable; retrying",
                        extra={"error": str(exc), "attempt": failures,
                               "retry_in_s": round(delay, 2)})
                if self._stop.is_set():
                    time.sleep(delay)
                else:
                    self._stop.wait(delay)  # wakes early on stop to start the grace period
            else:
                self.failing = False
                return result
