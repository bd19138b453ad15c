"""The ``/api/v1/sensors`` answers: every known sensor with its last reading and status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.clock import format_ms
from api.influx import InfluxStore
from api.network.flags import SensorFlags
from api.network.last_seen import LAST_SEEN_LOOKBACK, fetch_last_seen, site_in_data
from api.network.last_seen_index import LastSeenIndex
from api.network.status import sensor_statuses
from api.schemas import SensorList, SensorState, SensorStatus
from sensors.formats.devices import Device
from sensors.registry import Registry
from sensors.timestamps import now_ms
from sensors.topics import Domain

SENSOR_COLUMNS = ("id", "domain", "site", "site_name", "lat", "lon", "interval_s", "carrier",
                  "link_km", "registered", "source_format", "device", "last_seen", "age_s",
                  "status")


def sensor_table(sensors: list[SensorStatus]) -> tuple[list[str], list[list[Any]]]:
    """Sensors as a table (header, rows) for CSV: one line per sensor."""
    rows = [[one.model_dump(mode="json")[name] for name in SENSOR_COLUMNS] for one in sensors]
    return list(SENSOR_COLUMNS), rows


async def statuses_now(index: LastSeenIndex, registry: Registry,
                       devices: Mapping[str, Device], flags: SensorFlags | None = None
                       ) -> tuple[int, list[SensorStatus]]:
    """The time of the answer and every known sensor's status at that time, with its
    ``simulated`` and ``retired`` flags.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    seen = await index.get()
    now = now_ms()
    return now, _flagged(sensor_statuses(registry, seen, now, devices), flags)


def _flagged(statuses: list[SensorStatus], flags: SensorFlags | None) -> list[SensorStatus]:
    if flags is None:
        return statuses
    return [one.model_copy(update={"simulated": one.id in flags.simulated,
                                   "retired": one.id in flags.retired}) for one in statuses]


async def sensor_list(store: InfluxStore, index: LastSeenIndex, registry: Registry,
                      devices: Mapping[str, Device], site: str | None, domain: Domain | None,
                      flags: SensorFlags | None = None) -> SensorList | None:
    """Known sensors, optionally of one site and domain; None when ``site`` is unknown
    (neither registered nor seen in the data).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    now, statuses = await statuses_now(index, registry, devices, flags)
    if site is not None:
        known_sites = {known.id for known in registry.sites} | {s.site for s in statuses}
        if site not in known_sites and not await site_in_data(store, site):
            return None
        statuses = [s for s in statuses if s.site == site]
    if domain is not None:
        statuses = [s for s in statuses if s.domain is domain]
    counts: dict[SensorState, int] = {"reporting": 0, "late": 0, "silent": 0}
    for one in statuses:
        counts[one.status] += 1
    return SensorList(as_of=format_ms(now), lookback=LAST_SEEN_LOOKBACK, counts=counts,
                      sensors=statuses)


async def one_sensor(store: InfluxStore, index: LastSeenIndex, registry: Registry,
                     devices: Mapping[str, Device], sensor_id: str,
                     flags: SensorFlags | None = None) -> SensorStatus | None:
    """A registered sensor (or one of the devices file), or one seen in the data (however
    long ago); None when neither.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    _, statuses = await statuses_now(index, registry, devices, flags)
    found = next((one for one in statuses if one.id == sensor_id), None)
    if found is not None:
        return found
    # Not seen within the lookback: known all the same if it ever sent a reading.
    older = await fetch_last_seen(store, sensor_id)
    if sensor_id not in older:
        return None
    return next(one for one in _flagged(sensor_statuses(registry, older, now_ms(), devices),
                                        flags) if one.id == sensor_id)
