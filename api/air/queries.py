"""DAQI from InfluxDB: per-site hourly and 15-minute aggregates, mapped to :mod:`api.air.daqi`.

Two statements per request, whatever the number of sites or hours: one reads count and
mean of NO2, O3, PM2.5 and PM10 per hour, the other count and mean of SO2 per 15 minutes,
both ``GROUP BY time(...), site``. Running windows (8 h, 24 h) are then assembled in
Python from the hourly buckets, so a month of history costs one pass over about 750
hourly rows per site instead of a query per hour.

Buckets are aligned so that the moment asked for is a bucket boundary: for one moment
``at``, ``GROUP BY time(1h, <at mod 1h>)``; for history, clock hours (UTC). Site ids and
time bounds travel as bound parameters; the only numbers formatted into the text are
bucket sizes and offsets computed here from integers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from api.air.daqi import (
    FIELDS,
    POLLUTANTS,
    WINDOWS,
    Aggregate,
    SiteIndex,
    site_index,
)
from api.clock import HOUR_MS
from api.influx import InfluxStore, QueryParam, Series
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

# site -> pollutant -> bucket start (epoch ms) -> aggregate
_SiteBuckets = dict[str, dict[str, dict[int, Aggregate]]]


def daqi_statement(bucket_ms: int, offset_ms: int, site_params: Sequence[str],
                   start_param: str) -> str:
    """Count and mean per bucket and site of the pollutants built from ``bucket_ms`` buckets.

    Args:
        bucket_ms: the bucket size (a key of the pollutant grouping: 1 hour or 15 minutes).
        offset_ms: where buckets start, modulo ``bucket_ms``.
        site_params: names of the bound parameters holding the site ids.
        start_param: name of the bound parameter holding the lower time bound (ns).
    """
    fields = ", ".join(f"count({FIELDS[p]}) AS n_{p}, mean({FIELDS[p]}) AS m_{p}"
                       for p in _BY_BUCKET[bucket_ms])
    sites = " OR ".join(f"site = ${name}" for name in site_params)
    # Built from this module's constants and integers only; user values are parameters.
    return (f"SELECT {fields} FROM {Measurement.AIR_QUALITY} "  # noqa: S608
            f"WHERE ({sites}) AND time >= ${start_param} AND time < $end "
            f"GROUP BY time({int(bucket_ms)}ms, {int(offset_ms) % bucket_ms}ms), site "
            "fill(none)")


def _collect(series: list[Series], bucket_ms: int, into: _SiteBuckets) -> None:
    for one in series:
        site = one.tags.get("site", "")
        for row in one.rows():
            start_ms = int(row["time"])
            for pollutant in _BY_BUCKET[bucket_ms]:
                count, mean = row.get(f"n_{pollutant}"), row.get(f"m_{pollutant}")
                # A bucket with other pollutants but not this one answers null for it.
                if count and mean is not None:
                    into[site][pollutant][start_ms] = Aggregate(int(count), float(mean))


async def _fetch_buckets(store: InfluxStore, sites: Sequence[str], first_at_ms: int,
                         last_at_ms: int) -> _SiteBuckets:
    """Aggregates covering every window ending from ``first_at_ms`` to ``last_at_ms``.

    Both moments must be boundaries of every bucket size, modulo a common offset: one
    moment (first == last), or whole hours.
    """
    params: dict[str, QueryParam] = {f"s{i}": site for i, site in enumerate(sites)}
    site_params = list(params)
    params["end"] = last_at_ms * NS_PER_MS
    statements = []
    order = list(_BY_BUCKET)
    for bucket_ms in order:
        name = f"start{bucket_ms}"
        # Never below 0: a bound before 1970 gains nothing and InfluxDB would scan from it.
        params[name] = max(0, first_at_ms - _LONGEST_MS[bucket_ms]) * NS_PER_MS
        statements.append(daqi_statement(bucket_ms, first_at_ms, site_params, name))
    answers = await store.query(statements, params)
    found: _SiteBuckets = defaultdict(lambda: defaultdict(dict))
    for bucket_ms, series in zip(order, answers, strict=True):
        _collect(series, bucket_ms, found)
    return found


async def fetch_sites_daqi(store: InfluxStore, sites: Sequence[str],
                           at_ms: int) -> list[SiteIndex]:
    """The DAQI of several sites at one moment, in one request of two statements.

    Every monitor at a site (all ``air_quality`` points tagged with it) is pooled.

    Args:
        store: the InfluxDB client.
        sites: site ids (any strings: they are bound parameters); an unknown site simply
            has no readings.
        at_ms: the moment (epoch ms); each pollutant's window ends there.

    Returns:
        One :class:`SiteIndex` per entry of ``sites``, in the same order.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    unique = list(dict.fromkeys(sites))
    if not unique:
        return []
    found = await _fetch_buckets(store, unique, at_ms, at_ms)
    return [site_index(site, at_ms, found.get(site, {})) for site in sites]


async def fetch_site_daqi(store: InfluxStore, site: str, at_ms: int) -> SiteIndex:
    """The DAQI of one site at one moment (see :func:`fetch_sites_daqi`).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    return (await fetch_sites_daqi(store, [site], at_ms))[0]


def history_hours(start_ms: int, end_ms: int) -> range:
    """The whole UTC hours ``h`` with ``start_ms <= h < end_ms``."""
    first = -(-start_ms // HOUR_MS) * HOUR_MS
    return range(first, end_ms, HOUR_MS)


async def fetch_daqi_history(store: InfluxStore, site: str, start_ms: int,
                             end_ms: int) -> list[SiteIndex]:
    """The DAQI of one site at every whole UTC hour in ``[start_ms, end_ms)``.

    Each entry is what :func:`fetch_site_daqi` answers for that hour; the reads reach
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
    if not hours:
        return []
    found = (await _fetch_buckets(store, [site], hours[0], hours[-1])).get(site, {})
    return [site_index(site, at_ms, found) for at_ms in hours]
