"""Grid electricity priced at the regional half-hourly carbon intensity (``method=grid_intensity``).

Method (docs/methodology.md, "Time-varying grid intensity"): each half-hour slot's grid
electricity and EV-charging kWh x (the slot's NESO regional intensity / 1000 + the DESNZ
T&D factor). A slot without a stored intensity falls back to the annual method
(generation + T&D factors) and is reported: its kWh in ``fallback_kwh``, its start in
``missing_slots``.

Slots: UTC half-hours ``[start, start + 30 min)``. A reading belongs to the slot that
contains its timestamp (``ts``, the end of its interval), exactly as the annual method
puts it in the bucket that contains its timestamp (``GROUP BY time(30m)`` without an
offset, like :func:`api.queries.fetch_activity`): a reading stamped 10:30:00 is in the
10:30 slot and in the same output bucket with both methods. Pricing by the slot its
interval *ends* in (``GROUP BY time(30m, 1ms)``) would move such a reading to the
previous bucket under ``method=grid_intensity`` only; see docs/methodology.md.

The pricing itself is :func:`api.indicators.summarise` (``EnergyActivity.gco2_kwh``);
``fetch_grid_intensity`` reads the intensities it needs.
"""

from __future__ import annotations

import math

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


def slot_start(ms: int) -> int:
    """The start of the UTC half-hour containing ``ms``."""
    return ms - ms % SLOT_MS


def reading_slot(ts_ms: int) -> int:
    """The slot a reading stamped ``ts_ms`` belongs to: the one containing ``ts_ms``."""
    return slot_start(ts_ms)


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
