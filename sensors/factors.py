"""The emission-factor table: packaged DESNZ sets per year, plus an operator's overrides.

Pure data: the factors, their units, their year and where each number comes from
(``sensors/data/factors.json``: DESNZ 2024 and 2025 conversion factors; the bus rows are
derived, see ``docs/methodology.md``). The arithmetic that applies them lives in
``api/indicators.py``.

A factor id may have one row per year. Activity of calendar year ``Y`` uses, for each
id, the row of the latest year not after ``Y``; activity older than every row of an id
uses its earliest row. So a year newer than the latest set uses the latest set, and a
set that lacks an id (or an override that adds one id for a new year) falls back to
that id's nearest earlier row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sensors.errors import FactorFileError
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

Origin = Literal["packaged", "override"]


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


@cache
def load_factors() -> FactorTable:
    """The factor table shipped with the package (parsed once)."""
    text = files("sensors").joinpath("data/factors.json").read_text(encoding="utf-8")
    return FactorTable.model_validate_json(text)


def merge_overrides(table: FactorTable, rows: Iterable[EmissionFactor], label: str) -> FactorTable:
    """The table with ``rows`` replacing rows of the same (id, year) and adding the others.

    Raises:
        ValueError: the merged table is invalid (e.g. an (id, year) twice in ``rows``).
    """
    overrides = [row.model_copy(update={"origin": "override"}) for row in rows]
    keys = [(row.id, row.year) for row in overrides]
    if len(keys) != len(set(keys)):
        raise ValueError("the override file names an (id, year) more than once")
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
    try:
        raw = json.loads(override_file.read_text(encoding="utf-8"))
        parsed = _OverrideFile.model_validate(raw)
        return merge_overrides(table, parsed.factors, override_file.name)
    except OSError as exc:
        raise FactorFileError(
            f"SMARTPLACE_FACTORS_FILE {override_file}: cannot read ({exc.strerror})") from None
    except (ValueError, ValidationError) as exc:
        raise FactorFileError(
            f"SMARTPLACE_FACTORS_FILE {override_file}: not a valid factor file: {exc}") from None
