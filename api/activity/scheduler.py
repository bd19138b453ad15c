"""The rollup job's schedule: an APScheduler 3.x ``AsyncIOScheduler`` in the API process.

It runs :func:`api.activity.rollup_job.run_rollup` every ``rollup_interval_s`` seconds on the app's
event loop (no thread), first one interval after start-up. A failing run is logged and
retried at the next interval; it never stops the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from api.activity.rollup_job import run_rollup
from api.influx import InfluxStore
from sensors.settings import Settings
from sensors.timestamps import now_ms

logger = logging.getLogger(__name__)

JOB_ID = "activity-rollup"


class RollupScheduler:
    """Starts and stops the rollup job with the app's lifespan."""

    def __init__(self, store: InfluxStore, settings: Settings,
                 observe: Callable[[str, float], None] | None = None,
                 on_run: Callable[[], None] | None = None) -> None:
        """``observe(outcome, seconds)`` is told of every run (``ok``, ``failed`` or
        ``cancelled``); ``on_run()`` after each successful one."""
        self._store = store
        self._observe = observe
        self._settings = settings
        self._on_run = on_run  # told after each run: answers read before it are stale
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._scheduler is not None

    def start(self) -> None:
        """Schedule the job on the running event loop (no-op when the interval is 0)."""
        if self._settings.rollup_interval_s <= 0 or self._scheduler is not None:
            return
        # An explicit timezone: APScheduler would otherwise ask tzlocal for the host's.
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        scheduler.add_job(self.run_once, "interval", id=JOB_ID,
                          seconds=self._settings.rollup_interval_s,
                          max_instances=1, coalesce=True)
        scheduler.start()
        self._scheduler = scheduler
        logger.info("rollup job every %g s, recomputing %d h",
                    self._settings.rollup_interval_s, self._settings.rollup_lookback_h)

    async def run_once(self) -> None:
        """One run of the job; errors are logged, never raised."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        started, outcome = time.perf_counter(), "failed"
        try:
            await run_rollup(self._store, self._settings, now_ms())
            outcome = "ok"
            if self._on_run is not None:
                self._on_run()
        except asyncio.CancelledError:
            outcome = "cancelled"  # the app is stopping: not a failure of the job
            raise
        except Exception:
            logger.exception("rollup run failed; retrying at the next interval")
        finally:
            if self._observe is not None and outcome != "cancelled":
                self._observe(outcome, time.perf_counter() - started)
            if task is not None:
                self._running.discard(task)

    async def stop(self) -> None:
        """Stop scheduling and wait for a run in progress to be cancelled."""
        if self._scheduler is None:
            return
        self._scheduler.shutdown(wait=False)
        self._scheduler = None
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
