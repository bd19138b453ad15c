"""Running the live panels' jobs: concurrently, with a back-off for failing ones
(docs/live.md, "Cadence and lifetime").

A panel whose query failed is not asked again at every tick (1 s): a slow query that hit
InfluxDB's time-out would otherwise be sent again at once, loading the database it is
waiting for. It is retried after 2, 4, 8 ... ticks, at most :data:`BACKOFF_MAX_S`; until
then its last failure is reported again, so the ``error`` event still names it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from api.errors import StoreError

logger = logging.getLogger(__name__)

BACKOFF_MAX_S = 60.0

Job = Coroutine[Any, Any, Any]


class PanelBackoff:
    """When each failing panel may be tried again, and its last failure message."""

    def __init__(self, refresh_s: float, clock: Callable[[], float] = time.monotonic,
                 max_s: float = BACKOFF_MAX_S) -> None:
        self._refresh_s = refresh_s
        self._clock = clock
        self._max_s = max_s
        self._failed: dict[str, tuple[int, float, str]] = {}  # name: failures, due, message

    def failing(self, name: str) -> bool:
        """Whether the panel's last attempt failed."""
        return name in self._failed

    def due(self, name: str) -> bool:
        """Whether the panel may run now (it did not fail, or its wait is over)."""
        held = self._failed.get(name)
        return held is None or self._clock() >= held[1]

    def held(self, names: Mapping[str, Any]) -> dict[str, str]:
        """The last failure of each failing panel not in ``names`` (not run this tick)."""
        return {name: message for name, (_, _, message) in self._failed.items()
                if name not in names}

    def record(self, ran: Mapping[str, Any], failures: Mapping[str, str]) -> None:
        """The outcome of the jobs that ran: failures wait longer, successes reset."""
        now = self._clock()
        for name in ran:
            if name in failures:
                count = self._failed.get(name, (0, 0.0, ""))[0] + 1
                wait = min(self._refresh_s * 2 ** count, self._max_s)
                self._failed[name] = (count, now + wait, failures[name])
            else:
                self._failed.pop(name, None)

    def forget(self) -> None:
        """Every panel may run at once (the poller starts afresh)."""
        self._failed.clear()


async def settle(jobs: Mapping[str, Job], known: Mapping[str, str],
                 backoff: PanelBackoff | None = None
                 ) -> tuple[dict[str, Any], dict[str, str]]:
    """Run the jobs concurrently: results by name, and failure messages by name.

    With ``backoff``, the jobs it holds back are not run (their coroutines are closed)
    and their last failure is reported again. A bug's traceback is logged when it first
    appears (``known``: the last tick's failures).
    """
    run = {name: job for name, job in jobs.items() if backoff is None or backoff.due(name)}
    for name, job in jobs.items():
        if name not in run:
            job.close()
    outcomes = await asyncio.gather(*run.values(), return_exceptions=True)
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name, outcome in zip(run, outcomes, strict=True):
        if isinstance(outcome, StoreError):
            failures[name] = outcome.message
        elif isinstance(outcome, Exception):
            failures[name] = f"internal error computing {name} ({type(outcome).__name__})"
            if known.get(name) != failures[name]:
                logger.error("live job %s failed", name, exc_info=outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[name] = outcome
    if backoff is not None:
        backoff.record(run, failures)
        failures.update({name: message for name, message in backoff.held(run).items()
                         if name in jobs})
    return results, failures
