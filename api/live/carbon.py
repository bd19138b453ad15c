"""The live ``carbon`` panel: gross kgCO2e today so far and yesterday to the same London
clock time (payload: docs/live.md, ``carbon``).

Each figure is ``GET /api/v1/emissions?source=auto``'s for the same window: whole hours
inside the rollup coverage come from the hourly rollups, the rest from raw readings
(:func:`api.activity.rollups.read_activity`). The window is read in two parts, its
closed hours and the open hour since the last hour boundary: the closed part of a
window only changes when an hour ends, the coverage moves (the rollup job has run) or
the sensor scope changes, so it is read once for those and kept; each refresh reads
only the open hour raw. Both parts' activities are priced together, as the endpoint
prices its rollup and raw parts together.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.activity.rollups import Coverage, read_activity, read_coverage
from api.activity.scope import SensorScope, current_scope
from api.carbon.pricing import summarise
from api.clock import LONDON, TimeWindow, floor_hour
from api.influx import InfluxStore
from api.live.sse import rfc3339_ms
from sensors.factors import FactorTable
from sensors.timestamps import NS_PER_MS

Activity = tuple[list[EnergyActivity], list[TransportActivity]]
_ClosedKey = tuple[int, int, Coverage | None, SensorScope]


def today_and_yesterday(now_ms: int) -> tuple[TimeWindow, TimeWindow]:
    """Today from Europe/London midnight to now, and yesterday to the same clock time."""
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(LONDON)
    midnight = datetime.combine(local.date(), time(0), LONDON)
    before = local.date() - timedelta(days=1)
    # An instant in the clock hour skipped or repeated at a DST change maps to one of its
    # two readings: at most an hour's difference, twice a year.
    same_time = datetime.combine(before, local.time(), LONDON)

    def ns(moment: datetime) -> int:
        return round(moment.timestamp() * 1000) * NS_PER_MS

    today = TimeWindow(ns(midnight), now_ms * NS_PER_MS)
    yesterday = TimeWindow(ns(datetime.combine(before, time(0), LONDON)), ns(same_time))
    return today, yesterday


def split_open_hour(window: TimeWindow) -> tuple[TimeWindow | None, TimeWindow | None]:
    """The window's part before its last hour boundary, and the part after it (either
    None when empty)."""
    boundary = floor_hour(window.end_ns // NS_PER_MS) * NS_PER_MS
    boundary = max(boundary, window.start_ns)
    closed = TimeWindow(window.start_ns, boundary) if boundary > window.start_ns else None
    rest = TimeWindow(boundary, window.end_ns) if window.end_ns > boundary else None
    return closed, rest


class CarbonPanel:
    """Computes the ``carbon`` payload, keeping each window's closed hours' activity."""

    def __init__(self, store: InfluxStore, factors: FactorTable) -> None:
        self._store = store
        self._factors = factors
        self._closed: dict[_ClosedKey, Activity] = {}
        self.closed_reads = 0
        """Reads of a closed part (each one hour's worth at most per window and hour)."""

    async def fetch(self, now_ms: int) -> dict[str, Any]:
        """The payload without ``at``.

        Raises:
            StoreError: InfluxDB could not answer.
        """
        coverage = await read_coverage(self._store)
        kept: dict[_ClosedKey, Activity] = {}
        totals = []
        windows = today_and_yesterday(now_ms)
        for window in windows:
            energy: list[EnergyActivity] = []
            transport: list[TransportActivity] = []
            closed, rest = split_open_hour(window)
            if closed is not None:
                key = (closed.start_ns, closed.end_ns, coverage, current_scope())
                if key not in self._closed:
                    read = await read_activity(self._store, closed, None, "auto", ())
                    self._closed[key] = (read.energy, read.transport)
                    self.closed_reads += 1
                kept[key] = self._closed[key]
                energy += kept[key][0]
                transport += kept[key][1]
            if rest is not None:
                more_energy, more_transport = await fetch_activity(self._store, rest, None)
                energy += more_energy
                transport += more_transport
            totals.append(summarise(energy, transport, (), self._factors).total_kgco2e)
        self._closed = kept  # only the current hours' parts: two entries at most
        today, yesterday = totals
        change = (today - yesterday) / yesterday * 100 if yesterday > 0 else None
        return {"today_kgco2e": today, "yesterday_same_time_kgco2e": yesterday,
                "change_pct": change,
                "today_start": rfc3339_ms(windows[0].start_ns // NS_PER_MS)}
