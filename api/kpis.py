"""Indicator arithmetic for ``GET /api/v1/indicators``: numbers in, ratios out. No I/O.

Every formula is in ``docs/methodology.md`` (section "Indicators"). The carbon itself
comes from :func:`api.indicators.summarise`; this module only regroups its rows and
divides. A ratio whose denominator is zero is ``None`` (JSON ``null``), never NaN, an
infinity or an error: a report must be able to say "no data" rather than "0 %".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api.indicators import EmissionsSummary
from sensors.readings import Carrier, VehicleClass
from sensors.registry import Registry
from sensors.topics import Domain

CARRIERS = tuple(carrier.value for carrier in Carrier)
CLASSES = tuple(vc.value for vc in VehicleClass)
ACTIVE_CLASSES = (VehicleClass.BICYCLE.value, VehicleClass.PEDESTRIAN.value)
# Carriers whose kWh are energy *used* in the town centre (see the methodology for EV).
USED_CARRIERS = (Carrier.ELECTRICITY.value, Carrier.EV_CHARGING.value, Carrier.GAS.value,
                 Carrier.SOLAR_PV.value)
ELECTRICITY_CARRIERS = (Carrier.ELECTRICITY.value, Carrier.EV_CHARGING.value,
                        Carrier.SOLAR_PV.value)
KG_PER_TONNE = 1000.0
G_PER_KG = 1000.0


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero."""
    if denominator == 0:
        return None
    return numerator / denominator


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


def change(current: Mapping[str, float], previous: Mapping[str, float]) -> dict[str, Any]:
    """Per key: ``abs_tco2e = current - previous``; ``pct = 100 x abs / previous`` (None at 0)."""
    out: dict[str, Any] = {}
    for key, now in current.items():
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


def activity_body(period: PeriodActivity) -> dict[str, Any]:
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


# --- completeness ---------------------------------------------------------------------

COMPLETENESS_METHOD = (
    "expected = window seconds / interval_s per sensor (registry interval; for sensors "
    "not in the registry the last interval_s they reported in the window; air-quality "
    "sensors outside the registry report none and are left out); received = readings "
    "stored in the window (energy: energy_kwh, transport: interval_s, air quality: the "
    "largest count of any one field or seq); share = sum(min(received, expected)) / "
    "sum(expected), capped per sensor so that one sensor reporting too often cannot hide "
    "another's gaps; share_uncapped = sum(received) / sum(expected); lost = "
    "(max(seq) - min(seq) + 1) - count(seq) within the window, for sensors that send seq"
)


@dataclass(frozen=True, slots=True)
class StoredReadings:
    """What the store holds for one sensor in the window."""

    domain: str
    sensor: str
    site: str
    received: int
    reported_interval_s: int | None = None
    seq_min: int | None = None
    seq_max: int | None = None
    seq_count: int = 0


def lost_messages(stored: StoredReadings) -> int | None:
    """Messages missing between the first and last ``seq`` seen; None without seq.

    Also None when seq went backwards or repeated (fewer numbers spanned than
    received, e.g. a sensor restart): then no estimate is honest.
    """
    if not stored.seq_count or stored.seq_min is None or stored.seq_max is None:
        return None
    lost = stored.seq_max - stored.seq_min + 1 - stored.seq_count
    return lost if lost >= 0 else None


def _sensor_entry(stored: StoredReadings, registered: bool, interval_s: int | None,
                  window_s: float) -> dict[str, Any]:
    expected = window_s / interval_s if interval_s else None
    seq = None
    if stored.seq_count:
        seq = {"first": stored.seq_min, "last": stored.seq_max, "received": stored.seq_count,
               "lost": lost_messages(stored)}
    share = None if expected is None else ratio(stored.received, expected)
    return {
        "sensor": stored.sensor, "site": stored.site, "domain": stored.domain,
        "registered": registered, "interval_s": interval_s,
        "interval_source": None if interval_s is None else
        ("registry" if registered else "reported"),
        "expected": expected, "received": stored.received,
        "share": None if share is None else min(share, 1.0), "share_uncapped": share,
        "seq": seq,
    }


def _aggregate(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    counted = [entry for entry in entries if entry["expected"] is not None]
    expected = math.fsum(entry["expected"] for entry in counted)
    received = sum(entry["received"] for entry in counted)
    capped = math.fsum(min(entry["received"], entry["expected"]) for entry in counted)
    losses = [entry["seq"]["lost"] for entry in counted
              if entry["seq"] is not None and entry["seq"]["lost"] is not None]
    share = ratio(capped, expected)
    return {
        "sensors": len(counted), "expected": expected, "received": received,
        "received_capped": capped, "share": None if share is None else min(share, 1.0),
        "share_uncapped": ratio(received, expected),
        "lost_messages": sum(losses), "sensors_with_seq": len(losses),
    }


def completeness(registry: Registry, stored: Iterable[StoredReadings],
                 window_s: float) -> dict[str, Any]:
    """Share of expected readings received in a window of ``window_s`` seconds.

    Every registered sensor is expected (a silent one counts with 0 received); sensors
    not in the registry count when they reported an ``interval_s`` in the window.
    """
    found = {(one.domain, one.sensor): one for one in stored}
    entries: list[dict[str, Any]] = []
    for sensor in registry.sensors:
        key = (sensor.domain.value, sensor.id)
        one = found.pop(key, None) or StoredReadings(sensor.domain.value, sensor.id,
                                                     sensor.site, 0)
        entries.append(_sensor_entry(one, True, sensor.interval_s, window_s))
    for key in sorted(found):
        one = found[key]
        entries.append(_sensor_entry(one, False, one.reported_interval_s, window_s))
    return {
        **_aggregate(entries),
        "by_domain": {domain.value: _aggregate(e for e in entries
                                               if e["domain"] == domain.value)
                      for domain in Domain},
        "without_interval": [e["sensor"] for e in entries if e["expected"] is None],
        "method": COMPLETENESS_METHOD,
        "per_sensor": entries,
    }
