"""Air-quality rollups: count and sum of each DAQI pollutant per sensor and DAQI unit.

``air_quality_hourly`` holds NO2, O3, PM2.5 and PM10 per UTC hour and
``air_quality_quarter_hourly`` SO2 per 15 minutes (tags ``site``, ``sensor``; fields
``n_<pollutant>`` and ``s_<pollutant>``), the units the DAQI is built from
(:mod:`api.air.daqi`). A unit's mean is ``s / n``, what the raw query's ``mean()`` gives,
and a run of units sums, so long windows (the DAQI history and daily index, the live
trend's NO2 line) read them instead of raw readings, which InfluxDB 3 Core refuses past
about 72 hours (docs/storage.md). Written by :mod:`api.activity.rollup_job` beside the
activity tiers; read by :mod:`api.air.queries` and :mod:`api.live.series`.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.air.daqi import FIELDS, WINDOWS
from api.influx import InfluxStore, Series
from sensors.lineprotocol import point_line
from sensors.storage import (
    AIR_HOURLY_POLLUTANTS,
    AIR_QUARTER_HOURLY_POLLUTANTS,
    Measurement,
    air_count_field,
    air_sum_field,
)
from sensors.timestamps import NS_PER_MS

TIERS: dict[int, tuple[Measurement, tuple[str, ...]]] = {
    3_600_000: (Measurement.AIR_HOURLY, AIR_HOURLY_POLLUTANTS),
    900_000: (Measurement.AIR_QUARTER_HOURLY, AIR_QUARTER_HOURLY_POLLUTANTS),
}
"""Unit (ms) -> the tier holding the pollutants built from it."""
_CHUNK_MS = 6 * 3_600_000
"""Hours read per request: one pass of the scheduled job (its look-back of 6 hours)."""

assert all(WINDOWS[p].bucket_ms == unit for unit, (_, pollutants) in TIERS.items()
           for p in pollutants), "each tier's unit is its pollutants' DAQI unit"


def _source_statement(unit_ms: int, pollutants: Sequence[str]) -> str:
    fields = ", ".join(f"count({FIELDS[p]}) AS {air_count_field(p)}, "
                       f"sum({FIELDS[p]}) AS {air_sum_field(p)}" for p in pollutants)
    # Built from this module's constants only; bounds are parameters.
    return (f"SELECT {fields} FROM {Measurement.AIR_QUALITY} "  # noqa: S608
            f"WHERE time >= $start AND time < $end "
            f"GROUP BY time({unit_ms}ms), site, sensor fill(none)")


def _lines(measurement: Measurement, pollutants: Sequence[str],
           series_list: Sequence[Series]) -> list[str]:
    lines = []
    for one in series_list:
        tags = {"site": one.tags.get("site"), "sensor": one.tags.get("sensor")}
        for row in one.rows():
            fields: dict[str, int | float | None] = {}
            for pollutant in pollutants:
                count = int(row.get(air_count_field(pollutant)) or 0)
                if count:  # a unit with other pollutants only answers 0 for this one
                    fields[air_count_field(pollutant)] = count
                    fields[air_sum_field(pollutant)] = float(row[air_sum_field(pollutant)])
            line = point_line(measurement, tags, fields, int(row["time"]))
            if line is not None:
                lines.append(line)
    return lines


async def rollup_air(store: InfluxStore, start_ms: int, end_ms: int,
                     timeout_s: float) -> int:
    """Recompute the air-quality tiers for [start_ms, end_ms) (hour-aligned); lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    units = list(TIERS)
    written = 0
    for chunk in range(start_ms, end_ms, _CHUNK_MS):
        bounds = {"start": chunk * NS_PER_MS, "end": min(chunk + _CHUNK_MS, end_ms) * NS_PER_MS}
        answers = await store.query([_source_statement(unit, TIERS[unit][1]) for unit in units],
                                    bounds, timeout_s=timeout_s)
        lines: list[str] = []
        for unit, series_list in zip(units, answers, strict=True):
            lines += _lines(*TIERS[unit], series_list)
        await store.write(lines)
        written += len(lines)
    return written


def tier_statement(unit_ms: int, site_params: Sequence[str], start_param: str,
                   end_param: str) -> str:
    """Count and sum per unit, site and sensor from the tier of ``unit_ms``, in the same
    shape as the raw DAQI statement (``n_<p>``; ``s_<p>`` where it has ``m_<p>``)."""
    measurement, pollutants = TIERS[unit_ms]
    fields = ", ".join(f"{air_count_field(p)}, {air_sum_field(p)}" for p in pollutants)
    sites = " OR ".join(f"site = ${name}" for name in site_params)
    return (f"SELECT {fields} FROM {measurement} "  # noqa: S608
            f"WHERE ({sites}) AND time >= ${start_param} AND time < ${end_param} "
            "GROUP BY site, sensor")
