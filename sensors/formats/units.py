"""SenML units (RFC 8428 and the secondary units of RFC 8798, IANA "SenML Units" and
"Secondary Units" registries) accepted for each contract field, and how to convert them.

A record's unit must be one its target field accepts; its value is then converted to the
contract's unit (``value * factor + offset``) before the device's ``scale``, if any, is
applied. A record without a unit is taken to be in the contract's unit already.
"""

from __future__ import annotations

from sensors.readings import POLLUTANT_FIELDS

# unit -> (factor, offset) into the contract unit
Conversion = tuple[float, float]
_CONCENTRATION: dict[str, Conversion] = {"ug/m3": (1.0, 0.0), "kg/m3": (1e9, 0.0)}

UNITS: dict[str, dict[str, Conversion]] = {
    "energy_kwh": {"kWh": (1.0, 0.0), "Wh": (1e-3, 0.0), "J": (1 / 3.6e6, 0.0)},
    "power_kw": {"kW": (1.0, 0.0), "W": (1e-3, 0.0)},
    "interval_s": {"s": (1.0, 0.0), "ms": (1e-3, 0.0), "min": (60.0, 0.0), "h": (3600.0, 0.0)},
    "link_km": {"km": (1.0, 0.0), "m": (1e-3, 0.0)},
    "avg_speed_kph": {"km/h": (1.0, 0.0), "m/s": (3.6, 0.0)},
    "co2_ppm": {"ppm": (1.0, 0.0), "/": (1e6, 0.0)},
    "temperature_c": {"Cel": (1.0, 0.0), "K": (1.0, -273.15)},
    "humidity_pct": {"%RH": (1.0, 0.0), "%": (1.0, 0.0)},
    **{name: _CONCENTRATION for name in POLLUTANT_FIELDS},
}
COUNT_UNITS: dict[str, Conversion] = {"count": (1.0, 0.0)}


def conversion(target: str, unit: str) -> Conversion | None:
    """How a value in ``unit`` becomes ``target``'s unit; None when it cannot."""
    table = COUNT_UNITS if target.startswith("counts.") else UNITS.get(target, {})
    return table.get(unit)


def accepted(target: str) -> list[str]:
    """The units ``target`` accepts (for messages)."""
    return sorted(COUNT_UNITS if target.startswith("counts.") else UNITS.get(target, {}))
