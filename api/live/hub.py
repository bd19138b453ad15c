"""One poller per app: computes every live panel once per refresh and fans it out.

The app's lifespan makes the hub and closes it. The poller is an asyncio task started
when the first client subscribes and stopped when the last one leaves (no screen open, no
queries) or the app shuts down. Each client has
a bounded queue; a client that cannot keep up loses its oldest queued snapshots, which
newer ones replace anyway, and never slows the poller or the other clients.

The sensors' latest readings come from the app's :class:`LastSeenIndex`; the ``sensors``
event is the full list for a client's first (:mod:`api.live.sensors_feed`), changes after.

Cadence: ``now``, ``series`` (1h), ``sensors``, ``pipeline`` and ``alerts`` every refresh;
``series`` (24h), ``carbon`` and the DAQI (``worst_daqi``, ``daqi_high``) every
:data:`SLOW_EVERY_S`. ``carbon``, both ``series`` and the DAQI run beside the ticks, one
read of each at a time, sent by the tick during which it ends (a tick waits for a series
or the DAQI until :data:`SERIES_WAIT_S` after its start), so a slow read holds back only
its own panel (and the alerts wait for the first DAQI read).
A failing query never stops the poller: the tick sends an ``error`` event naming the
panels it could not compute and the other panels as usual; a failed panel is tried again
after a back-off (:mod:`api.live.panels`), named as failed meanwhile. After a start the
``alerts`` wait for the seq seed (:mod:`api.network.last_seen_index`), the other panels
do not (:data:`SEQ_WAIT_S`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from api.activity.scope import sensor_scope
from api.errors import StoreError
from api.influx import InfluxStore
from api.live import alerts as al
from api.live.carbon import CarbonPanel
from api.live.daqi_panel import DaqiPanel
from api.live.lifecycle import AlertLedger
from api.live.panels import BackgroundJob, Job, PanelBackoff, settle
from api.live.sensors_feed import SensorsFeed
from api.live.series import Window
from api.live.series_panel import SeriesPanel
from api.live.sse import rfc3339_ms
from api.live.state import (
    air_quality_sites,
    fetch_now,
    fetch_pipeline,
    hello_payload,
    sensors_panel,
    worst_daqi,
)
from api.live.subscription import Event, Subscription
from api.network.flags import FlagCache, SensorFlags
from api.network.last_seen_index import LastSeenIndex
from api.schemas import SensorStatus
from sensors.factors import FactorTable
from sensors.formats.devices import Device
from sensors.registry import Registry
from sensors.settings import Settings
from sensors.timestamps import now_ms as clock_ms

logger = logging.getLogger(__name__)

SLOW_EVERY_S = 30.0
WINDOWS: tuple[Window, ...] = ("1h", "24h")
SEQ_WAIT_S = 2.0
"""How long a tick waits for the seq seed once the sensors are read (a small network's
takes milliseconds; at 30,000 sensors, seconds)."""
SERIES_WAIT_S = 2.0
"""How long after its start a tick waits for a series or DAQI read (beside the ticks, as the carbon
panel): at 30,000 sensors one request of a series' first read took 6 s alone and passed
30 s beside the other first reads, the DAQI 4-6 s after every other panel, and both held
back every panel of the first tick (44 s to the first ``sensors`` event)."""
PANELS = ("now", "series:1h", "series:24h", "sensors", "pipeline", "alerts", "carbon")
"""Snapshot keys, in the order a new client receives the cached ones."""


class LiveHub:
    """Shared live state of one app and the clients subscribed to it."""

    def __init__(self, settings: Settings, registry: Registry, factors: FactorTable,
                 store: InfluxStore, ledger: AlertLedger | None = None,
                 flags: FlagCache | None = None, devices: Mapping[str, Device] | None = None,
                 last_seen: LastSeenIndex | None = None) -> None:
        self.refresh_s = settings.live_refresh_s
        self.heartbeat_s = settings.live_heartbeat_s
        self._registry = registry
        self._devices: Mapping[str, Device] = devices or {}
        self._factors = factors
        self._store = store
        self._last_seen = last_seen if last_seen is not None else LastSeenIndex(
            store, refresh_s=settings.last_seen_refresh_s, reseed_s=settings.last_seen_reseed_s)
        self._sensors = SensorsFeed()
        self._subscribers: set[Subscription] = set()
        self._latest: dict[str, Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False
        self._slow_due = 0.0
        self._failing: dict[str, str] = {}
        self._backoff = PanelBackoff(self.refresh_s)
        self._carbon = CarbonPanel(store, factors)
        self._carbon_job = BackgroundJob("carbon", self._backoff)
        self._series_jobs = {window: BackgroundJob(f"series:{window}", self._backoff)
                             for window in WINDOWS}
        self._daqi_job = BackgroundJob("daqi", self._backoff)
        self._series = {window: SeriesPanel(store, window) for window in WINDOWS}
        self._book = al.AlertBook()
        self.ledger = ledger if ledger is not None else AlertLedger(store)
        self.flags = flags if flags is not None else FlagCache(registry)
        self._alerts: dict[str, Any] | None = None  # the last alerts payload, undecorated
        self._daqi = DaqiPanel(store, registry)

    def hello(self, now_ms: int) -> dict[str, Any]:
        """The first event of every connection: settings, sites and registered sensors."""
        return hello_payload(self._registry, self._devices, now_ms, self.refresh_s,
                             self.heartbeat_s)

    @property
    def clients(self) -> int:
        """Open streams (subscribed clients)."""
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        """A new client: its queue starts with the latest snapshots; starts the poller."""
        subscription = Subscription()
        if self._closed:
            subscription.offer(None)
            return subscription
        for key in PANELS:
            if key in self._latest:
                subscription.offer(self._latest[key])
        self._subscribers.add(subscription)
        if self._task is None:
            self._slow_due = 0.0  # a fresh start computes every panel at once
            self._backoff.forget()
            self._daqi.restart()
            self._series = {window: SeriesPanel(self._store, window) for window in WINDOWS}
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-poller")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """A client left; the last one out stops the poller (synchronous: safe in finally)."""
        self._subscribers.discard(subscription)
        if not self._subscribers and self._task is not None:
            self._latest.clear()  # stale by the time anyone reconnects
            for job in self._background():
                job.cancel()
            self._task.cancel()
            self._stopping.add(self._task)
            self._task.add_done_callback(self._stopping.discard)
            self._task = None

    async def aclose(self) -> None:
        """End every stream and stop the poller (the app is shutting down)."""
        self._closed = True
        for subscription in list(self._subscribers):
            subscription.offer(None)
        self._subscribers.clear()
        jobs = [task for job in self._background() if (task := job.cancel()) is not None]
        tasks = [*self._stopping, *([self._task] if self._task else []), *jobs]
        self._task = None
        for task in tasks:
            task.cancel()
        if tasks:
            # wait() leaves the tasks' cancellation to them and still lets aclose be cancelled.
            await asyncio.wait(tasks)

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self._publish(await self.tick())
            except Exception:
                logger.exception("live poller tick failed")  # keep the wall screen alive
            elapsed = time.monotonic() - started
            # Never back-to-back, even when InfluxDB is slower than the refresh period.
            await asyncio.sleep(max(self.refresh_s - elapsed, self.refresh_s / 4))

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            full = self._sensors.full if event.name == "sensors" else None
            if event.name != "error":
                key = f"series:{event.data['window']}" if event.name == "series" else event.name
                self._latest[key] = full or event  # a new client starts from the full list
            for subscription in self._subscribers:
                subscription.offer(full if full and subscription.needs_full_sensors else event)

    async def tick(self, now_ms: int | None = None) -> list[Event]:
        """Compute every panel due now; the events in :data:`PANELS` order, ``error`` last.

        The figures leave out simulated sensors (api/activity/scope.py); alerts leave out
        simulated and retired ones.
        """
        now_ms = clock_ms() if now_ms is None else now_ms
        began = time.monotonic()
        at = rfc3339_ms(now_ms)
        store = self._store
        flags, failures = await self._read_flags()
        slow = time.monotonic() >= self._slow_due
        jobs: dict[str, Job] = {
            "now": fetch_now(store, now_ms),
            "sensors": self._last_seen.get(), "pipeline": fetch_pipeline(store, now_ms),
            # None while the seq seed runs on (api/network/last_seen_index.py): the alerts
            # wait for it, the other panels do not.
            "seq_gaps": self._last_seen.seq_gaps(now_ms, wait_s=SEQ_WAIT_S),
            "dead_letters": al.fetch_dead_letters(store, now_ms),
        }
        if not self.ledger.loaded:
            jobs["alert_history"] = self.ledger.load(now_ms)
        with sensor_scope(flags.scope()):  # the background jobs run in this scope too
            self._series_jobs["1h"].start(self._series["1h"].fetch(now_ms))
            # A failed slow panel is tried again on its back-off, not only every
            # SLOW_EVERY_S; one still filling in (at 30,000 sensors) at every tick.
            if slow or self._backoff.failing("series:24h") or self._series["24h"].partial:
                self._series_jobs["24h"].start(self._series["24h"].fetch(now_ms))
            if slow or self._backoff.failing("carbon"):
                self._carbon_job.start(self._carbon.fetch(now_ms))
            results, more_failures = await settle(jobs, self._failing, self._backoff)
        failures.update(more_failures)
        seen = results.get("sensors")
        if slow or self._backoff.failing("daqi"):
            # Its sites include those of sensors found in the data: after the sensors.
            sites = air_quality_sites(self._registry, seen or {})
            self._daqi_job.start(self._daqi.fetch(sites, now_ms, self._book.since))
        spent = time.monotonic() - began
        await asyncio.gather(
            self._carbon_job.collect(self.refresh_s - spent, self._failing, results, failures),
            # Up to SERIES_WAIT_S after the tick began (when the series reads started).
            *(job.collect(max(self.refresh_s, SERIES_WAIT_S) - spent, self._failing, results,
                          failures)
              for job in (*self._series_jobs.values(), self._daqi_job)))
        if "alert_history" in results:
            self._book.restore(results["alert_history"], now_ms)
        if slow:
            self._slow_due = time.monotonic() + SLOW_EVERY_S

        events = []
        if "now" in results:
            events.append(Event("now", {"at": at, **results["now"],
                                        "worst_daqi": worst_daqi(self._daqi.indices)}))
        for key in ("series:1h", "series:24h"):
            if key in results:
                events.append(Event("series", {"at": at, **results[key]}))
        statuses: list[SensorStatus] = []
        if seen is not None:
            panel, statuses = sensors_panel(self._registry, seen, now_ms, flags,
                                            self._devices)
            events.append(self._sensors.update(at, panel))
        if "pipeline" in results:
            events.append(Event("pipeline", {"at": at, **results["pipeline"]}))
        inputs = ("seq_gaps", "dead_letters")
        # The DAQI's alerts once read (or failing: then the last ones known, as before).
        daqi_known = self._daqi.read or "daqi" in failures
        if seen is not None and all(results.get(key) is not None for key in inputs) \
                and self.ledger.loaded and daqi_known \
                and "flags" not in failures:
            # Only with every input: a failed query must not "clear" the alerts it feeds.
            found = [*al.silent_alerts(statuses, seen), *al.seq_gap_alerts(results["seq_gaps"])]
            spike = al.dead_letter_alert(results["dead_letters"], now_ms)
            found += [spike] if spike else []
            if "pipeline" in results:
                dropping = al.dropping_alert(results["pipeline"],
                                             self._book.since("ingest_dropping") or now_ms)
                found += [dropping] if dropping else []
            found += self._daqi.alerts
            found = [alert for alert in found if not (alert.sensor and flags.quiet(alert.sensor))]
            self._alerts = self._book.update(found, now_ms)
            self.ledger.observe(self._book.raised, self._book.ended, now_ms)
            events.append(self.alerts_event(now_ms))
        if "carbon" in results:
            events.append(Event("carbon", {"at": at, **results["carbon"]}))
        self._log_change(failures)
        if failures:
            messages = list(dict.fromkeys(failures.values()))
            events.append(Event("error", {"at": at, "message": "; ".join(messages),
                                          "failed": sorted(failures)}))
        return events

    def _background(self) -> list[BackgroundJob]:
        return [self._carbon_job, *self._series_jobs.values(), self._daqi_job]

    async def _read_flags(self) -> tuple[SensorFlags, dict[str, str]]:
        try:
            return await self.flags.get(self._store), {}
        except StoreError as exc:
            return SensorFlags(), {"flags": exc.message}

    def alert(self, alert_id: str) -> al.Alert | None:
        """The active alert with this id (as of the last tick), if any."""
        return self._book.active(alert_id)

    def alerts_event(self, now_ms: int) -> Event:
        """The ``alerts`` event: the last tick's alerts with their lifecycle now."""
        payload = self._alerts or {"active": [], "cleared": []}
        active = {item["id"]: alert for item in payload["active"]
                  if (alert := self._book.active(item["id"])) is not None}
        return Event("alerts", {"at": rfc3339_ms(now_ms),
                                **self.ledger.decorate(payload, active, now_ms)})

    def publish_alerts(self, now_ms: int | None = None) -> None:
        """Send every client the alerts again at once (after an acknowledgement or a
        silence), without waiting for the next tick."""
        if self._alerts is not None:
            self._publish([self.alerts_event(clock_ms() if now_ms is None else now_ms)])

    def _log_change(self, failures: dict[str, str]) -> None:
        # Once per change, not every tick: a wall screen left open all day would flood the log.
        if failures != self._failing:
            if failures:
                logger.warning("live panels failing: %s", failures)
            else:
                logger.info("live panels recovered")
            self._failing = dict(failures)
