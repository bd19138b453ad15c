"""Grid electricity priced at the regional half-hourly carbon intensity (``method=grid_intensity``).

Method (docs/methodology.md, "Time-varying grid intensity"): each half-hour slot's grid
electricity and EV-charging kWh x (the slot's NESO regional intensity / 1000 + the DESNZ
T&D factor). A slot without a stored intensity falls back to the annual method
(generation + T&D factors) and is reported: its kWh in ``fallback_kwh``, its start in
``missing_slots``.

Slots: UTC half-hours ``[start, start + 30 min)``. A reading belongs to the slot in which
its interval *ends* (``ts`` is the interval's end), i.e. ``slot = floor((ts - 1 ms) / 30
min)``: a reading stamped 10:30:00 covers 10:15-10:30 and so belongs to the 10:00 slot.
In InfluxQL that is ``GROUP BY time(30m, 1ms)`` (buckets ``(10:00, 10:30]``), see
:data:`ELECTRICITY_BY_SLOT`; :func:`slot_of_bucket` maps a bucket back to its slot.

``fetch_grid_intensity`` reads InfluxDB; everything else here is pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from api.params import TimeWindow
from api.store import InfluxStore, QueryParam
from sensors.grid import SLOT_MS

DEFAULT_REGION_ID = 3  # North West England
_NS_PER_MS = 1_000_000

# Intensity per slot: one point per slot (a refreshed forecast overwrote the older one).
# Built from constants only; the bounds and region travel as bound parameters.
GRID_INTENSITY_BY_SLOT = (
    "SELECT forecast_gco2_kwh, actual_gco2_kwh FROM grid_intensity "
    "WHERE time >= $start AND time < $end AND regionid = $regionid"
)
# Grid electricity and EV charging per slot at the finest grain (see the module docstring
# for the 1 ms offset). Same window as the annual method: readings with ts in [start, end).
ELECTRICITY_BY_SLOT = (
    "SELECT sum(energy_kwh) AS energy_kwh FROM energy "
    "WHERE time >= $start AND time < $end "
    "AND (carrier = 'electricity' OR carrier = 'ev_charging') "
    "GROUP BY time(30m, 1ms), site, sensor, carrier fill(none)"
)


def slot_start(ms: int) -> int:
    """The start of the UTC half-hour containing ``ms``."""
    return ms - ms % SLOT_MS


def reading_slot(ts_ms: int) -> int:
    """The slot an interval reading stamped ``ts_ms`` (its interval's end) belongs to."""
    return slot_start(ts_ms - 1)


def slot_of_bucket(bucket_ms: int) -> int:
    """The slot of an :data:`ELECTRICITY_BY_SLOT` bucket (its start is slot start + 1 ms)."""
    return slot_start(bucket_ms)


async def fetch_grid_intensity(
    store: InfluxStore, window: TimeWindow, region_id: int = DEFAULT_REGION_ID
) -> dict[int, float]:
    """Slot start (epoch ms) -> gCO2/kWh for every slot a reading in ``window`` can fall in.

    The measured ``actual`` is used where the feed gave one, else the ``forecast`` (the
    regional feed is forecast-only; the stored forecast is the last one received before
    the slot passed, since each refresh overwrites the slot).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    first_slot = reading_slot(window.start_ns // _NS_PER_MS)
    params: dict[str, QueryParam] = {
        "start": first_slot * _NS_PER_MS, "end": window.end_ns, "regionid": str(region_id),
    }
    (series,) = await store.query([GRID_INTENSITY_BY_SLOT], params)
    intensity: dict[int, float] = {}
    for one in series:
        for row in one.rows():
            value = row.get("actual_gco2_kwh")
            if value is None:
                value = row.get("forecast_gco2_kwh")
            if value is not None and math.isfinite(float(value)):
                intensity[slot_start(int(row["time"]))] = float(value)
    return intensity


@dataclass(frozen=True, slots=True)
class GridEmissions:
    """The result for one group of slots.

    Attributes:
        kgco2e: emissions of all the kWh (regional intensity or annual fallback, plus T&D).
        grid_kwh: kWh priced at a stored regional intensity.
        fallback_kwh: kWh priced at the annual generation factor (no intensity stored).
        missing_slots: starts (epoch ms, ascending) of the slots with kWh but no intensity.
    """

    kgco2e: float
    grid_kwh: float
    fallback_kwh: float
    missing_slots: tuple[int, ...]


def grid_emissions(
    kwh_by_slot: Mapping[int, float],
    intensity: Mapping[int, float],
    *,
    generation_kg_per_kwh: float,
    td_kg_per_kwh: float,
) -> GridEmissions:
    """Price each slot's kWh at its intensity, falling back to the annual factor.

    Args:
        kwh_by_slot: slot start (epoch ms, on a half-hour) -> grid electricity plus EV
            charging kWh metered in that slot.
        intensity: slot start -> gCO2/kWh (from :func:`fetch_grid_intensity`).
        generation_kg_per_kwh: the annual ``electricity.generation`` factor (fallback).
        td_kg_per_kwh: the ``electricity.td`` factor, added to every kWh either way.

    Raises:
        ValueError: a slot key is not on a half-hour.
    """
    parts: list[float] = []
    grid_kwh: list[float] = []
    fallback_kwh: list[float] = []
    missing: list[int] = []
    for slot, kwh in sorted(kwh_by_slot.items()):
        if slot % SLOT_MS:
            raise ValueError(f"slot {slot} is not the start of a half-hour")
        gco2 = intensity.get(slot)
        if gco2 is None:
            parts.append(kwh * (generation_kg_per_kwh + td_kg_per_kwh))
            fallback_kwh.append(kwh)
            missing.append(slot)
        else:
            parts.append(kwh * (gco2 / 1000 + td_kg_per_kwh))
            grid_kwh.append(kwh)
    return GridEmissions(
        kgco2e=math.fsum(parts), grid_kwh=math.fsum(grid_kwh),
        fallback_kwh=math.fsum(fallback_kwh), missing_slots=tuple(missing),
    )
