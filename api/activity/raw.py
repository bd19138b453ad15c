"""Activity from the raw readings: InfluxQL text and result mapping.

Measurement, field and tag names come only from :mod:`sensors.storage`; user values
(time bounds, sensor ids) are bound parameters. Every query is bounded in time.

Vehicle-km is ``count x link_km`` per reading. A subquery computes that exactly but
costs about 0.7 s per sensor-month on InfluxDB 1.6.7, so the common case takes a fast
path: when ``link_km`` is the same for every reading of a sensor in a bucket (its min
equals its max), vehicle-km is the summed count times that length. Only groups whose
link length changed fall back to the subquery.

Every activity carries its Europe/London calendar year (factor sets are per year): a
bucketed query takes the year of each bucket's start (hour buckets never span New Year,
as UK offsets are whole hours); an unbucketed one is cut at each New Year in the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.scope import sensor_filter
from api.clock import TimeWindow, london_year, split_years
from api.influx import InfluxStore, QueryParam, Series
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


def _group_by(interval_s: int | None, tags: str) -> str:
    if interval_s is None:
        return f"GROUP BY {tags}"
    # GROUP BY time() buckets align to the Unix epoch, i.e. to UTC; fill(none) omits
    # empty buckets instead of inventing zeros.
    return f"GROUP BY time({interval_s}s), {tags} fill(none)"


# The statements below are assembled from the constants of this module only (S608 is a
# false positive): user values travel as bound parameters ($start, $end, $s0...).


def energy_statement(interval_s: int | None) -> str:
    """kWh per site, sensor and carrier (and bucket)."""
    return (f"SELECT sum({ENERGY_KWH}) AS energy_kwh, count({ENERGY_KWH}) AS readings "  # noqa: S608
            f"FROM {ENERGY} WHERE {_WINDOW}{sensor_filter()[0]} "
            + _group_by(interval_s, "site, sensor, carrier"))


def transport_total_statement(interval_s: int | None) -> str:
    """Every count per class, with or without a link length."""
    return (f"SELECT {_SUM_COUNTS}, count({INTERVAL_S}) AS readings "  # noqa: S608
            f"FROM {TRANSPORT} WHERE {_WINDOW}{sensor_filter()[0]} "
            + _group_by(interval_s, "site, sensor"))


def transport_attributed_statement(interval_s: int | None) -> str:
    """Counts of readings with a link length, and that length's range."""
    return (f"SELECT {_SUM_COUNTS}, min({LINK_KM}) AS link_min, "  # noqa: S608
            f"max({LINK_KM}) AS link_max FROM {TRANSPORT} WHERE {_WINDOW} AND {LINK_KM} > 0"
            f"{sensor_filter()[0]} " + _group_by(interval_s, "site, sensor"))


def vehicle_km_statement(interval_s: int | None, sensor_params: Sequence[str]) -> str:
    """Exact vehicle-km per reading, summed, for the named sensors only (slow path)."""
    sensors = " OR ".join(f"sensor = ${name}" for name in sensor_params)
    return (f"SELECT {_VKM_OUTER} FROM (SELECT {_VKM_INNER} FROM {TRANSPORT} "  # noqa: S608
            f"WHERE {_WINDOW} AND {LINK_KM} > 0 AND ({sensors})) WHERE {_WINDOW} "
            + _group_by(interval_s, "site, sensor"))


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
    store: InfluxStore, window: TimeWindow, interval_s: int | None
) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    """Energy and transport activity in the window per site, sensor (and carrier or class).

    Args:
        store: the InfluxDB client.
        window: [start, end).
        interval_s: ``GROUP BY time()`` bucket in seconds (epoch-aligned, so also aligned
            to London clock hours when it divides an hour), or None for no time buckets.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    if interval_s is not None:
        return await _fetch(store, window, interval_s)
    energy: list[EnergyActivity] = []
    transport: list[TransportActivity] = []
    for part in split_years(window):
        more_energy, more_transport = await _fetch(store, part, None)
        energy.extend(more_energy)
        transport.extend(more_transport)
    return energy, transport


async def _fetch(
    store: InfluxStore, window: TimeWindow, interval_s: int | None
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
        [energy_statement(interval_s), transport_total_statement(interval_s),
         transport_attributed_statement(interval_s)],
        params,
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

    totals = _keyed_rows(total_series, interval_s)
    attributed = _keyed_rows(attributed_series, interval_s)
    uneven = sorted({key[2] for key, row in attributed.items()
                     if row["link_min"] != row["link_max"]})
    exact: dict[_Key, dict[str, Any]] = {}
    if uneven:
        names = [f"s{index}" for index in range(len(uneven))]
        (vkm_series,) = await store.query(
            [vehicle_km_statement(interval_s, names)],
            {**params, **dict(zip(names, uneven, strict=True))},
        )
        exact = _keyed_rows(vkm_series, interval_s)

    transport: list[TransportActivity] = []
    for key, total_row in sorted(totals.items(), key=lambda item: (item[0][0] or 0, item[0][1:])):
        bucket, site, sensor = key
        known = attributed.get(key, {})
        for vc in _CLASSES:
            counted = _int(known.get(f"n_{vc.value}"))
            if key in exact:
                vehicle_km = float(exact[key].get(f"vkm_{vc.value}") or 0.0)
            elif counted:
                vehicle_km = counted * float(known["link_min"])
            else:
                vehicle_km = 0.0
            transport.append(TransportActivity(
                bucket_ms=bucket, site=site, sensor=sensor, vehicle_class=vc,
                vehicle_km=vehicle_km, counts=counted,
                unattributed_counts=_int(total_row.get(f"n_{vc.value}")) - counted,
                year=year(bucket), readings=_int(total_row.get("readings")),
            ))
    return energy, transport
