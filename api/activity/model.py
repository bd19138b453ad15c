"""What was measured: activity per sensor and bucket, as every reader returns it. Pure data.

Readers of raw readings (:mod:`api.activity.raw`) and of rollups
(:mod:`api.activity.rollups`) return these; :mod:`api.carbon.pricing` prices them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sensors.readings import Carrier, VehicleClass


@dataclass(frozen=True, slots=True)
class EnergyActivity:
    """kWh metered by one sensor (and carrier) in one bucket."""

    bucket_ms: int | None
    site: str
    sensor: str
    carrier: Carrier
    energy_kwh: float
    year: int | None = None  # calendar year of the activity; None: the latest factors
    readings: int = 0  # readings behind the figure (for the record, not the arithmetic)
    # method=grid_intensity: the regional intensity (gCO2/kWh) of the activity's half-hour
    # slot; None: priced with the annual factors (the default, and the fallback)
    gco2_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class TransportActivity:
    """One vehicle class counted by one sensor in one bucket."""

    bucket_ms: int | None
    site: str
    sensor: str
    vehicle_class: VehicleClass
    vehicle_km: float
    counts: int
    unattributed_counts: int = 0
    year: int | None = None  # calendar year of the activity; None: the latest factors
    readings: int = 0  # readings of the sensor in the bucket (the same for every class)
