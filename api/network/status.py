"""Sensor status from last-seen times: reporting, late or silent. Pure; no I/O.

A sensor is ``reporting`` while its latest reading is at most two expected intervals
old, ``late`` up to three, and ``silent`` after that or when never seen. The expected
interval is the registry's; for a sensor the registry does not know, the devices file's
``interval_s``, else the ``interval_s`` it last reported, else :data:`DEFAULT_INTERVAL_S`.

Sensors come from the registry, then the devices file (a device is known before its first
reading: a newly connected one shows as silent until it reports), then the database.
Each says what it sends (``source_format``): native, or its device's format.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.clock import format_ms
from api.network.last_seen import LastSeen
from api.schemas import SensorState, SensorStatus
from sensors.formats.devices import Device
from sensors.registry import Registry, Site

NATIVE = "native"

DEFAULT_INTERVAL_S = 60
REPORTING_INTERVALS = 2
LATE_INTERVALS = 3


def classify(age_s: float | None, interval_s: int) -> SensorState:
    """The status of a sensor whose latest reading is ``age_s`` old (None: never seen)."""
    if age_s is None:
        return "silent"
    if age_s <= REPORTING_INTERVALS * interval_s:
        return "reporting"
    if age_s <= LATE_INTERVALS * interval_s:
        return "late"
    return "silent"


def source_format(device: Device | None) -> str:
    """What a sensor sends: ``native``, or its device's format."""
    return NATIVE if device is None else device.format.value


def _source(device: Device | None) -> dict[str, str | None]:
    return {"source_format": source_format(device),
            "device": None if device is None else device.device}


def sensor_statuses(
    registry: Registry, seen: Mapping[str, LastSeen], now_ms: int,
    devices: Mapping[str, Device] | None = None,
) -> list[SensorStatus]:
    """Every registered sensor (registry order), then the devices file's others (file
    order), then unregistered ones found in the database."""
    devices = devices or {}
    # Once per answer, not a scan of the sites per sensor (30,000 of them at scale).
    sites: dict[str, Site] = {}
    for one in registry.sites:
        sites.setdefault(one.id, one)
    registered = registry.sensors_by_id
    statuses: list[SensorStatus] = []
    for sensor in registry.sensors:
        site = sites.get(sensor.site)
        last = seen.get(sensor.id)
        age_s = (now_ms - last.time_ms) / 1000 if last else None
        statuses.append(SensorStatus(
            id=sensor.id, domain=sensor.domain, site=sensor.site,
            site_name=site.name if site else None,
            lat=site.lat if site else None, lon=site.lon if site else None,
            interval_s=sensor.interval_s,
            carrier=sensor.carrier.value if sensor.carrier else None,
            link_km=sensor.link_km, registered=True,
            last_seen=format_ms(last.time_ms) if last else None, age_s=age_s,
            status=classify(age_s, sensor.interval_s), **_source(devices.get(sensor.id)),
        ))
    for sensor_id, device in devices.items():
        if sensor_id in registered:
            continue
        site = sites.get(device.site)
        last = seen.get(sensor_id)
        interval_s = device.interval_s or (last.interval_s if last else None) or (
            DEFAULT_INTERVAL_S)
        age_s = (now_ms - last.time_ms) / 1000 if last else None
        statuses.append(SensorStatus(
            id=sensor_id, domain=device.domain, site=device.site,
            site_name=site.name if site else None,
            lat=site.lat if site else None, lon=site.lon if site else None,
            interval_s=interval_s, carrier=device.carrier.value if device.carrier else None,
            link_km=None, registered=False,
            last_seen=format_ms(last.time_ms) if last else None, age_s=age_s,
            status=classify(age_s, interval_s), **_source(device),
        ))
    for sensor_id in sorted(set(seen) - set(registered) - set(devices)):
        last = seen[sensor_id]
        site = sites.get(last.site)
        interval_s = last.interval_s or DEFAULT_INTERVAL_S
        age_s = (now_ms - last.time_ms) / 1000
        statuses.append(SensorStatus(
            id=sensor_id, domain=last.domain, site=last.site,
            site_name=site.name if site else None,
            lat=site.lat if site else None, lon=site.lon if site else None,
            interval_s=interval_s, carrier=last.carrier, link_km=None, registered=False,
            last_seen=format_ms(last.time_ms), age_s=age_s,
            status=classify(age_s, interval_s), **_source(None),
        ))
    return statuses
