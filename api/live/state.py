"""Queries and mapping for the live panels: ``now``, ``sensors``, ``pipeline``
(payload shapes: docs/live.md; ``series``: :mod:`api.live.series`; ``carbon``:
:mod:`api.live.carbon`). Each function answers
one event's payload without ``at``; the hub adds it.

Every statement is bounded in time on both sides (``GROUP BY time()`` without a lower
bound would fill buckets from 1970), and numbers formatted into the text are computed
here from constants; times travel as bound parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from api.activity.scope import sensor_filter
from api.air.daqi import SiteIndex
from api.influx import InfluxStore, QueryParam
from api.live.sse import rfc3339_ms
from api.network.flags import SensorFlags
from api.network.last_seen import LastSeen
from api.network.status import sensor_statuses, source_format
from api.schemas import SensorState, SensorStatus
from sensors.formats.devices import Device
from sensors.readings import Carrier, VehicleClass
from sensors.registry import Registry
from sensors.storage import ENERGY_KWH, Measurement, count_field
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain

ENERGY, TRANSPORT, AIR_QUALITY = Measurement.ENERGY, Measurement.TRANSPORT, Measurement.AIR_QUALITY
STATS = Measurement.INGEST_STATS
NOW_WINDOW_MS = 5 * 60_000
PIPELINE_WINDOW_MS = 60_000
DEAD_LETTER_REASONS_MS = 15 * 60_000

VEHICLES = tuple(vc.value for vc in (VehicleClass.CAR, VehicleClass.MOTORCYCLE,
                                     VehicleClass.VAN, VehicleClass.HGV, VehicleClass.BUS))
ACTIVE = (VehicleClass.BICYCLE.value, VehicleClass.PEDESTRIAN.value)
CARRIER_KEYS = {Carrier.ELECTRICITY.value: "electricity_kw", Carrier.GAS.value: "gas_kw",
                 Carrier.SOLAR_PV.value: "solar_kw", Carrier.EV_CHARGING.value: "ev_charging_kw"}
COUNTS = ", ".join(f"sum({count_field(name)}) AS {name}" for name in VEHICLES + ACTIVE)
_BOUNDS = "time >= $start AND time < $end"
_RATES = ("received", "stored", "dead_letters", "write_seconds_total", "batches", "dropped")


def scoped_bounds(start_ms: int, end_ms: int) -> dict[str, QueryParam]:
    """The window, and the sensors left out (simulated ones: api/activity/scope.py)."""
    return {"start": start_ms * NS_PER_MS, "end": end_ms * NS_PER_MS, **sensor_filter()[1]}


def scoped_where() -> str:
    """``time >= $start AND time < $end`` and the scope's ``AND sensor != ...``."""
    return _BOUNDS + sensor_filter()[0]


def total(values: Iterable[Any]) -> float | None:
    """Sum of the non-null values; None when all are null (no data is not zero)."""
    present = [float(value) for value in values if value is not None]
    return math.fsum(present) if present else None


def scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


async def fetch_now(store: InfluxStore, now_ms: int) -> dict[str, Any]:
    """Mean power per carrier (kW) and flows per hour over the last 5 minutes.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    energy, transport = await store.query([
        f"SELECT sum({ENERGY_KWH}) AS kwh FROM {ENERGY} WHERE {scoped_where()} "  # noqa: S608
        "GROUP BY carrier",
        f"SELECT {COUNTS} FROM {TRANSPORT} WHERE {scoped_where()}",  # noqa: S608
    ], scoped_bounds(now_ms - NOW_WINDOW_MS, now_ms))
    per_hour = 3_600_000 / NOW_WINDOW_MS
    body: dict[str, Any] = dict.fromkeys(CARRIER_KEYS.values())
    for series in energy:
        key = CARRIER_KEYS.get(series.tags.get("carrier", ""))
        if key is not None:
            body[key] = scaled(total(row["kwh"] for row in series.rows()), per_hour)
    counts = next((row for series in transport for row in series.rows()), {})
    body["traffic_vehicles_per_hour"] = scaled(total(counts.get(n) for n in VEHICLES), per_hour)
    body["bicycles_per_hour"] = scaled(total([counts.get("bicycle")]), per_hour)
    body["pedestrians_per_hour"] = scaled(total([counts.get("pedestrian")]), per_hour)
    return body


def hello_payload(registry: Registry, devices: Mapping[str, Device], now_ms: int,
                  refresh_s: float, heartbeat_s: float) -> dict[str, Any]:
    """The ``hello`` payload: settings, sites and registered sensors."""
    return {
        "server_time": rfc3339_ms(now_ms), "refresh_s": refresh_s, "heartbeat_s": heartbeat_s,
        "sites": [{"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon}
                  for s in registry.sites],
        "sensors": [{"id": s.id, "site": s.site, "domain": s.domain.value,
                     "interval_s": s.interval_s,
                     "carrier": s.carrier.value if s.carrier else None,
                     "lat": site.lat if site else None, "lon": site.lon if site else None,
                     "source_format": source_format(devices.get(s.id))}
                    for s in registry.sensors for site in [registry.site(s.site)]],
    }


def sensors_panel(registry: Registry, seen: Mapping[str, LastSeen], now_ms: int,
                  flags: SensorFlags | None = None, devices: Mapping[str, Device] | None = None
                  ) -> tuple[dict[str, Any], list[SensorStatus]]:
    """The ``sensors`` payload, and the statuses it came from (alerts use them too).

    The rules are ``GET /api/v1/sensors``'s (:func:`api.network.status.sensor_statuses`).
    ``counts`` counts the network in service; simulated and retired sensors are listed
    (flagged) and counted apart, in ``set_aside``.
    """
    flags = flags or SensorFlags()
    statuses = sensor_statuses(registry, seen, now_ms, devices)
    counts: dict[SensorState, int] = {"reporting": 0, "late": 0, "silent": 0}
    set_aside = {"simulated": 0, "retired": 0}
    sensors = []
    for status in statuses:
        simulated, retired = status.id in flags.simulated, status.id in flags.retired
        if simulated or retired:
            set_aside["simulated" if simulated else "retired"] += 1
        else:
            counts[status.status] += 1
        last = seen.get(status.id)
        sensors.append({
            "id": status.id, "site": status.site, "domain": status.domain.value,
            "status": status.status,
            "last_seen": rfc3339_ms(last.time_ms) if last else None,
            "age_s": round(status.age_s, 3) if status.age_s is not None else None,
            "interval_s": status.interval_s, "registered": status.registered,
            "simulated": simulated, "retired": retired,
            "source_format": status.source_format,
        })
    return {"counts": counts, "set_aside": set_aside, "sensors": sensors}, statuses


def air_quality_sites(registry: Registry, seen: Mapping[str, LastSeen]) -> list[str]:
    """Sites with an air-quality monitor: registered ones, then others seen in the database."""
    sites = [s.site for s in registry.sensors if s.domain is Domain.AIR_QUALITY]
    sites += sorted(last.site for last in seen.values() if last.domain is Domain.AIR_QUALITY)
    return list(dict.fromkeys(sites))


def worst_daqi(indices: Iterable[SiteIndex]) -> dict[str, Any] | None:
    """The site with the highest overall DAQI and the pollutant behind it; None without data."""
    known = [one for one in indices if one.overall_index is not None]
    if not known:
        return None
    worst = max(known, key=lambda one: one.overall_index or 0)  # the first of equals
    driven = worst.driven_by
    return {"site": worst.site, "index": worst.overall_index, "band": worst.overall_band,
            "pollutant": driven[0] if driven else None}


def _mean(values: Iterable[Any]) -> float | None:
    present = [float(value) for value in values if value is not None]
    return math.fsum(present) / len(present) if present else None


async def fetch_pipeline(store: InfluxStore, now_ms: int) -> dict[str, Any]:
    """Ingest rates and health from the ingestors' ``ingest_stats`` points.

    Each rate is the mean ``non_negative_derivative`` of an instance over the last
    minute (a restarted counter is skipped, not counted as negative), summed over instances.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    derivatives = ", ".join(f"non_negative_derivative({name}, 1s) AS {name}" for name in _RATES)
    rates, latest, reasons = await store.query([
        f"SELECT {derivatives} FROM {STATS} WHERE {_BOUNDS} GROUP BY instance",  # noqa: S608
        f"SELECT last(queue_depth) AS queue_depth, last(lag_seconds) AS lag_s "  # noqa: S608
        f"FROM {STATS} WHERE {_BOUNDS} GROUP BY instance",
        f"SELECT count(topic) AS n FROM {Measurement.DEAD_LETTER} "  # noqa: S608
        "WHERE time >= $reasons AND time < $end GROUP BY reason",
    ], {"start": (now_ms - PIPELINE_WINDOW_MS) * NS_PER_MS, "end": now_ms * NS_PER_MS,
        "reasons": (now_ms - DEAD_LETTER_REASONS_MS) * NS_PER_MS})
    per_instance = [{name: _mean(row[name] for row in series.rows()) for name in _RATES}
                    for series in rates]
    summed = {name: total(one[name] for one in per_instance) for name in _RATES}
    batches, write_s = summed["batches"], summed["write_seconds_total"]
    last_rows = [row for series in latest for row in series.rows()]
    lags = [float(row["lag_s"]) for row in last_rows if row["lag_s"] is not None]
    return {
        "messages_in_per_s": summed["received"],
        "stored_per_s": summed["stored"],
        "dead_letters_per_s": summed["dead_letters"],
        "dropped_per_s": summed["dropped"],
        "dead_letters_by_reason": {
            series.tags.get("reason", ""): int(row["n"] or 0)
            for series in reasons for row in series.rows()},
        "write_ms": write_s / batches * 1000 if write_s is not None and batches else None,
        "lag_s": max(lags) if lags else None,
        "queue_depth": (sum(int(row["queue_depth"]) for row in last_rows
                            if row["queue_depth"] is not None) if last_rows else None),
        "ingestors": len(last_rows),
    }
