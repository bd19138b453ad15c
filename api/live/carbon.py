"""The live ``carbon`` panel: gross kgCO2e today so far and yesterday to the same London
clock time (payload: docs/live.md, ``carbon``).

Each figure is ``GET /api/v1/emissions?source=auto``'s for the same window: the whole
hours inside the rollup coverage come from the hourly (and daily) rollups, summed over the
sensors by InfluxDB; they change only when the coverage moves, the day changes or the
sensor scope changes, so they are read once for those and kept. Every other hour (the
open one, and any the rollup job has not reached) is read raw by
:class:`api.live.carbon_tally.RawTally`, which keeps what it read per hour and each
refresh reads only the newest readings. Both parts' activities are priced together, as the
endpoint prices its rollup and raw parts together.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.rollups import Coverage, read_activity, read_coverage
from api.activity.scope import SensorScope, current_scope
from api.carbon.pricing import summarise
from api.clock import LONDON, TimeWindow, floor_hour
from api.influx import InfluxStore
from api.live.carbon_tally import RawTally, Span
from api.live.sse import rfc3339_ms
from sensors.factors import FactorTable
from sensors.timestamps import NS_PER_MS

Activity = tuple[list[EnergyActivity], list[TransportActivity]]
_RollupKey = tuple[int, int, SensorScope]


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


def covered_hours(window: TimeWindow, coverage: Coverage | None) -> Span | None:
    """The window's whole hours inside the rollup coverage, or None."""
    if coverage is None:
        return None
    lo = max(window.start_ns // NS_PER_MS, coverage.since_ms)
    hi = min(floor_hour(window.end_ns // NS_PER_MS), coverage.until_ms)
    return (lo, hi) if lo < hi else None


class CarbonPanel:
    """Computes the ``carbon`` payload, keeping each window's rollup part and raw hours."""

    def __init__(self, store: InfluxStore, factors: FactorTable) -> None:
        self._store = store
        self._factors = factors
        self._rollups: dict[_RollupKey, Activity] = {}
        self.tally = RawTally(store)
        """The hours read raw (for tests and the scale benchmark's counters)."""
        self.rollup_reads = 0
        """Reads of a window's rollup part (once per window, coverage and scope)."""

    async def fetch(self, now_ms: int) -> dict[str, Any]:
        """The payload without ``at``.

        Raises:
            StoreError: InfluxDB could not answer.
        """
        coverage = await read_coverage(self._store)
        kept: dict[_RollupKey, Activity] = {}
        totals = []
        windows = today_and_yesterday(now_ms)
        for window in windows:
            energy: list[EnergyActivity] = []
            transport: list[TransportActivity] = []
            covered = covered_hours(window, coverage)
            if covered is not None:
                key = (*covered, current_scope())
                if key not in self._rollups:
                    part = TimeWindow(covered[0] * NS_PER_MS, covered[1] * NS_PER_MS)
                    read = await read_activity(self._store, part, None, "rollup", ())
                    self._rollups[key] = (read.energy, read.transport)
                    self.rollup_reads += 1
                kept[key] = self._rollups[key]
                energy += kept[key][0]
                transport += kept[key][1]
            more_energy, more_transport = await self.tally.read(window, covered, now_ms)
            energy += more_energy
            transport += more_transport
            totals.append(summarise(energy, transport, (), self._factors).total_kgco2e)
        self._rollups = kept  # the current windows' parts only: two entries at most
        self.tally.forget_unread()
        today, yesterday = totals
        change = (today - yesterday) / yesterday * 100 if yesterday > 0 else None
        return {"today_kgco2e": today, "yesterday_same_time_kgco2e": yesterday,
                "change_pct": change,
                "today_start": rfc3339_ms(windows[0].start_ns // NS_PER_MS)}
