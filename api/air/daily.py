"""DEFRA's daily index: one DAQI per site and London calendar day, for historical data.

For each day (midnight to midnight, Europe/London: 23, 24 or 25 hours): PM2.5 and PM10
are the mean of the day's valid hourly means (a fixed-day mean, as DEFRA uses for
historical data, not the running 24-hour mean of the hourly history); O3 is the highest
of the running 8-hour means that end in the day (ending at 01:00 ... 24:00, each
assigned to the day it ends); NO2 the highest valid hourly mean; SO2 the highest valid
15-minute mean. Each statistic needs 75 % of its units valid (18 of 24 hours; 18 of 23
and 19 of 25 on clock-change days; 72 of 96 quarter hours). docs/methodology.md, "The
daily index", gives the sources.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from api.air.daqi import (
    EMPTY,
    POLLUTANTS,
    WINDOWS,
    PollutantBuckets,
    band_for_index,
    index_for,
    needed_units,
    pollutant_index,
)
from api.air.queries import SiteData, fetch_site_data
from api.clock import HOUR_MS, LONDON, days_touching
from api.influx import InfluxStore
from sensors.registry import Registry

MAX_DAILY_DAYS = 366
_CHUNK_DAYS = 31  # one query per month of days: a 15-minute series stays a few thousand rows

STATISTICS = {
    "pm25": "mean of the day's hourly means",
    "pm10": "mean of the day's hourly means",
    "no2": "highest hourly mean",
    "so2": "highest 15-minute mean",
    "o3": "highest running 8-hour mean ending in the day",
}


@dataclass(frozen=True, slots=True)
class DailyPollutant:
    """One pollutant's daily statistic and its index (None without 75 % of its units)."""

    pollutant: str
    index: int | None
    band: str | None
    value_ugm3: float | None
    statistic: str
    units: int
    valid_units: int
    needed_units: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DailyIndex:
    """A site's index for one London day."""

    site: str
    date: str
    start_ms: int
    end_ms: int
    overall_index: int | None
    overall_band: str | None
    pollutants: dict[str, DailyPollutant]

    @property
    def driven_by(self) -> tuple[str, ...]:
        """The pollutants whose index equals the overall index."""
        if self.overall_index is None:
            return ()
        return tuple(p for p, one in self.pollutants.items() if one.index == self.overall_index)


def _statistic(pollutant: str, start_ms: int, end_ms: int,
               data: PollutantBuckets) -> tuple[list[float], int]:
    """The valid unit values of the day and how many units the day has."""
    if pollutant == "o3":
        ends = range(start_ms + HOUR_MS, end_ms + 1, HOUR_MS)
        means = [one.mean_ugm3 for one in (pollutant_index("o3", at, data) for at in ends)]
        return [mean for mean in means if mean is not None], len(ends)
    step = WINDOWS[pollutant].bucket_ms
    starts = range(start_ms, end_ms, step)
    return [data.valid[s].mean for s in starts if s in data.valid], len(starts)


def daily_pollutant(pollutant: str, start_ms: int, end_ms: int,
                    data: PollutantBuckets) -> DailyPollutant:
    """One pollutant's index for the day ``[start_ms, end_ms)``."""
    values, units = _statistic(pollutant, start_ms, end_ms, data)
    need = needed_units(units)
    statistic = STATISTICS[pollutant]
    if len(values) < need:
        reason = f"insufficient data: {len(values)} of {units} units valid, {need} needed"
        return DailyPollutant(pollutant, None, None, None, statistic, units, len(values),
                              need, reason)
    fixed_day_mean = pollutant in ("pm25", "pm10")
    value = math.fsum(values) / len(values) if fixed_day_mean else max(values)
    index = index_for(pollutant, value)
    return DailyPollutant(pollutant, index, band_for_index(index), value, statistic, units,
                          len(values), need)


def daily_index(site: str, start_ms: int, end_ms: int,
                data: Mapping[str, PollutantBuckets]) -> DailyIndex:
    """Every pollutant's daily index at a site, and the overall (highest) one."""
    pollutants = {p: daily_pollutant(p, start_ms, end_ms, data.get(p, EMPTY))
                  for p in POLLUTANTS}
    known = [one.index for one in pollutants.values() if one.index is not None]
    index = max(known) if known else None
    band = None if index is None else band_for_index(index)
    date = datetime.fromtimestamp(start_ms // 1000, LONDON).date().isoformat()
    return DailyIndex(site, date, start_ms, end_ms, index, band, pollutants)


async def fetch_daily(store: InfluxStore, sites: Sequence[str], start_ms: int, end_ms: int,
                      registry: Registry | None = None, *, rollups: bool = True
                      ) -> tuple[list[DailyIndex], tuple[int, int] | None]:
    """Daily indices of each site for every London day ``[start_ms, end_ms)`` touches,
    ordered by day, then site; and the span of the hours read from the air-quality
    rollups (None: none; ``rollups``: as for :func:`~api.air.queries.fetch_site_data`).

    Raises:
        ValueError: more than :data:`MAX_DAILY_DAYS` days.
        StoreError: InfluxDB could not answer.
    """
    days = days_touching(start_ms, end_ms)
    if len(days) > MAX_DAILY_DAYS:
        raise ValueError(f"at most {MAX_DAILY_DAYS} days")
    out: list[DailyIndex] = []
    spans: list[tuple[int, int]] = []
    unique = list(dict.fromkeys(sites))
    for first in range(0, len(days) if unique else 0, _CHUNK_DAYS):
        chunk = days[first:first + _CHUNK_DAYS]
        # Hour boundaries: every London midnight is a whole UTC hour. The reads reach back
        # a day before the chunk, which covers the first O3 window (from 17:00 the day before).
        found = await fetch_site_data(store, unique, chunk[0][0], chunk[-1][1], registry,
                                      rollups=rollups)
        spans += [found.rollup_span] if found.rollup_span else []
        for day_start, day_end in chunk:
            out.extend(daily_index(site, day_start, day_end,
                                   found.sites.get(site, SiteData()).pollutants)
                       for site in unique)
    # Chunks follow each other and coverage is contiguous, so the spans join up.
    span = (min(lo for lo, _ in spans), max(hi for _, hi in spans)) if spans else None
    return out, span

