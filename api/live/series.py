"""Time series per domain for the dashboard's trend charts (docs/live.md, ``series``).

The stream sends the last hour (1-minute steps) and the last 24 hours (15-minute steps);
``GET /api/v1/live/series`` answers any other range (the dashboard's "7 days" and custom
ranges) in the same shape, with a step chosen so that the chart gets at most
:data:`MAX_BUCKETS` points. Buckets are whole UTC-aligned steps; simulated sensors are
left out (api/activity/scope.py).
"""

from __future__ import annotations

from typing import Any, Literal

from api.influx import InfluxStore
from api.live.series_rollups import Sums, by_time, rollup_steps, rollup_sums
from api.live.sse import rfc3339_ms
from api.live.state import (
    ACTIVE,
    AIR_QUALITY,
    CARRIER_KEYS,
    COUNTS,
    ENERGY,
    TRANSPORT,
    VEHICLES,
    scaled,
    scoped_bounds,
    scoped_where,
    total,
)
from sensors.readings import Carrier
from sensors.storage import ENERGY_KWH

Window = Literal["1h", "24h"]

SERIES: dict[Window, tuple[int, int]] = {"1h": (3600, 60), "24h": (86_400, 900)}
"""Window -> (length, step) in seconds."""
STEPS_S = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86_400)
"""Steps a range may get, shortest first."""
ROLLUP_RANGE_S = 2 * 86_400
"""A range longer than this gets steps of an hour at least, so that its whole steps inside
the rollups' coverage are read from them (:mod:`api.live.series_rollups`)."""
MAX_BUCKETS = 400
MAX_RANGE_S = 92 * 86_400
RANGE_CHUNK_MS = 48 * 3_600_000
"""A range is read in requests of at most this span: InfluxDB 3 Core refuses a query that
would read more than its file limit (about 72 hours of data at its defaults:
docs/storage.md). On influxd 1.6 at 30,000 sensors with 1.5 hours of data the parts cost
1.5-2x one query (7 days 1.19 -> 1.73 s, 30 days 0.93 -> 1.83 s): per-request overhead on
ranges that are nearly empty; dense ranges cost what their points cost either way."""


def series_bounds(window: Window, now_ms: int) -> tuple[int, int, int]:
    """``(start_ms, end_ms, step_ms)``: whole steps only, the last one ending before now.

    The bucket in progress is left out: half a minute of readings would draw as a dip.
    """
    length_s, step_s = SERIES[window]
    end_ms = now_ms // (step_s * 1000) * step_s * 1000
    return end_ms - length_s * 1000, end_ms, step_s * 1000


def range_bounds(start_ms: int, end_ms: int) -> tuple[int, int, int]:
    """The shortest step of :data:`STEPS_S` giving at most :data:`MAX_BUCKETS` buckets (an
    hour at least past :data:`ROLLUP_RANGE_S`), and the range widened to whole steps:
    ``(start_ms, end_ms, step_ms)``."""
    span_s = max(1, (end_ms - start_ms) // 1000)
    shortest = 3600 if span_s > ROLLUP_RANGE_S else 0
    step_s = next((step for step in STEPS_S if span_s / step <= MAX_BUCKETS
                   and step >= shortest), STEPS_S[-1])
    step_ms = step_s * 1000
    return start_ms // step_ms * step_ms, -(-end_ms // step_ms) * step_ms, step_ms


async def fetch_buckets(store: InfluxStore, start_ms: int, end_ms: int, step_ms: int
                        ) -> dict[str, Any]:
    """Energy (kW), traffic (per hour) and mean NO2 per step over [start, end).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    group = f"GROUP BY time({step_ms // 1000}s)"
    energy, transport, no2 = await store.query([
        f"SELECT sum({ENERGY_KWH}) AS kwh FROM {ENERGY} WHERE {scoped_where()} "  # noqa: S608
        f"{group}, carrier fill(null)",
        f"SELECT {COUNTS} FROM {TRANSPORT} WHERE {scoped_where()} {group} fill(null)",  # noqa: S608
        f"SELECT mean(no2_ugm3) AS no2 FROM {AIR_QUALITY} WHERE {scoped_where()} "  # noqa: S608
        f"{group} fill(null)",
    ], scoped_bounds(start_ms, end_ms))
    kwh = {carrier: by_time([s for s in energy if s.tags.get("carrier") == carrier], "kwh")
           for carrier in CARRIER_KEYS}
    counts = {name: by_time(transport, name) for name in VEHICLES + ACTIVE}
    return bucket_rows(start_ms, end_ms, step_ms, Sums(kwh, counts, by_time(no2, "no2")))


def bucket_rows(start_ms: int, end_ms: int, step_ms: int, sums: Sums) -> dict[str, Any]:
    """The payload's rows for [start, end): kW, vehicles per hour, NO2 (null: no data)."""
    kwh, counts = sums.kwh, sums.counts
    per_hour = 3_600_000 / step_ms
    energy_rows, traffic_rows, no2_rows = [], [], []
    for t in range(start_ms, end_ms, step_ms):
        electric = total(kwh[c.value].get(t) for c in (Carrier.ELECTRICITY, Carrier.EV_CHARGING))
        energy_rows.append([t, scaled(electric, per_hour),
                            scaled(total([kwh[Carrier.GAS.value].get(t)]), per_hour),
                            scaled(total([kwh[Carrier.SOLAR_PV.value].get(t)]), per_hour)])
        traffic_rows.append([t, scaled(total(counts[n].get(t) for n in VEHICLES), per_hour),
                             scaled(total(counts[n].get(t) for n in ACTIVE), per_hour)])
        no2_rows.append([t, sums.no2.get(t)])
    return {"step_s": step_ms // 1000, "start": rfc3339_ms(start_ms), "end": rfc3339_ms(end_ms),
            "energy_kw": energy_rows, "traffic_vph": traffic_rows, "no2_ugm3": no2_rows}


async def fetch_range(store: InfluxStore, start_ms: int, end_ms: int,
                      chunk_ms: int = RANGE_CHUNK_MS, *, rollups: bool = True
                      ) -> dict[str, Any]:
    """The same shape for any range (``window: "range"``), in whole steps covering it.

    Whole steps inside the rollups' coverage (steps of an hour or more) come from them in
    one request; the rest is read raw in requests of at most ``chunk_ms`` (whole steps,
    one step at least), oldest first. ``rollup_start`` / ``rollup_end`` say which steps
    came from rollups (both null: none; ``rollups`` False: raw only, for checks).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    start_ms, end_ms, step_ms = range_bounds(start_ms, end_ms)
    span = await rollup_steps(store, start_ms, end_ms, step_ms) if rollups else None
    pieces = [(start_ms, end_ms)] if span is None else [(start_ms, span[0]), (span[1], end_ms)]
    per_request = max(step_ms, chunk_ms // step_ms * step_ms)
    # Each bucket lies in one request: the parts put end to end are the one query's answer.
    parts = [await fetch_buckets(store, lo, min(lo + per_request, hi), step_ms)
             for first, hi in pieces for lo in range(first, hi, per_request)]
    if span is not None:
        parts.append(bucket_rows(*span, step_ms, await rollup_sums(store, *span, step_ms)))
    body = {**bucket_rows(start_ms, start_ms, step_ms, Sums({}, {}, {})),
            "end": rfc3339_ms(end_ms)}
    for key in ("energy_kw", "traffic_vph", "no2_ugm3"):
        body[key] = sorted((row for part in parts for row in part[key]), key=lambda row: row[0])
    return {"window": "range", **body,
            "rollup_start": rfc3339_ms(span[0]) if span else None,
            "rollup_end": rfc3339_ms(span[1]) if span else None}
