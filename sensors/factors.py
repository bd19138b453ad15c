"""The emission-factor table shipped with the package (``sensors/data/factors.json``).

Pure data: the factors, their units and where each number comes from (DESNZ 2025
conversion factors; the bus row is derived, see ``docs/methodology.md``). The
arithmetic that applies them lives in ``api/indicators.py``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensors.readings import Carrier, VehicleClass

ELECTRICITY_GENERATION = "electricity.generation"
ELECTRICITY_TD = "electricity.td"
GAS = "gas"
VEHICLE_PREFIX = "vehicle."

# Contract section 6: these ids must always be in force.
REQUIRED_IDS = (
    ELECTRICITY_GENERATION,
    ELECTRICITY_TD,
    GAS,
    *(f"{VEHICLE_PREFIX}{vc.value}" for vc in (
        VehicleClass.CAR, VehicleClass.MOTORCYCLE, VehicleClass.VAN,
        VehicleClass.HGV, VehicleClass.BUS,
    )),
)

# Walking and cycling emit nothing at the point of travel: no factor row, zero.
ZERO_EMISSION_CLASSES = frozenset({VehicleClass.BICYCLE, VehicleClass.PEDESTRIAN})

# Which factors each energy carrier's kWh are multiplied by (solar is avoided, not emitted).
CARRIER_FACTORS: dict[Carrier, tuple[str, ...]] = {
    Carrier.ELECTRICITY: (ELECTRICITY_GENERATION, ELECTRICITY_TD),
    Carrier.EV_CHARGING: (ELECTRICITY_GENERATION, ELECTRICITY_TD),
    Carrier.GAS: (GAS,),
    Carrier.SOLAR_PV: (ELECTRICITY_GENERATION,),
}


def vehicle_factor_id(vehicle_class: VehicleClass) -> str | None:
    """The factor id of a vehicle class, or None for classes that emit nothing."""
    if vehicle_class in ZERO_EMISSION_CLASSES:
        return None
    return f"{VEHICLE_PREFIX}{vehicle_class.value}"


class EmissionFactor(BaseModel):
    """One row of the table: a value, its unit and its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str
    scope: str
    source: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")
    year: int = Field(ge=2000, le=2100)
    notes: str = ""


class FactorTable(BaseModel):
    """The factors in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    note: str = ""
    factors: tuple[EmissionFactor, ...]

    @model_validator(mode="after")
    def _complete(self) -> FactorTable:
        ids = [factor.id for factor in self.factors]
        if len(ids) != len(set(ids)):
            raise ValueError("factor ids must be unique")
        missing = [required for required in REQUIRED_IDS if required not in ids]
        if missing:
            raise ValueError(f"factor table lacks {missing}")
        return self

    def factor(self, factor_id: str) -> EmissionFactor:
        """The factor with this id.

        Raises:
            KeyError: no such factor.
        """
        for factor in self.factors:
            if factor.id == factor_id:
                return factor
        raise KeyError(factor_id)

    def value(self, factor_id: str) -> float:
        """The value of the factor with this id (kgCO2e per unit).

        Raises:
            KeyError: no such factor.
        """
        return self.factor(factor_id).value


@cache
def load_factors() -> FactorTable:
    """The factor table shipped with the package (parsed once)."""
    text = files("sensors").joinpath("data/factors.json").read_text(encoding="utf-8")
    return FactorTable.model_validate_json(text)
