"""One activity priced into its parts: which factor row, which scope, kgCO2e and kgCO2. No I/O.

A kWh of grid electricity is two parts (generation, Scope 2 location-based; T&D, Scope 3),
four with well-to-tank (the WTT of generation and of T&D, Scope 3); gas is one (Scope 1),
two with WTT; a vehicle-km is one "territorial transport" part, two with WTT. Grouping and
totals are :func:`api.carbon.pricing.summarise`'s job. docs/methodology.md ("What is
counted", "Scopes and gases") gives every rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.activity.model import EnergyActivity, TransportActivity
from sensors.factors import (
    CAR,
    ELECTRICITY_GENERATION,
    ELECTRICITY_TD,
    GAS,
    FactorTable,
    FleetMix,
    car_fuel_id,
    vehicle_factor_id,
    wtt_id,
)
from sensors.readings import Carrier, VehicleClass

GRID_INTENSITY_ID = "electricity.grid_intensity"  # the regional feed, in row factor lists
SCOPE_1 = "scope_1"
SCOPE_2 = "scope_2_location"
SCOPE_3 = "scope_3"
TRANSPORT = "territorial_transport"
SCOPES = (SCOPE_1, SCOPE_2, SCOPE_3, TRANSPORT)
GRID_CARRIERS = (Carrier.ELECTRICITY, Carrier.EV_CHARGING)

FactorKey = tuple[str, int]  # factor id, year of its row


@dataclass(frozen=True, slots=True)
class PricingOptions:
    """How activity is priced beyond the defaults (every default is the contract's method).

    Attributes:
        wtt: add the well-to-tank parts (Scope 3) to the total.
        ev_memo: EV charging is reported beside the total (``memo_kgco2e``), not in it.
        fleet_mix: car vehicle-km priced at this mix of DESNZ's per-fuel rows; None: the
            "unknown fuel" average car row.
        factor_year: price all activity with this year's factor set; None: each
            activity with its own London calendar year's set.
    """

    wtt: bool = False
    ev_memo: bool = False
    fleet_mix: FleetMix | None = None
    factor_year: int | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """The emissions of one activity under one factor (or one blend of factor rows)."""

    scope: str
    kgco2e: float
    kgco2: float | None  # None: a row applied has no checked CO2 part
    factors: tuple[FactorKey, ...]
    memo: bool = False  # EV charging with ev_charging=memo: beside the total, not in it
    wtt: bool = False


@dataclass(frozen=True, slots=True)
class Priced:
    """The parts of one activity, and the solar it avoided (generation, and the T&D share)."""

    parts: tuple[Part, ...] = ()
    avoided_kgco2e: float = 0.0
    avoided_td_kgco2e: float = 0.0
    avoided_factors: tuple[FactorKey, ...] = ()


_Rate = tuple[float, float | None, tuple[FactorKey, ...]]  # value, CO2 part, rows used


class Pricer:
    """Resolves factor rows once per (id, year) and prices activities into parts."""

    def __init__(self, table: FactorTable, options: PricingOptions) -> None:
        self.table = table
        self.options = options
        self._rates: dict[tuple[str, int | None], _Rate] = {}

    def rate(self, factor_id: str, year: int | None) -> _Rate:
        """The row of ``factor_id`` for activity of ``year`` (or the forced factor year).

        Raises:
            KeyError: the table has no row of this id.
        """
        chosen = self.options.factor_year if self.options.factor_year is not None else year
        key = (factor_id, chosen)
        if key not in self._rates:
            # Resolved once per (id, year): a year of hourly activity has ~10^5 entries.
            if factor_id in (CAR, wtt_id(CAR)) and self.options.fleet_mix is not None:
                self._rates[key] = self._mix(factor_id, chosen, self.options.fleet_mix)
            else:
                row = self.table.factor(factor_id, chosen)
                self._rates[key] = (row.value, row.co2_value, ((row.id, row.year),))
        return self._rates[key]

    def _mix(self, factor_id: str, year: int | None, mix: FleetMix) -> _Rate:
        prefix = "wtt." if factor_id.startswith("wtt.") else ""
        rows = [(share, self.table.factor(f"{prefix}{car_fuel_id(fuel)}", year))
                for fuel, share in mix.shares if share]
        value = math.fsum(share * row.value for share, row in rows)
        co2 = (None if any(row.co2_value is None for _, row in rows)
               else math.fsum(share * (row.co2_value or 0.0) for share, row in rows))
        return value, co2, tuple((row.id, row.year) for _, row in rows)

    def _part(self, scope: str, amount: float, factor_id: str, year: int | None,
              *, memo: bool = False, wtt: bool = False) -> Part:
        value, co2, keys = self.rate(factor_id, year)
        return Part(scope, amount * value, None if co2 is None else amount * co2, keys,
                    memo, wtt)

    def energy(self, meter: EnergyActivity) -> Priced:
        """Parts of metered kWh (solar: none, only what it avoided)."""
        kwh, year = meter.energy_kwh, meter.year
        if meter.carrier is Carrier.SOLAR_PV:
            gen, _, gen_keys = self.rate(ELECTRICITY_GENERATION, year)
            td, _, td_keys = self.rate(ELECTRICITY_TD, year)
            return Priced((), kwh * gen, kwh * td, gen_keys + td_keys)
        if meter.carrier is Carrier.GAS:
            parts = [self._part(SCOPE_1, kwh, GAS, year)]
            if self.options.wtt:
                parts.append(self._part(SCOPE_3, kwh, wtt_id(GAS), year, wtt=True))
            return Priced(tuple(parts))
        memo = self.options.ev_memo and meter.carrier is Carrier.EV_CHARGING
        if meter.gco2_kwh is not None:
            # NESO's regional intensity is gCO2 per kWh *delivered*: it already includes
            # transmission and distribution losses, so no DESNZ T&D part is added.
            grid_year = self.options.factor_year or year or 0
            kg = kwh * meter.gco2_kwh / 1000
            parts = [Part(SCOPE_2, kg, kg, ((GRID_INTENSITY_ID, grid_year),), memo)]
        else:
            parts = [self._part(SCOPE_2, kwh, ELECTRICITY_GENERATION, year, memo=memo),
                     self._part(SCOPE_3, kwh, ELECTRICITY_TD, year, memo=memo)]
        if self.options.wtt:
            parts += [self._part(SCOPE_3, kwh, wtt_id(ELECTRICITY_GENERATION), year,
                                 memo=memo, wtt=True),
                      self._part(SCOPE_3, kwh, wtt_id(ELECTRICITY_TD), year,
                                 memo=memo, wtt=True)]
        return Priced(tuple(parts))

    def transport(self, traffic: TransportActivity) -> Priced:
        """Parts of one class's vehicle-km (walking and cycling: none)."""
        factor_id = vehicle_factor_id(traffic.vehicle_class)
        if factor_id is None:
            return Priced()
        vkm, year = traffic.vehicle_km, traffic.year
        parts = [self._part(TRANSPORT, vkm, factor_id, year)]
        if self.options.wtt:
            parts.append(self._part(SCOPE_3, vkm, wtt_id(factor_id), year, wtt=True))
        return Priced(tuple(parts))


def is_car(traffic: TransportActivity) -> bool:
    """Whether the activity is car traffic (the EV double-count disclosure needs it)."""
    return traffic.vehicle_class is VehicleClass.CAR
