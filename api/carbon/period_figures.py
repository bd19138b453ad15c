"""One period's figures for the indicators: activity and emissions by carrier and class,
the shares and intensities computed from them. Pure; no I/O.

Formulas: docs/methodology.md, "Indicators". A ratio whose denominator is zero is ``None``
(JSON ``null``), never NaN, an infinity or an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.activity.completeness import ratio
from api.carbon.pricing import EmissionsSummary
from sensors.readings import Carrier, VehicleClass
from sensors.topics import Domain

CARRIERS = tuple(carrier.value for carrier in Carrier)
CLASSES = tuple(vc.value for vc in VehicleClass)
ACTIVE_CLASSES = (VehicleClass.BICYCLE.value, VehicleClass.PEDESTRIAN.value)
# Carriers whose kWh are energy *used* in the town centre (see the methodology for EV).
USED_CARRIERS = (Carrier.ELECTRICITY.value, Carrier.EV_CHARGING.value, Carrier.GAS.value,
                 Carrier.SOLAR_PV.value)
ELECTRICITY_CARRIERS = (Carrier.ELECTRICITY.value, Carrier.EV_CHARGING.value,
                        Carrier.SOLAR_PV.value)
# summarise's grouping that keeps carriers and vehicle classes apart.
GROUP_BY = ("domain", "carrier", "vehicle_class")
KG_PER_TONNE = 1000.0
G_PER_KG = 1000.0


@dataclass(frozen=True, slots=True)
class PeriodActivity:
    """One period's activity and emissions, by carrier and by vehicle class.

    ``counts`` are *all* counts (with or without a link length); ``unattributed_counts``
    is the part of them without a link length (no vehicle-km, no kgCO2e).
    """

    energy_kwh: Mapping[str, float] = field(default_factory=dict)
    energy_kgco2e: Mapping[str, float] = field(default_factory=dict)
    avoided_kgco2e: float = 0.0
    vehicle_km: Mapping[str, float] = field(default_factory=dict)
    transport_kgco2e: Mapping[str, float] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    unattributed_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def energy_kg(self) -> float:
        """Gross energy emissions (electricity, EV charging, gas), kgCO2e."""
        return math.fsum(self.energy_kgco2e.values())

    @property
    def transport_kg(self) -> float:
        """Transport emissions, kgCO2e."""
        return math.fsum(self.transport_kgco2e.values())

    def kwh(self, carrier: str) -> float:
        """kWh of one carrier (0 when none was metered)."""
        return self.energy_kwh.get(carrier, 0.0)


def period_activity(summary: EmissionsSummary) -> PeriodActivity:
    """Regroup a summary made with ``group_by=("domain", "carrier", "vehicle_class")``.

    Rows are summed (``math.fsum``) per carrier and per class, so the result is the same
    whether the summary holds one row per carrier or several (e.g. per bucket).

    Raises:
        KeyError: the summary was grouped without those keys.
    """
    kwh: dict[str, list[float]] = {carrier: [] for carrier in CARRIERS}
    energy_kg: dict[str, list[float]] = {carrier: [] for carrier in CARRIERS}
    vkm: dict[str, list[float]] = {vc: [] for vc in CLASSES}
    transport_kg: dict[str, list[float]] = {vc: [] for vc in CLASSES}
    counts: dict[str, int] = dict.fromkeys(CLASSES, 0)
    unattributed: dict[str, int] = dict.fromkeys(CLASSES, 0)
    for row in summary.rows:
        carrier, vc, act = row.keys["carrier"], row.keys["vehicle_class"], row.activity
        if row.keys["domain"] == Domain.ENERGY.value and carrier in kwh:
            # Solar is generated, not consumed: summarise keeps it apart.
            solar = carrier == Carrier.SOLAR_PV.value
            kwh[carrier].append(act.generated_kwh if solar else act.energy_kwh)
            energy_kg[carrier].append(row.kgco2e)
        elif row.keys["domain"] == Domain.TRANSPORT.value and vc in vkm:
            vkm[vc].append(act.vehicle_km)
            transport_kg[vc].append(row.kgco2e)
            counts[vc] += act.counts + act.unattributed_counts
            unattributed[vc] += act.unattributed_counts
    return PeriodActivity(
        energy_kwh=_fsums(kwh), energy_kgco2e=_fsums(energy_kg),
        avoided_kgco2e=summary.avoided_kgco2e, vehicle_km=_fsums(vkm),
        transport_kgco2e=_fsums(transport_kg), counts=counts, unattributed_counts=unattributed,
    )


def _fsums(values: Mapping[str, list[float]]) -> dict[str, float]:
    return {key: math.fsum(parts) for key, parts in values.items()}


def totals_tco2e(period: PeriodActivity) -> dict[str, float]:
    """Gross tCO2e by domain and in all: ``total = energy + transport``."""
    energy, transport = period.energy_kg, period.transport_kg
    return {"energy": energy / KG_PER_TONNE, "transport": transport / KG_PER_TONNE,
            "total": (energy + transport) / KG_PER_TONNE}


def change(current: Mapping[str, float],
           previous: Mapping[str, float] | None) -> dict[str, Any]:
    """Per key: ``abs_tco2e = current - previous``; ``pct = 100 x abs / previous`` (None at 0).

    ``previous`` None (the comparison period has no data): every change is None.
    """
    out: dict[str, Any] = {}
    for key, now in current.items():
        if previous is None:
            out[key] = {"abs_tco2e": None, "pct": None}
            continue
        delta = now - previous[key]
        pct = ratio(delta, previous[key])
        out[key] = {"abs_tco2e": delta, "pct": None if pct is None else 100.0 * pct}
    return out


def vehicle_class_share(period: PeriodActivity) -> dict[str, dict[str, float | int | None]]:
    """Per class: its vehicle-km, kgCO2e and counts, and their shares of the whole.

    Shares of vehicle-km and of counts are of all seven classes; the share of emissions
    is of transport kgCO2e (bicycles and pedestrians: 0).
    """
    all_vkm = math.fsum(period.vehicle_km.get(vc, 0.0) for vc in CLASSES)
    all_kg = period.transport_kg
    all_counts = sum(period.counts.get(vc, 0) for vc in CLASSES)
    out: dict[str, dict[str, float | int | None]] = {}
    for vc in CLASSES:
        vkm, kg, n = (period.vehicle_km.get(vc, 0.0), period.transport_kgco2e.get(vc, 0.0),
                      period.counts.get(vc, 0))
        out[vc] = {
            "vehicle_km": vkm, "share_of_vehicle_km": ratio(vkm, all_vkm),
            "kgco2e": kg, "share_of_transport_emissions": ratio(kg, all_kg),
            "counts": n, "share_of_counts": ratio(n, all_counts),
        }
    return out


def active_travel_share(period: PeriodActivity) -> float | None:
    """(bicycle + pedestrian counts) / counts of all seven classes, links without length too."""
    active = sum(period.counts.get(vc, 0) for vc in ACTIVE_CLASSES)
    return ratio(active, sum(period.counts.get(vc, 0) for vc in CLASSES))


def energy_used_kwh(period: PeriodActivity) -> float:
    """Electricity imported + EV charging + gas + solar generated (assumed used on site)."""
    return math.fsum(period.kwh(carrier) for carrier in USED_CARRIERS)


def energy_intensity_g_per_kwh(period: PeriodActivity) -> float | None:
    """Gross energy emissions in gCO2e per kWh of energy used."""
    return ratio(period.energy_kg * G_PER_KG, energy_used_kwh(period))


def solar_share(period: PeriodActivity) -> float | None:
    """Solar generated / (electricity imported + EV charging + solar generated)."""
    electricity = math.fsum(period.kwh(carrier) for carrier in ELECTRICITY_CARRIERS)
    return ratio(period.kwh(Carrier.SOLAR_PV.value), electricity)


def period_activity_body(period: PeriodActivity) -> dict[str, Any]:
    """The activity the figures were computed from, for tracing them by hand."""
    return {
        "energy_kwh": {carrier: period.kwh(carrier) for carrier in CARRIERS},
        "energy_used_kwh": energy_used_kwh(period),
        "energy_kgco2e": {carrier: period.energy_kgco2e.get(carrier, 0.0)
                          for carrier in CARRIERS},
        "avoided_kgco2e": period.avoided_kgco2e,
        "vehicle_km": {vc: period.vehicle_km.get(vc, 0.0) for vc in CLASSES},
        "transport_kgco2e": {vc: period.transport_kgco2e.get(vc, 0.0) for vc in CLASSES},
        "counts": {vc: period.counts.get(vc, 0) for vc in CLASSES},
        "unattributed_counts": {vc: period.unattributed_counts.get(vc, 0) for vc in CLASSES},
    }
