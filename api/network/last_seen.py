"""The latest reading of every sensor found in InfluxDB (within a bounded lookback)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.influx import InfluxStore
from sensors.readings import AIR_QUALITY_FIELDS
from sensors.storage import INTERVAL_S, Measurement
from sensors.topics import Domain

LAST_SEEN_LOOKBACK = "30d"
_RECENT = f"time > now() - {LAST_SEEN_LOOKBACK} AND time < now() + 1d"
# One sensor's latest reading however old it is: bounded by the epoch and tomorrow.
_EVER = "sensor = $sensor AND time >= 0 AND time < now() + 1d"
READING_MEASUREMENTS = (Measurement.ENERGY, Measurement.TRANSPORT, Measurement.AIR_QUALITY)


@dataclass(frozen=True, slots=True)
class LastSeen:
    """The latest reading of a sensor found in the database."""

    sensor: str
    site: str
    domain: Domain
    time_ms: int
    interval_s: int | None
    carrier: str | None


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def last_seen_statements(where: str = _RECENT) -> list[str]:
    """Latest reading per sensor in each measurement (bounded to the lookback)."""
    last_interval = f"SELECT last({INTERVAL_S}) AS interval_s"
    return [
        f"{last_interval} FROM {Measurement.ENERGY} WHERE {where} "
        "GROUP BY site, sensor, carrier",
        f"{last_interval} FROM {Measurement.TRANSPORT} WHERE {where} GROUP BY site, sensor",
        # air_quality has no field every reading carries: ask for each and take the latest.
        *(f"SELECT last({name}) FROM {Measurement.AIR_QUALITY} WHERE {where} "  # noqa: S608
          "GROUP BY site, sensor" for name in AIR_QUALITY_FIELDS),
    ]


async def fetch_last_seen(store: InfluxStore, sensor: str | None = None) -> dict[str, LastSeen]:
    """The latest reading of every sensor seen within :data:`LAST_SEEN_LOOKBACK`; with
    ``sensor``, that sensor's latest reading however old (a sensor with readings is known).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    if sensor is None:
        answers = await store.query(last_seen_statements())
    else:
        answers = await store.query(last_seen_statements(_EVER), {"sensor": sensor})
    domains = [Domain.ENERGY, Domain.TRANSPORT] + [Domain.AIR_QUALITY] * len(AIR_QUALITY_FIELDS)
    latest: dict[str, LastSeen] = {}
    for domain, series_list in zip(domains, answers, strict=True):
        for series in series_list:
            sensor = series.tags.get("sensor", "")
            for row in series.rows():
                seen = LastSeen(
                    sensor=sensor, site=series.tags.get("site", ""), domain=domain,
                    time_ms=int(row["time"]),
                    interval_s=_int(row.get("interval_s")) or None,
                    carrier=series.tags.get("carrier"),
                )
                if sensor and (sensor not in latest or seen.time_ms > latest[sensor].time_ms):
                    latest[sensor] = seen
    return latest


async def site_in_data(store: InfluxStore, site: str) -> bool:
    """Whether any reading (energy, transport, air quality) carries the site tag.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    statements = [f'SHOW TAG VALUES FROM {m} WITH KEY = "site" WHERE site = $site'
                  for m in READING_MEASUREMENTS]
    answers = await store.query(statements, {"site": site})
    return any(row.get("value") == site for series in answers for one in series
               for row in one.rows())
