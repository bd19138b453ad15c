"""The emission-factor table: packaged DESNZ sets per year, plus an operator's overrides.

Pure data: the factors, their units, their year and where each number comes from
(``sensors/data/factors.json``: DESNZ 2024, 2025 and 2026 conversion factors, with the
CO2 part of each row where a copy gives it; the bus rows are derived, see
``docs/methodology.md``). The arithmetic that applies them lives in
``api/carbon/pricing.py`` and ``api/carbon/parts.py``.

A factor id may have one row per year. Activity of calendar year ``Y`` uses, for each
id, the row of the latest year not after ``Y``; activity older than every row of an id
uses its earliest row. So a year newer than the latest set uses the latest set, and a
set that lacks an id (or an override that adds one id for a new year) falls back to
that id's nearest earlier row.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sensors.errors import FactorFileError
from sensors.jsonfile import read_json_file
from sensors.readings import Carrier, VehicleClass

ELECTRICITY_GENERATION = "electricity.generation"
ELECTRICITY_TD = "electricity.td"
GAS = "gas"
VEHICLE_PREFIX = "vehicle."
WTT_PREFIX = "wtt."  # well-to-tank rows: "wtt.<id of the factor they are upstream of>"
CAR = f"{VEHICLE_PREFIX}car"
# DESNZ's per-fuel rows for an average car (Business travel - land), usable in a fleet mix.
CAR_FUELS = ("petrol", "diesel", "hybrid", "plugin_hybrid", "battery_electric")

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

Origin = Literal["packaged", "override"]


def wtt_id(factor_id: str) -> str:
    """The id of the well-to-tank row upstream of ``factor_id`` (``wtt.gas``, ...)."""
    return f"{WTT_PREFIX}{factor_id}"


def car_fuel_id(fuel: str) -> str:
    """The id of DESNZ's average-car row for one fuel (``vehicle.car.petrol``, ...)."""
    return f"{CAR}.{fuel}"


class FleetMix(BaseModel):
    """Shares of car vehicle-km by fuel (petrol, diesel, ...), adding up to 1.

    The car factor of a year is then the share-weighted mean of DESNZ's per-fuel average-car
    rows of that year (docs/methodology.md, "Cars: the fleet mix").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    shares: tuple[tuple[str, float], ...]

    @model_validator(mode="after")
    def _valid(self) -> FleetMix:
        fuels = [fuel for fuel, _ in self.shares]
        unknown = sorted(set(fuels) - set(CAR_FUELS))
        if unknown:
            raise ValueError(f"unknown fuel(s) {unknown}; known: {', '.join(CAR_FUELS)}")
        if len(fuels) != len(set(fuels)):
            raise ValueError("a fuel is named twice")
        if any(not 0 <= share <= 1 for _, share in self.shares):
            raise ValueError("every share must be between 0 and 1")
        if abs(sum(share for _, share in self.shares) - 1) > 1e-6:
            raise ValueError("the shares must add up to 1")
        return self

    @classmethod
    def parse(cls, text: str) -> FleetMix:
        """``petrol=0.55,diesel=0.3,...`` (the SMARTPLACE_CAR_FLEET_MIX syntax).

        Raises:
            ValueError: not ``fuel=share`` pairs, an unknown fuel, or shares not adding to 1.
        """
        pairs: list[tuple[str, float]] = []
        for item in (part.strip() for part in text.split(",")):
            fuel, sep, share = item.partition("=")
            if not sep:
                raise ValueError(f"{item!r} is not fuel=share")
            try:
                pairs.append((fuel.strip(), float(share)))
            except ValueError:
                raise ValueError(f"{item!r}: the share is not a number") from None
        try:
            return cls(shares=tuple(pairs))
        except ValidationError as exc:
            raise ValueError("; ".join(str(error["msg"]) for error in exc.errors())) from None

    def text(self) -> str:
        """The mix in the syntax it is configured with."""
        return ",".join(f"{fuel}={share:g}" for fuel, share in self.shares)


def vehicle_factor_id(vehicle_class: VehicleClass) -> str | None:
    """The factor id of a vehicle class, or None for classes that emit nothing."""
    if vehicle_class in ZERO_EMISSION_CLASSES:
        return None
    return f"{VEHICLE_PREFIX}{vehicle_class.value}"


class EmissionFactor(BaseModel):
    """One row of the table: a value, its unit, its year and its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    value: float = Field(ge=0, allow_inf_nan=False)
    # The CO2 part of ``value`` (DESNZ's "kg CO2e of CO2 per unit"); None where no checked
    # copy gives it, so that a CO2-only figure says it is incomplete instead of guessing.
    co2_value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    unit: str
    scope: str
    source: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")
    year: int = Field(ge=2000, le=2100)
    notes: str = ""
    origin: Origin = "packaged"


class FactorTable(BaseModel):
    """The factors in force: one row per (id, year)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    note: str = ""
    factors: tuple[EmissionFactor, ...]

    @model_validator(mode="after")
    def _complete(self) -> FactorTable:
        keys = [(factor.id, factor.year) for factor in self.factors]
        if len(keys) != len(set(keys)):
            raise ValueError("each (id, year) may appear only once")
        ids = {factor.id for factor in self.factors}
        missing = [required for required in REQUIRED_IDS if required not in ids]
        if missing:
            raise ValueError(f"factor table lacks {missing}")
        return self

    def factor(self, factor_id: str, year: int | None = None) -> EmissionFactor:
        """The row of this id that applies to activity of ``year`` (None: the latest row).

        Raises:
            KeyError: no such factor.
        """
        rows = sorted((f for f in self.factors if f.id == factor_id), key=lambda f: f.year)
        if not rows:
            raise KeyError(factor_id)
        if year is None:
            return rows[-1]
        earlier = [row for row in rows if row.year <= year]
        return earlier[-1] if earlier else rows[0]

    def value(self, factor_id: str, year: int | None = None) -> float:
        """The value (kgCO2e per unit) of this id for activity of ``year``.

        Raises:
            KeyError: no such factor.
        """
        return self.factor(factor_id, year).value

    def in_force(self, years: Iterable[int]) -> tuple[EmissionFactor, ...]:
        """Every row that applies to activity of some of these years, in table order."""
        ids = dict.fromkeys(factor.id for factor in self.factors)
        chosen = {(row.id, row.year) for year in years for row in
                  (self.factor(factor_id, year) for factor_id in ids)}
        return tuple(f for f in self.factors if (f.id, f.year) in chosen)


class _OverrideFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = ""
    factors: tuple[EmissionFactor, ...]

    @model_validator(mode="after")
    def _each_row_once(self) -> _OverrideFile:
        keys = [(row.id, row.year) for row in self.factors]
        if len(keys) != len(set(keys)):
            raise ValueError("the override file names an (id, year) more than once")
        return self


@cache
def load_factors() -> FactorTable:
    """The factor table shipped with the package (parsed once)."""
    text = files("sensors").joinpath("data/factors.json").read_text(encoding="utf-8")
    return FactorTable.model_validate_json(text)


def merge_overrides(table: FactorTable, rows: Iterable[EmissionFactor], label: str) -> FactorTable:
    """The table with ``rows`` replacing rows of the same (id, year) and adding the others.

    ``rows`` name each (id, year) once (the override file's model checks it).
    """
    overrides = [row.model_copy(update={"origin": "override"}) for row in rows]
    keys = [(row.id, row.year) for row in overrides]
    by_key = dict(zip(keys, overrides, strict=True))
    merged = [by_key.pop((f.id, f.year), f) for f in table.factors]
    merged.extend(by_key.values())
    note = f"{table.note} Rows with origin 'override' come from {label}.".strip()
    return FactorTable(title=table.title, note=note, factors=tuple(merged))


def load_factor_table(override_file: Path | None) -> FactorTable:
    """The packaged table, with the operator's override file applied when one is named.

    The file is JSON ``{"factors": [<rows of the packaged shape>], "note": "..."}``.

    Raises:
        FactorFileError: the file cannot be read or is not a valid factor file.
    """
    table = load_factors()
    if override_file is None:
        return table
    parsed = read_json_file(override_file, _OverrideFile, "SMARTPLACE_FACTORS_FILE",
                            "factor file", FactorFileError)
    return merge_overrides(table, parsed.factors, override_file.name)
