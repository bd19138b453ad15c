"""Activity from the raw readings: InfluxQL text and result mapping.

Measurement, field and tag names come only from :mod:`sensors.storage`; user values
(time bounds, sensor ids) are bound parameters. Every query is bounded in time.

Vehicle-km is ``count x link_km`` per reading. A subquery computes that exactly but
costs about 0.7 s per sensor-month on InfluxDB 1.6.7, so the common case takes a fast
path: when ``link_km`` is the same for every reading of a sensor in a bucket (its min
equals its max), vehicle-km is the summed count times that length. Only groups whose
link length changed fall back to the subquery.

Activity is per site and sensor, or summed by InfluxDB over the sites and sensors the
caller does not group by (``group_by``, as for rollups): at 30,000 sensors ``GROUP BY
sensor`` answers one series per sensor, which is most of a read's cost. Readings with a
link length are still read per sensor (vehicle-km needs each sensor's length) and summed
here.

Every activity carries its Europe/London calendar year (factor sets are per year): a
bucketed query takes the year of each bucket's start (hour buckets never span New Year,
as UK offsets are whole hours); an unbucketed one is cut at each New Year in the window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.scope import sensor_filter
from api.clock import TimeWindow, london_year, split_years
from api.influx import QUERY_TIMEOUT_S, InfluxStore, QueryParam, Series
from sensors.readings import Carrier
from sensors.storage import (
    ENERGY_KWH,
    INTERVAL_S,
    LINK_KM,
    VEHICLE_CLASSES,
    Measurement,
    count_field,
)
from sensors.timestamps import NS_PER_MS

ENERGY, TRANSPORT = Measurement.ENERGY, Measurement.TRANSPORT
_WINDOW = "time >= $start AND time < $end"
_CLASSES = VEHICLE_CLASSES
_SUM_COUNTS = ", ".join(f"sum({count_field(vc)}) AS n_{vc.value}" for vc in _CLASSES)
_VKM_INNER = ", ".join(f"{count_field(vc)} * {LINK_KM} AS vkm_{vc.value}" for vc in _CLASSES)
_VKM_OUTER = ", ".join(f"sum(vkm_{vc.value}) AS vkm_{vc.value}" for vc in _CLASSES)

_Key = tuple[int | None, str, str]  # bucket, site, sensor
PLACES = ("site", "sensor")
"""The tags activity may be kept per (the rest of ``group_by`` is summed by the pricing)."""


def places(group_by: Sequence[str] | None) -> tuple[str, ...]:
    """The place tags of :data:`PLACES` that ``group_by`` names (None: all)."""
    return tuple(tag for tag in PLACES if group_by is None or tag in group_by)


def _group_by(interval_s: int | None, tags: Sequence[str]) -> str:
    if interval_s is None:
        return f"GROUP BY {', '.join(tags)}" if tags else ""
    # GROUP BY time() buckets align to the Unix epoch, i.e. to UTC; fill(none) omits
    # empty buckets instead of inventing zeros.
    return f"GROUP BY {', '.join((f'time({interval_s}s)', *tags))} fill(none)"


# The statements below are assembled from the constants of this module only (S608 is a
# false positive): user values travel as bound parameters ($start, $end, $s0...).


def energy_statement(interval_s: int | None, tags: Sequence[str] = PLACES) -> str:
    """kWh per carrier and ``tags`` (and bucket)."""
    return (f"SELECT sum({ENERGY_KWH}) AS energy_kwh, count({ENERGY_KWH}) AS readings "  # noqa: S608
            f"FROM {ENERGY} WHERE {_WINDOW}{sensor_filter()[0]} "
            + _group_by(interval_s, (*tags, "carrier")))


def transport_total_statement(interval_s: int | None, tags: Sequence[str] = PLACES) -> str:
    """Every count per class, with or without a link length, per ``tags``."""
    return (f"SELECT {_SUM_COUNTS}, count({INTERVAL_S}) AS readings "  # noqa: S608
            f"FROM {TRANSPORT} WHERE {_WINDOW}{sensor_filter()[0]} "
            + _group_by(interval_s, tags))


def transport_attributed_statement(interval_s: int | None) -> str:
    """Counts of readings with a link length, and that length's range, per sensor."""
    return (f"SELECT {_SUM_COUNTS}, min({LINK_KM}) AS link_min, "  # noqa: S608
            f"max({LINK_KM}) AS link_max FROM {TRANSPORT} WHERE {_WINDOW} AND {LINK_KM} > 0"
            f"{sensor_filter()[0]} " + _group_by(interval_s, PLACES))


def vehicle_km_statement(interval_s: int | None, sensor_params: Sequence[str]) -> str:
    """Exact vehicle-km per reading, summed, for the named sensors only (slow path)."""
    sensors = " OR ".join(f"sensor = ${name}" for name in sensor_params)
    return (f"SELECT {_VKM_OUTER} FROM (SELECT {_VKM_INNER} FROM {TRANSPORT} "  # noqa: S608
            f"WHERE {_WINDOW} AND {LINK_KM} > 0 AND ({sensors})) WHERE {_WINDOW} "
            + _group_by(interval_s, PLACES))


def _keyed_rows(series: list[Series], interval_s: int | None) -> dict[_Key, dict[str, Any]]:
    rows: dict[_Key, dict[str, Any]] = {}
    for one in series:
        for row in one.rows():
            bucket = int(row["time"]) if interval_s is not None else None
            rows[(bucket, one.tags.get("site", ""), one.tags.get("sensor", ""))] = row
    return rows


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


async def fetch_activity(
    store: InfluxStore, window: TimeWindow, interval_s: int | None,
    group_by: Sequence[str] | None = None, *, timeout_s: float = QUERY_TIMEOUT_S,
) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    """Energy and transport activity in the window per carrier or class, and per site and
    sensor as far as ``group_by`` names them (None: both; otherwise "" for the other).

    Args:
        store: the InfluxDB client.
        window: [start, end).
        interval_s: ``GROUP BY time()`` bucket in seconds (epoch-aligned, so also aligned
            to London clock hours when it divides an hour), or None for no time buckets.
        group_by: the keys the caller will group by (None: all).
        timeout_s: per request, for the callers that read long spans in the background.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    kept = places(group_by)
    parts = [window] if interval_s is not None else split_years(window)
    energy: list[EnergyActivity] = []
    transport: list[TransportActivity] = []
    for part in parts:
        more_energy, more_transport = await _fetch(store, part, interval_s, kept, timeout_s)
        energy.extend(more_energy)
        transport.extend(more_transport)
    return energy, transport


async def _fetch(
    store: InfluxStore, window: TimeWindow, interval_s: int | None, kept: tuple[str, ...],
    timeout_s: float,
) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    start_ms = window.start_ns // NS_PER_MS
    years: dict[int | None, int] = {}

    def year(bucket: int | None) -> int:
        if bucket not in years:
            years[bucket] = london_year(start_ms if bucket is None else max(bucket, start_ms))
        return years[bucket]

    params: dict[str, QueryParam] = {"start": window.start_ns, "end": window.end_ns,
                                     **sensor_filter()[1]}
    energy_series, total_series, attributed_series = await store.query(
        [energy_statement(interval_s, kept), transport_total_statement(interval_s, kept),
         transport_attributed_statement(interval_s)],
        params, timeout_s=timeout_s,
    )
    energy: list[EnergyActivity] = []
    carriers = {carrier.value: carrier for carrier in Carrier}
    for series in energy_series:
        carrier = carriers.get(series.tags.get("carrier", ""))
        if carrier is None:
            continue  # the ingestor only writes contract carriers; ignore anything else
        for row in series.rows():
            bucket = int(row["time"]) if interval_s is not None else None
            energy.append(EnergyActivity(
                bucket_ms=bucket,
                site=series.tags.get("site", ""), sensor=series.tags.get("sensor", ""),
                carrier=carrier, energy_kwh=float(row["energy_kwh"] or 0.0),
                year=year(bucket), readings=_int(row.get("readings")),
            ))

    attributed = await _attributed(store, params, interval_s, attributed_series, kept,
                                   timeout_s)
    transport: list[TransportActivity] = []
    totals = _keyed_rows(total_series, interval_s)
    for key, total_row in sorted(totals.items(), key=lambda item: (item[0][0] or 0, item[0][1:])):
        bucket, site, sensor = key
        known: dict[str, float] = attributed.get(key) or {}
        for vc in _CLASSES:
            counted = round(known.get(f"n_{vc.value}", 0))
            transport.append(TransportActivity(
                bucket_ms=bucket, site=site, sensor=sensor, vehicle_class=vc,
                vehicle_km=known.get(f"vkm_{vc.value}", 0.0), counts=counted,
                unattributed_counts=_int(total_row.get(f"n_{vc.value}")) - counted,
                year=year(bucket), readings=_int(total_row.get("readings")),
            ))
    return energy, transport


async def _attributed(
    store: InfluxStore, params: dict[str, QueryParam], interval_s: int | None,
    series: list[Series], kept: tuple[str, ...], timeout_s: float,
) -> dict[_Key, defaultdict[str, float]]:
    """Counts with a link length (``n_<class>``) and their vehicle-km (``vkm_<class>``),
    read per sensor and summed per kept key."""
    per_sensor = _keyed_rows(series, interval_s)
    uneven = sorted({key[2] for key, row in per_sensor.items()
                     if row["link_min"] != row["link_max"]})
    exact: dict[_Key, dict[str, Any]] = {}
    if uneven:
        names = [f"s{index}" for index in range(len(uneven))]
        (vkm_series,) = await store.query(
            [vehicle_km_statement(interval_s, names)],
            {**params, **dict(zip(names, uneven, strict=True))}, timeout_s=timeout_s,
        )
        exact = _keyed_rows(vkm_series, interval_s)
    summed: dict[_Key, defaultdict[str, float]] = {}
    for key, row in per_sensor.items():
        bucket, site, sensor = key
        into = summed.setdefault((bucket, site if "site" in kept else "",
                                  sensor if "sensor" in kept else ""), defaultdict(float))
        for vc in _CLASSES:
            counted = _int(row.get(f"n_{vc.value}"))
            if key in exact:
                vehicle_km = float(exact[key].get(f"vkm_{vc.value}") or 0.0)
            elif counted:
                vehicle_km = counted * float(row["link_min"])
            else:
                vehicle_km = 0.0
            into[f"n_{vc.value}"] += counted
            into[f"vkm_{vc.value}"] += vehicle_km
    return summed
