"""The raw part of the live ``carbon`` panel: activity summed over every sensor, per clock
hour, read incrementally (docs/live.md, ``carbon``).

What ``/api/v1/emissions`` reads raw (the hours the rollups do not cover) is summed here by
carrier and vehicle class, and kept per clock hour: each refresh reads only the readings
timed after what the last one settled, so its cost follows the readings of the last
refresh period, not the hour so far or the number of sensors. A reading is settled when it
is :data:`~api.network.last_seen_index.OVERLAP_MS` older than the refresh that read it
(readings reach InfluxDB a little after their own time); newer ones count in that refresh's
figure and are read again by the next one.

Two read forms, chosen by the span's length, as measured on InfluxDB 1.6.7 at 30,000
sensors each reporting every minute (2026-12-02, 2 cores):

- **rows** (spans up to :data:`BULK_FROM_MS`): the readings themselves, no ``GROUP BY``,
  summed here; vehicle-km is each reading's count x its ``link_km``, as
  ``/api/v1/emissions`` computes it. About 0.9 s per minute of the network's transport
  readings, 0.2 s for energy (10,000 rows each), in slices of :data:`SLICE_MS` (halved when
  InfluxDB's row limit cuts an answer short).
- **bulk** (longer spans: the first read after a start): the per-sensor sums of
  :func:`api.activity.raw.fetch_activity` (``GROUP BY sensor``), whose cost is per sensor,
  not per reading: 12 s for one minute, 17 s for 30 minutes of the same network. Rows would
  take about 27 s for those 30 minutes.

A reading stored more than the overlap after its own time (an ingest backlog) is missed
here until its hour is inside the rollup coverage, when the panel reads that hour from the
rollups, as ``/api/v1/emissions`` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.activity.scope import SensorScope, current_scope, sensor_filter
from api.clock import HOUR_MS, TimeWindow, floor_hour, london_year
from api.errors import StoreTruncatedError
from api.influx import InfluxStore, QueryParam
from api.network.last_seen_index import OVERLAP_MS
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

SLICE_MS = 30_000
"""Rows are read this much at a time: 5,000 readings per domain at 30,000 sensors
reporting each minute, half of InfluxDB 1.x's default row limit (10,000)."""
MIN_SLICE_MS = 1_000
BULK_TIMEOUT_S = 120.0
"""A bulk read runs beside the ticks (the panel is a background job): one that InfluxDB
answers slowly while the other panels' first reads load it is waited for, not abandoned
at the usual 30 s and sent again whole on the next attempt."""
BULK_FROM_MS = 10 * 60_000
"""Spans at least this long are read in bulk (per-sensor sums): at 30,000 sensors a
minute of rows costs about 1.1 s and a bulk read about 12-17 s, whatever its length."""

_WINDOW = "time >= $start AND time < $end"
_COUNTS = ", ".join(count_field(vc) for vc in VEHICLE_CLASSES)

Activity = tuple[list[EnergyActivity], list[TransportActivity]]
Span = tuple[int, int]


def energy_rows_statement() -> str:
    """Every energy reading's kWh and carrier in [$start, $end)."""
    return (f"SELECT {ENERGY_KWH}, carrier FROM {Measurement.ENERGY} "  # noqa: S608
            f"WHERE {_WINDOW}{sensor_filter()[0]}")


def transport_rows_statement() -> str:
    """Every transport reading's counts and link length in [$start, $end)."""
    return (f"SELECT {_COUNTS}, {LINK_KM}, {INTERVAL_S} FROM {Measurement.TRANSPORT} "  # noqa: S608
            f"WHERE {_WINDOW}{sensor_filter()[0]}")


@dataclass(slots=True)
class Sums:
    """Activity summed over every sensor: kWh per carrier, counts and vehicle-km per class."""

    kwh: defaultdict[Carrier, float] = field(default_factory=lambda: defaultdict(float))
    meter_readings: defaultdict[Carrier, int] = field(default_factory=lambda: defaultdict(int))
    vkm: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    unattributed: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    counter_readings: int = 0

    def add(self, other: Sums) -> None:
        """Add another span's sums to these."""
        for carrier, kwh in other.kwh.items():
            self.kwh[carrier] += kwh
        for carrier, readings in other.meter_readings.items():
            self.meter_readings[carrier] += readings
        for name, vkm in other.vkm.items():
            self.vkm[name] += vkm
        for name, counted in other.counts.items():
            self.counts[name] += counted
        for name, counted in other.unattributed.items():
            self.unattributed[name] += counted
        self.counter_readings += other.counter_readings

    def add_activity(self, energy: Iterable[EnergyActivity],
                     transport: Iterable[TransportActivity]) -> None:
        """Add per-sensor activity (a bulk read), summed over its sensors."""
        for one in energy:
            self.kwh[one.carrier] += one.energy_kwh
            self.meter_readings[one.carrier] += one.readings
        readings: dict[str, int] = {}
        for row in transport:
            name = row.vehicle_class.value
            self.vkm[name] += row.vehicle_km
            self.counts[name] += row.counts
            self.unattributed[name] += row.unattributed_counts
            readings[row.sensor] = row.readings  # the same for every class of a sensor
        self.counter_readings += sum(readings.values())

    def activity(self, hour_ms: int) -> Activity:
        """These sums as the activity of one hour bucket (site and sensor "")."""
        year = london_year(hour_ms)
        energy = [EnergyActivity(hour_ms, "", "", carrier, kwh, year,
                                 self.meter_readings[carrier])
                  for carrier, kwh in self.kwh.items()]
        transport = [TransportActivity(hour_ms, "", "", vc, self.vkm[vc.value],
                                       self.counts[vc.value], self.unattributed[vc.value],
                                       year, self.counter_readings)
                     for vc in VEHICLE_CLASSES] if self.counter_readings else []
        return energy, transport


@dataclass(slots=True)
class _Hour:
    settled_ms: int  # readings before this are in ``sums`` and not read again
    sums: Sums = field(default_factory=Sums)


class RawTally:
    """Raw activity per clock hour, every sensor summed, read incrementally."""

    def __init__(self, store: InfluxStore, overlap_ms: int = OVERLAP_MS) -> None:
        self._store = store
        self._overlap_ms = overlap_ms
        self._hours: dict[int, _Hour] = {}
        self._scope: SensorScope | None = None
        self._touched: set[int] = set()
        self.row_requests = 0
        """Requests of the rows form (one per slice, halved slices included)."""
        self.bulk_reads = 0
        """Spans read in bulk (per-sensor sums)."""

    async def read(self, window: TimeWindow, covered: Span | None, now_ms: int) -> Activity:
        """The activity of the window's hours outside ``covered`` (whole hours the caller
        reads from the rollups), one bucket per hour.

        Raises:
            StoreError: InfluxDB could not answer.
        """
        if self._scope != current_scope():
            self._hours.clear()  # sums of another set of sensors
            self._scope = current_scope()
        start_ms, end_ms = window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS
        settle_before = now_ms - self._overlap_ms
        energy: list[EnergyActivity] = []
        transport: list[TransportActivity] = []
        for hour in range(floor_hour(start_ms), end_ms, HOUR_MS):
            if covered is not None and covered[0] <= hour and hour + HOUR_MS <= covered[1]:
                continue
            state = self._hours.setdefault(hour, _Hour(max(hour, start_ms)))
            self._touched.add(hour)
            upto = min(hour + HOUR_MS, end_ms)
            sums = Sums()
            sums.add(state.sums)
            if state.settled_ms < upto:
                settled, unsettled = await self._read(state.settled_ms, upto, settle_before)
                state.sums.add(settled)
                sums.add(settled)
                sums.add(unsettled)
                state.settled_ms = max(state.settled_ms, min(upto, settle_before))
            more_energy, more_transport = sums.activity(hour)
            energy += more_energy
            transport += more_transport
        return energy, transport

    def forget_unread(self) -> None:
        """Forget the hours no :meth:`read` asked for since the last call (their hours are
        now inside the rollup coverage, or outside the windows)."""
        self._hours = {hour: state for hour, state in self._hours.items()
                       if hour in self._touched}
        self._touched = set()

    @property
    def hours(self) -> list[int]:
        """The hours kept (starts, epoch ms)."""
        return sorted(self._hours)

    async def _read(self, lo: int, hi: int, settle_before: int) -> tuple[Sums, Sums]:
        """[lo, hi) as the readings before ``settle_before`` and those at or after it."""
        settled, unsettled = Sums(), Sums()
        cut = min(max(settle_before, lo), hi)
        if cut - lo >= BULK_FROM_MS:
            self.bulk_reads += 1
            settled.add_activity(*await fetch_activity(
                self._store, TimeWindow(lo * NS_PER_MS, cut * NS_PER_MS), None, (),
                timeout_s=BULK_TIMEOUT_S))
            lo = cut
        slices = [(start, min(start + SLICE_MS, hi)) for start in range(lo, hi, SLICE_MS)]
        while slices:
            first, last = slices.pop(0)
            try:
                energy_rows, transport_rows = await self._rows(first, last)
            except StoreTruncatedError:
                if last - first <= MIN_SLICE_MS:
                    raise
                middle = (first + last) // 2  # more rows than InfluxDB answers at once
                slices[:0] = [(first, middle), (middle, last)]
                continue
            for row in energy_rows:
                _add_energy(settled if row["time"] < cut else unsettled, row)
            for row in transport_rows:
                _add_transport(settled if row["time"] < cut else unsettled, row)
        return settled, unsettled

    async def _rows(self, lo: int, hi: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        self.row_requests += 1
        params: dict[str, QueryParam] = {"start": lo * NS_PER_MS, "end": hi * NS_PER_MS,
                                         **sensor_filter()[1]}
        energy, transport = await self._store.query(
            [energy_rows_statement(), transport_rows_statement()], params)
        return ([row for one in energy for row in one.rows()],
                [row for one in transport for row in one.rows()])


_CARRIERS = {carrier.value: carrier for carrier in Carrier}


def _add_energy(sums: Sums, row: dict[str, Any]) -> None:
    carrier = _CARRIERS.get(str(row.get("carrier") or ""))
    if carrier is None or row.get(ENERGY_KWH) is None:
        return  # as the raw reader: only contract carriers, only readings with kWh
    sums.kwh[carrier] += float(row[ENERGY_KWH])
    sums.meter_readings[carrier] += 1


def _add_transport(sums: Sums, row: dict[str, Any]) -> None:
    if row.get(INTERVAL_S) is not None:
        sums.counter_readings += 1  # as the raw reader counts readings: by interval_s
    link_km = float(row.get(LINK_KM) or 0.0)
    for vc in VEHICLE_CLASSES:
        counted = int(row.get(count_field(vc)) or 0)
        if link_km > 0:
            sums.counts[vc.value] += counted
            sums.vkm[vc.value] += counted * link_km
        else:
            sums.unattributed[vc.value] += counted
