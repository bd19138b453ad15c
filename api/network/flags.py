"""Simulated and retired sensors: the ``sensor_flags`` measurement, and the registry's own.

``smartplace simulate --sensors N`` registers the sensors it makes up as simulated before
it publishes; an operator retires a sensor (``POST /api/v1/sensors/{id}/retire``) or the
registry marks it ``retired``. The latest point per sensor and field wins, so a sensor
can be reinstated. :class:`FlagCache` keeps the answer for a few seconds: every figure,
the live poller and the sensor list ask for it, and flags change rarely (an action here
refreshes it at once).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from api.activity.scope import SensorScope
from api.clock import format_ms
from api.errors import StoreError
from api.influx import InfluxStore
from sensors.lineprotocol import point_line
from sensors.registry import Registry
from sensors.storage import Measurement

FLAGS = Measurement.SENSOR_FLAGS
CACHE_S = 10.0
_ALL_FLAGS = (f"SELECT * FROM {FLAGS} WHERE time >= 0 AND time < now() + 1d "  # noqa: S608
              "GROUP BY sensor")


@dataclass(frozen=True, slots=True)
class Retirement:
    """Who retired a sensor, when and why (``by`` is a key's name, never a key)."""

    at: str
    by: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class SensorFlags:
    """Which sensors are simulated and which are retired."""

    simulated: frozenset[str] = frozenset()
    retired: Mapping[str, Retirement] = field(default_factory=dict)

    def scope(self, include_simulated: bool = False) -> SensorScope:
        """What figures leave out: simulated sensors (unless asked for) from everything,
        and retired ones from completeness too."""
        excluded = frozenset() if include_simulated else self.simulated
        return SensorScope(excluded=excluded, not_expected=excluded | set(self.retired))

    def quiet(self, sensor: str) -> bool:
        """True for a sensor that raises no alerts: retired or simulated."""
        return sensor in self.retired or sensor in self.simulated


def _from_rows(rows: list[tuple[str, dict[str, object]]], registry: Registry) -> SensorFlags:
    simulated: set[str] = set()
    retired: dict[str, Retirement] = {
        sensor.id: Retirement("", "registry", "retired in the registry")
        for sensor in registry.sensors if sensor.retired}
    for sensor, row in sorted(rows, key=lambda item: int(str(item[1]["time"]))):
        if row.get("simulated") is not None:
            (simulated.add if row["simulated"] else simulated.discard)(sensor)
        if row.get("retired") is not None:
            if row["retired"]:
                reason = row.get("reason")
                retired[sensor] = Retirement(format_ms(int(str(row["time"]))),
                                             str(row.get("by") or ""),
                                             str(reason) if reason else None)
            else:
                retired.pop(sensor, None)
    return SensorFlags(frozenset(simulated), retired)


async def fetch_flags(store: InfluxStore, registry: Registry) -> SensorFlags:
    """Every sensor's flags: the registry's, then the stored changes in time order.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    (series,) = await store.query([_ALL_FLAGS], own=True)
    rows = [(one.tags.get("sensor", ""), row) for one in series for row in one.rows()]
    return _from_rows(rows, registry)


def retirement_line(sensor: str, retired: bool, by: str, reason: str | None,
                    at_ms: int) -> str:
    """The point that retires (or reinstates) ``sensor``."""
    line = point_line(FLAGS, {"sensor": sensor},
                      {"retired": int(retired), "by": by, "reason": reason}, at_ms)
    assert line is not None  # retired is always there
    return line


async def set_retired(store: InfluxStore, sensor: str, retired: bool, by: str,
                      reason: str | None, at_ms: int) -> None:
    """Store a retirement or a reinstatement.

    Raises:
        StoreError: InfluxDB did not take the write.
    """
    await store.write([retirement_line(sensor, retired, by, reason, at_ms)], precision="ms")


class FlagCache:
    """The flags, read at most every :data:`CACHE_S` seconds (or after :meth:`forget`)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._flags: SensorFlags | None = None
        self._read_at = float("-inf")

    async def get(self, store: InfluxStore) -> SensorFlags:
        """The current flags (the last ones read while InfluxDB does not answer).

        Raises:
            StoreError: InfluxDB could not answer and nothing was read before.
        """
        if self._flags is None or time.monotonic() - self._read_at > CACHE_S:
            try:
                self._flags = await fetch_flags(store, self._registry)
            except StoreError:
                if self._flags is None:
                    raise
            self._read_at = time.monotonic()
        return self._flags

    def forget(self) -> None:
        """Read again next time (the flags just changed)."""
        self._read_at = float("-inf")
