"""Trend ranges from rollups: the whole steps of a long ``GET /api/v1/live/series`` range
that the rollups cover (docs/live.md, ``series``).

Energy and traffic come from ``activity_hourly`` (kWh per carrier; a class's count is
``count_<class>`` plus ``unattributed_<class>``), NO2 from ``air_quality_hourly`` (the sum
of ``s_no2`` over the sum of ``n_no2``: the mean of every reading in the step, as the raw
``mean()``). Both are summed by InfluxDB per step across sensors, so a 92-day range is a
few hundred rows, and InfluxDB 3 Core's file limit on raw queries (about 72 hours:
docs/storage.md) is never reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.activity.rollups import read_coverage
from api.activity.scope import sensor_filter
from api.clock import HOUR_MS
from api.influx import InfluxStore, QueryParam, Series
from api.live.state import ACTIVE, CARRIER_KEYS, VEHICLES
from sensors.storage import (
    ENERGY_KWH,
    Measurement,
    air_count_field,
    air_sum_field,
    count_field,
    unattributed_field,
)
from sensors.timestamps import NS_PER_MS


@dataclass(frozen=True, slots=True)
class Sums:
    """Per bucket start (epoch ms): kWh per carrier, counts per class, mean NO2."""

    kwh: dict[str, dict[int, Any]]
    counts: dict[str, dict[int, Any]]
    no2: dict[int, Any]


async def rollup_steps(store: InfluxStore, start_ms: int, end_ms: int, step_ms: int
                       ) -> tuple[int, int] | None:
    """The whole steps of [start, end) inside both the activity and the air-quality
    coverage, or None (steps under an hour, no coverage, none inside it).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    if step_ms % HOUR_MS:
        return None
    coverage = await read_coverage(store)
    air = coverage.air() if coverage else None
    if coverage is None or air is None:
        return None
    lo = max(start_ms, -(-max(coverage.since_ms, air[0]) // step_ms) * step_ms)
    hi = min(end_ms, coverage.until_ms // step_ms * step_ms)
    return (lo, hi) if lo < hi else None


def by_time(series: Sequence[Series], column: str) -> dict[int, Any]:
    """Bucket start (epoch ms) -> the column's value, where it has one."""
    return {int(row["time"]): row[column] for one in series for row in one.rows()
            if row.get(column) is not None}


async def rollup_sums(store: InfluxStore, start_ms: int, end_ms: int, step_ms: int) -> Sums:
    """Per step of [start, end) from the hourly tiers.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    scope, excluded = sensor_filter()
    where = f"time >= $start AND time < $end{scope}"
    group = f"GROUP BY time({step_ms // 1000}s)"
    classes = ", ".join(f"sum({count_field(name)}) AS {name}, "
                        f"sum({unattributed_field(name)}) AS u_{name}"
                        for name in VEHICLES + ACTIVE)
    params: dict[str, QueryParam] = {"start": start_ms * NS_PER_MS, "end": end_ms * NS_PER_MS,
                                     **excluded}
    hourly = Measurement.ACTIVITY_HOURLY
    # Built from the schema's constants only; bounds and sensor ids are parameters.
    energy, transport, no2 = await store.query([
        f"SELECT sum({ENERGY_KWH}) AS kwh FROM {hourly} "  # noqa: S608
        f"WHERE domain = 'energy' AND {where} {group}, carrier fill(none)",
        f"SELECT {classes} FROM {hourly} "  # noqa: S608
        f"WHERE domain = 'transport' AND {where} {group} fill(none)",
        f"SELECT sum({air_sum_field('no2')}) AS s, sum({air_count_field('no2')}) AS n "  # noqa: S608
        f"FROM {Measurement.AIR_HOURLY} WHERE {where} {group} fill(none)",
    ], params, own=True)
    kwh = {carrier: by_time([s for s in energy if s.tags.get("carrier") == carrier], "kwh")
           for carrier in CARRIER_KEYS}
    counts: dict[str, dict[int, Any]] = {}
    for name in VEHICLES + ACTIVE:
        attributed, unattributed = by_time(transport, name), by_time(transport, f"u_{name}")
        counts[name] = {t: attributed.get(t, 0) + unattributed.get(t, 0)
                        for t in attributed.keys() | unattributed.keys()}
    means = {int(row["time"]): float(row["s"]) / int(row["n"])
             for one in no2 for row in one.rows() if row.get("n")}
    return Sums(kwh, counts, means)
