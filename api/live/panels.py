"""Running the live panels' jobs: concurrently, with a back-off for failing ones, and a
slow one beside the ticks (docs/live.md, "Cadence and lifetime").

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
        _classify(name, outcome, known, results, failures)
    if backoff is not None:
        backoff.record(run, failures)
        failures.update({name: message for name, message in backoff.held(run).items()
                         if name in jobs})
    return results, failures


def _classify(name: str, outcome: Any, known: Mapping[str, str], results: dict[str, Any],
              failures: dict[str, str]) -> None:
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


class BackgroundJob:
    """A slow panel computed beside the ticks rather than inside one.

    A tick that finds the panel due starts its job; the tick during which it ends (or the
    first after) publishes it. The tick waits for it only as long as the refresh period
    allows, so a job that takes a minute (``carbon``'s first computation at 30,000 sensors
    when the rollups cover nothing: README, "Scale of the network") never holds back the
    other panels, and one job runs at a time.
    """

    def __init__(self, name: str, backoff: PanelBackoff) -> None:
        self.name = name
        self._backoff = backoff
        self._task: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        """Whether a job is under way."""
        return self._task is not None

    def start(self, job: Job) -> None:
        """Run ``job``, unless one is under way or the back-off holds the panel (then
        ``job`` is closed unrun)."""
        if self._task is not None or not self._backoff.due(self.name):
            job.close()
            return
        self._task = asyncio.get_running_loop().create_task(job, name=f"live-{self.name}")

    async def collect(self, wait_s: float, known: Mapping[str, str], results: dict[str, Any],
                      failures: dict[str, str]) -> None:
        """Wait up to ``wait_s`` for the job under way; if it ended, put its result in
        ``results`` (or its failure in ``failures``) and update the back-off. While the
        panel is failing and no new outcome came, its last failure is reported again."""
        task = self._task
        if task is not None:
            if wait_s > 0:
                await asyncio.wait({task}, timeout=wait_s)
            if task.done():
                self._task = None
                if not task.cancelled():
                    own: dict[str, str] = {}
                    outcome = task.exception() or task.result()
                    _classify(self.name, outcome, known, results, own)
                    self._backoff.record({self.name: None}, own)
                    failures.update(own)
                    return
        held = self._backoff.held({}).get(self.name)
        if held is not None:
            failures[self.name] = held

    def cancel(self) -> asyncio.Task[Any] | None:
        """Stop the job under way (the poller stops); the task, to wait for, if any."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task
