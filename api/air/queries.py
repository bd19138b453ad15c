"""DAQI from InfluxDB: per-monitor hourly and 15-minute aggregates, pooled by :mod:`api.air.daqi`.

Two statements per request, whatever the number of sites or hours: one reads count and
mean of NO2, O3, PM2.5 and PM10 per hour, the other count and mean of SO2 per 15 minutes,
both ``GROUP BY time(...), site, sensor``, so that each monitor's data capture is judged
against its own expected interval (:mod:`api.air.intervals`; a second request finds the
median gaps of monitors the registry does not know). Running windows (8 h, 24 h) are
then assembled in Python from the hourly units.

Buckets are aligned so that the moment asked for is a bucket boundary: for one moment
``at``, ``GROUP BY time(1h, <at mod 1h>)``; for history and daily indices, clock hours
(UTC, which are London hours). Site ids and time bounds travel as bound parameters; the
only numbers formatted into the text are bucket sizes and offsets computed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from api.activity.rollups import read_coverage
from api.air.daqi import (
    FIELDS,
    POLLUTANTS,
    WINDOWS,
    Aggregate,
    PollutantBuckets,
    SiteIndex,
    pool,
    site_index,
)
from api.air.intervals import ExpectedInterval, expected_intervals, per_pollutant
from api.air.rollup import tier_statement
from api.clock import HOUR_MS, ceil_hour, floor_hour
from api.influx import InfluxStore, QueryParam, Series
from sensors.registry import Registry
from sensors.storage import Measurement
from sensors.timestamps import NS_PER_MS

MAX_HISTORY_MS = 31 * 24 * HOUR_MS

# Pollutants grouped by the bucket size their window is built from.
_BY_BUCKET: dict[int, tuple[str, ...]] = {
    bucket_ms: tuple(p for p in POLLUTANTS if WINDOWS[p].bucket_ms == bucket_ms)
    for bucket_ms in sorted({window.bucket_ms for window in WINDOWS.values()})
}
_LONGEST_MS = {
    bucket_ms: max(WINDOWS[p].length_ms for p in pollutants)
    for bucket_ms, pollutants in _BY_BUCKET.items()
}

# site -> pollutant -> sensor -> bucket start (epoch ms) -> aggregate
_Raw = dict[str, dict[str, dict[str, dict[int, Aggregate]]]]


@dataclass(frozen=True, slots=True)
class SiteData:
    """One site's pooled units per pollutant, and the intervals its capture was judged by."""

    pollutants: dict[str, PollutantBuckets] = field(default_factory=dict)
    intervals: tuple[ExpectedInterval, ...] = ()


def daqi_statement(bucket_ms: int, offset_ms: int, site_params: Sequence[str],
                   start_param: str, end_param: str = "end") -> str:
    """Count and mean per bucket, site and sensor of the pollutants built from ``bucket_ms``.

    Args:
        bucket_ms: the bucket size (a key of the pollutant grouping: 1 hour or 15 minutes).
        offset_ms: where buckets start, modulo ``bucket_ms``.
        site_params: names of the bound parameters holding the site ids.
        start_param: name of the bound parameter holding the lower time bound (ns).
        end_param: the same for the upper bound (exclusive).
    """
    fields = ", ".join(f"count({FIELDS[p]}) AS n_{p}, mean({FIELDS[p]}) AS m_{p}"
                       for p in _BY_BUCKET[bucket_ms])
    sites = " OR ".join(f"site = ${name}" for name in site_params)
    # Built from this module's constants and integers only; user values are parameters.
    return (f"SELECT {fields} FROM {Measurement.AIR_QUALITY} "  # noqa: S608
            f"WHERE ({sites}) AND time >= ${start_param} AND time < ${end_param} "
            f"GROUP BY time({int(bucket_ms)}ms, {int(offset_ms) % bucket_ms}ms), site, sensor "
            "fill(none)")


def _collect(series: list[Series], bucket_ms: int, into: _Raw) -> None:
    for one in series:
        site, sensor = one.tags.get("site", ""), one.tags.get("sensor", "")
        for row in one.rows():
            start_ms = int(row["time"])
            for pollutant in _BY_BUCKET[bucket_ms]:
                count, mean = row.get(f"n_{pollutant}"), row.get(f"m_{pollutant}")
                if mean is None and count and row.get(f"s_{pollutant}") is not None:
                    mean = float(row[f"s_{pollutant}"]) / int(count)  # an air-quality tier
                # A bucket with other pollutants but not this one answers null for it.
                if count and mean is not None:
                    into[site][pollutant][sensor][start_ms] = Aggregate(int(count), float(mean))


@dataclass(frozen=True, slots=True)
class SiteReads:
    """Each site's pooled units, and the hours read from the air-quality rollups (None:
    everything raw)."""

    sites: dict[str, SiteData]
    rollup_span: tuple[int, int] | None = None


ROLLUP_FIRST_MS = 2 * 24 * HOUR_MS
"""Reads longer than this take the hours the air-quality rollups cover from them, as
``source=auto`` does for activity (docs/methodology.md, "Rollups"): InfluxDB 3 Core
refuses raw queries past about 72 hours (docs/storage.md)."""


async def _rollup_hours(store: InfluxStore, first_ms: int, last_ms: int,
                        rollups: bool) -> tuple[int, int] | None:
    """The whole hours of [first_ms, last_ms) to read from the air-quality tiers."""
    if not rollups or last_ms - first_ms <= ROLLUP_FIRST_MS:
        return None
    coverage = await read_coverage(store)
    air = coverage.air() if coverage else None
    if air is None:
        return None
    lo, hi = max(ceil_hour(first_ms), air[0]), min(floor_hour(last_ms), air[1])
    return (lo, hi) if lo < hi else None


async def _read_units(store: InfluxStore, site_params: Sequence[str],
                      params: dict[str, QueryParam], first_at_ms: int, last_at_ms: int,
                      rollups: bool) -> tuple[_Raw, int, tuple[int, int] | None]:
    """Count and mean per unit, site and sensor; the earliest moment read; the rollup span.

    Hour-aligned reads longer than :data:`ROLLUP_FIRST_MS` take the covered hours from the
    air-quality tiers and only the edges raw (the same units: a tier's ``s / n`` is what
    ``mean()`` answers, to float rounding).
    """
    raw: _Raw = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    order = list(_BY_BUCKET)
    firsts = {unit: max(0, first_at_ms - _LONGEST_MS[unit]) for unit in order}
    earliest = min([last_at_ms, *firsts.values()])
    aligned = first_at_ms % HOUR_MS == 0
    span = await _rollup_hours(store, earliest, last_at_ms, rollups and aligned)
    raw_statements: list[tuple[int, str]] = []
    tier_statements: list[tuple[int, str]] = []
    for unit in order:
        # Never below 0: a bound before 1970 gains nothing and InfluxDB would scan from it.
        parts = [(firsts[unit], last_at_ms)]
        lo, hi = (max(span[0], firsts[unit]), span[1]) if span else (0, 0)
        if lo < hi:
            parts = [(firsts[unit], lo), (hi, last_at_ms)]
            params[f"r{unit}s"], params[f"r{unit}e"] = lo * NS_PER_MS, hi * NS_PER_MS
            tier_statements.append(
                (unit, tier_statement(unit, site_params, f"r{unit}s", f"r{unit}e")))
        for index, (start, end) in enumerate(part for part in parts if part[0] < part[1]):
            names = (f"b{unit}s{index}", f"b{unit}e{index}")
            params[names[0]], params[names[1]] = start * NS_PER_MS, end * NS_PER_MS
            raw_statements.append(
                (unit, daqi_statement(unit, first_at_ms, site_params, *names)))
    for statements, own in ((raw_statements, False), (tier_statements, True)):
        if statements:
            answers = await store.query([text for _, text in statements], params, own=own)
            for (unit, _), series in zip(statements, answers, strict=True):
                _collect(series, unit, raw)
    return raw, earliest, span


async def fetch_site_data(store: InfluxStore, sites: Sequence[str], first_at_ms: int,
                          last_at_ms: int, registry: Registry | None = None, *,
                          rollups: bool = True) -> SiteReads:
    """Pooled units covering every window ending from ``first_at_ms`` to ``last_at_ms``.

    Both moments must be boundaries of every bucket size, modulo a common offset: one
    moment (first == last), or whole hours. ``rollups``: whether covered hours may come
    from the air-quality tiers (False: everything raw, for checks).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    params: dict[str, QueryParam] = {f"s{i}": site for i, site in enumerate(sites)}
    site_params = list(params)
    raw, earliest, span = await _read_units(store, site_params, params, first_at_ms,
                                            last_at_ms, rollups)
    seen = {sensor for per_pollutant_data in raw.values() for sensors in
            per_pollutant_data.values() for sensor in sensors}
    intervals = await expected_intervals(store, registry, seen, earliest, last_at_ms, span)
    out: dict[str, SiteData] = {}
    for site, pollutants in raw.items():
        pooled = {p: pool(sensors, per_pollutant(intervals, p), WINDOWS[p].bucket_ms)
                  for p, sensors in pollutants.items()}
        used = {sensor for sensors in pollutants.values() for sensor in sensors}
        out[site] = SiteData(pooled, tuple(one for (sensor, p), one in sorted(intervals.items())
                                           if sensor in used and p in pollutants))
    return SiteReads(out, span)


async def fetch_sites_daqi(store: InfluxStore, sites: Sequence[str], at_ms: int,
                           registry: Registry | None = None) -> list[SiteIndex]:
    """The DAQI of several sites at one moment.

    Every monitor at a site (all ``air_quality`` points tagged with it) is pooled, each
    where it has 75 % data capture against its expected interval (the registry's, else the
    median gap of its readings).

    Args:
        store: the InfluxDB client.
        sites: site ids (any strings: they are bound parameters); an unknown site simply
            has no readings.
        at_ms: the moment (epoch ms); each pollutant's window ends there.
        registry: where registered monitors' intervals come from (None: from data only).

    Returns:
        One :class:`SiteIndex` per entry of ``sites``, in the same order.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    unique = list(dict.fromkeys(sites))
    if not unique:
        return []
    found = (await fetch_site_data(store, unique, at_ms, at_ms, registry)).sites
    return [site_index(site, at_ms, found.get(site, SiteData()).pollutants) for site in sites]


def history_hours(start_ms: int, end_ms: int) -> range:
    """The whole UTC hours ``h`` with ``start_ms <= h < end_ms``."""
    first = -(-start_ms // HOUR_MS) * HOUR_MS
    return range(first, end_ms, HOUR_MS)


async def fetch_daqi_history(store: InfluxStore, sites: Sequence[str], start_ms: int,
                             end_ms: int, registry: Registry | None = None, *,
                             rollups: bool = True
                             ) -> tuple[dict[str, list[SiteIndex]], tuple[int, int] | None]:
    """The DAQI of each site at every whole UTC hour in ``[start_ms, end_ms)``, and the
    hours read from the air-quality rollups (None: none; ``rollups``: as for
    :func:`fetch_site_data`).

    Each entry is what :func:`fetch_sites_daqi` answers for that hour; the reads reach
    back 24 hours before the first hour so that its 24-hour windows are complete.

    Raises:
        ValueError: ``end_ms`` not after ``start_ms``, or more than 31 days after it.
        StoreError: InfluxDB could not answer.
    """
    if end_ms <= start_ms:
        raise ValueError("end must be after start")
    if end_ms - start_ms > MAX_HISTORY_MS:
        raise ValueError("the history may span at most 31 days")
    hours = history_hours(start_ms, end_ms)
    if not hours or not sites:
        return {site: [] for site in sites}, None
    found = await fetch_site_data(store, list(dict.fromkeys(sites)), hours[0], hours[-1],
                                  registry, rollups=rollups)
    return {site: [site_index(site, at_ms, found.sites.get(site, SiteData()).pollutants)
                   for at_ms in hours] for site in sites}, found.rollup_span
