"""Grid electricity priced at the regional half-hourly carbon intensity (``method=grid_intensity``).

Each UTC half-hour slot's grid electricity and EV-charging kWh is priced at the slot's
stored NESO intensity alone (it is CO2 per kWh delivered, transmission and distribution
losses included, so no DESNZ T&D factor is added); a slot without one falls back to the
annual factors (generation + T&D) and is reported (docs/methodology.md, "Time-varying
grid intensity"). A reading belongs to the slot that contains its timestamp, as in the
annual method's ``GROUP BY time(30m)`` buckets, so both methods put it in the same output
bucket.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.carbon.parts import GRID_INTENSITY_ID
from api.carbon.pricing import EmissionsSummary
from api.clock import TimeWindow, format_ms, london_year
from api.influx import InfluxStore, QueryParam
from sensors.grid import SLOT_MS, region_slug
from sensors.readings import Carrier
from sensors.storage import GRID_ACTUAL, GRID_FORECAST, Measurement
from sensors.timestamps import NS_PER_MS

GRID_SOURCE = "NESO Carbon Intensity API, regional forecast (CC BY 4.0)"
GRID_BASIS = ("generation CO2 per kWh delivered, transmission and distribution losses "
              "included (NESO); regional figures are forecasts, the last one stored before "
              "each half-hour passed")
GRID_COMPARABILITY = (
    "Not comparable with the DESNZ location-based figure (method=annual): NESO's intensity "
    "is CO2 only (DESNZ factors are CO2e, with CH4 and N2O), a half-hourly regional "
    "forecast for North West England (DESNZ: an annual UK average of a year about two "
    "years earlier), and it includes the T&D losses DESNZ reports separately in Scope 3. "
    "Use it to see when electricity is cleaner, not for a reported Scope 2 total.")
GRID_URL = "https://carbonintensity.org.uk"
_GRID_CARRIERS = (Carrier.ELECTRICITY, Carrier.EV_CHARGING)
_FIRST_MISSING = 10

# Intensity per slot: one point per slot (a refreshed forecast overwrote the older one).
# Built from constants only; the bounds and region travel as bound parameters.
GRID_INTENSITY_BY_SLOT = (
    f"SELECT {GRID_FORECAST}, {GRID_ACTUAL} FROM {Measurement.GRID_INTENSITY} "  # noqa: S608
    "WHERE time >= $start AND time < $end AND regionid = $regionid"
)


def slot_start(ms: int) -> int:
    """The start of the UTC half-hour containing ``ms``: the slot a reading stamped
    ``ms`` belongs to."""
    return ms - ms % SLOT_MS


async def fetch_grid_intensity(
    store: InfluxStore, window: TimeWindow, region_id: int
) -> dict[int, float]:
    """Slot start (epoch ms) -> gCO2/kWh for every slot a reading in ``window`` can fall in.

    The measured ``actual`` is used where the feed gave one, else the ``forecast`` (the
    regional feed is forecast-only; the stored forecast is the last one received before
    the slot passed, since each refresh overwrites the slot).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    first_slot = slot_start(window.start_ns // NS_PER_MS)
    params: dict[str, QueryParam] = {
        "start": first_slot * NS_PER_MS, "end": window.end_ns, "regionid": str(region_id),
    }
    (series,) = await store.query([GRID_INTENSITY_BY_SLOT], params)
    intensity: dict[int, float] = {}
    for one in series:
        for row in one.rows():
            value = row.get(GRID_ACTUAL)
            if value is None:
                value = row.get(GRID_FORECAST)
            if value is not None and math.isfinite(float(value)):
                intensity[slot_start(int(row["time"]))] = float(value)
    return intensity


@dataclass(frozen=True, slots=True)
class GridActivity:
    """Raw activity per half-hour slot, grid kWh carrying its slot's intensity."""

    energy: list[EnergyActivity]
    transport: list[TransportActivity]
    block: dict[str, Any]
    """The answer's ``grid_intensity`` block (:class:`api.schemas.GridIntensityOut`)."""
    mean_gco2_kwh: float | None
    """kWh-weighted mean intensity of the kWh priced at it; None when none was."""


async def read_grid_activity(store: InfluxStore, window: TimeWindow,
                             region_id: int) -> GridActivity:
    """Raw activity per half-hour slot, electricity and EV charging carrying the intensity.

    Slots are ``GROUP BY time(30m)`` buckets: a reading is in the slot containing its
    timestamp, as in the annual method's buckets.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    energy, transport = await fetch_activity(store, window, SLOT_MS // 1000)
    intensity = await fetch_grid_intensity(store, window, region_id)
    priced: list[EnergyActivity] = []
    grid_kwh: list[float] = []
    fallback_kwh: list[float] = []
    weighted: list[float] = []
    used: set[int] = set()
    missing: set[int] = set()
    for meter in energy:
        slot = meter.bucket_ms
        if meter.carrier not in _GRID_CARRIERS or slot is None:
            priced.append(meter)
            continue
        gco2 = intensity.get(slot)
        if gco2 is None:
            fallback_kwh.append(meter.energy_kwh)
            missing.add(slot)
            priced.append(meter)
        else:
            grid_kwh.append(meter.energy_kwh)
            weighted.append(meter.energy_kwh * gco2)
            used.add(slot)
            priced.append(replace(meter, gco2_kwh=gco2))
    grid_total = math.fsum(grid_kwh)
    block = {
        "region_id": region_id, "region": region_slug(region_id), "unit": "gCO2/kWh",
        "source": GRID_SOURCE, "basis": GRID_BASIS, "comparability": GRID_COMPARABILITY,
        "td_added": False, "grid_kwh": grid_total,
        "fallback_kwh": math.fsum(fallback_kwh), "slots_used": len(used),
        "missing_slots": len(missing),
        "first_missing": [format_ms(slot) for slot in sorted(missing)[:_FIRST_MISSING]],
    }
    mean = math.fsum(weighted) / grid_total if grid_total else None
    return GridActivity(priced, transport, block, mean)


def grid_factor(summary: EmissionsSummary, window: TimeWindow,
                mean_gco2_kwh: float) -> dict[str, Any]:
    """The ``electricity.grid_intensity`` entry: the kWh-weighted mean over ``grid_kwh``.

    Listed only when some kWh was priced at the intensity (a factor's value is a number);
    with none, the ``grid_intensity`` block says so (``grid_kwh`` 0, every slot missing).
    """
    return {
        "id": GRID_INTENSITY_ID, "value": mean_gco2_kwh, "co2_value": mean_gco2_kwh,
        "unit": "gCO2/kWh",
        "source": GRID_SOURCE, "year": london_year((window.end_ns - 1) // NS_PER_MS),
        "scope": "Scope 2 equivalent (generation CO2 per kWh delivered, T&D losses "
                 "included; regional forecast)",
        "url": GRID_URL,
        "notes": "kWh-weighted mean of the half-hourly regional intensities applied in "
                 "this answer; per slot: kWh x gCO2/kWh / 1000, nothing added (NESO's "
                 "intensity already includes transmission and distribution losses). "
                 + GRID_COMPARABILITY,
        "origin": "packaged",
        "applied": any(factor_id == GRID_INTENSITY_ID for factor_id, _ in summary.applied),
    }
