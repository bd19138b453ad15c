"""The DAQI behind the live ``now.worst_daqi`` and the ``daqi_high`` alerts, read beside
the hub's ticks every :data:`api.live.hub.SLOW_EVERY_S` (docs/live.md, "Cadence")."""

from __future__ import annotations

from collections.abc import Callable

from api.air.daqi import SiteIndex
from api.air.queries import fetch_sites_daqi
from api.influx import InfluxStore
from api.live import alerts as al
from sensors.registry import Registry


class DaqiPanel:
    """The last DAQI read of each air-quality site and the alerts it raises."""

    def __init__(self, store: InfluxStore, registry: Registry) -> None:
        self._store = store
        self._registry = registry
        self.indices: list[SiteIndex] = []
        self.alerts: list[al.Alert] = []
        self.read = False
        """Whether a read has ended since :meth:`restart` (the alerts wait for one)."""

    def restart(self) -> None:
        """The poller starts afresh: the indices kept are stale."""
        self.read = False

    async def fetch(self, sites: list[str], now_ms: int,
                    since_of: Callable[[str], int | None]) -> None:
        """Read the sites' DAQI; ``since`` of an alert already active comes from
        ``since_of`` (by alert id), of a new one from the data, once.

        Raises:
            StoreError: InfluxDB could not answer.
        """
        indices = await fetch_sites_daqi(self._store, sites, now_ms, self._registry)
        found = []
        for index in indices:
            if al.daqi_severity(index.overall_index) is None:
                continue
            since = since_of(f"daqi_high:{index.site}")
            if since is None:
                since = await al.daqi_since(self._store, index.site, now_ms, self._registry)
            alert = al.daqi_alert(index, since)
            if alert is not None:
                found.append(alert)
        self.indices, self.alerts, self.read = indices, found, True
