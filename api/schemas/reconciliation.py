"""Response models of ``/api/v1/reconciliation`` and ``/api/v1/budget``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SubsectorOut(BaseModel):
    """One DESNZ sub-sector of the borough."""

    subsector: str
    group: str | None = Field(description="electricity, gas, road_transport or null")
    kt_co2e: float
    kt_co2: float
    within_scope_kt: float | None


class SectorOut(BaseModel):
    """One DESNZ sector of the borough."""

    sector: str
    kt_co2e: float
    subsectors: list[SubsectorOut]


class BoroughOut(BaseModel):
    """The borough's figures from the imported edition."""

    total_kt_co2e: float
    total_kt_co2: float
    population_k: float | None
    area_km2: float | None
    per_capita_t_co2e: float | None
    per_km2_kt_co2e: float | None
    sectors: list[SectorOut]


class AmountOut(BaseModel):
    """A quantity with its unit."""

    amount: float
    unit: str


class FactorValueOut(BaseModel):
    """A ratio with its unit (null: no activity)."""

    value: float | None
    unit: str


class GroupComparisonOut(BaseModel):
    """A sector group both sides count."""

    group: str
    label: str
    borough_subsectors: list[str]
    borough_kt_co2e: float
    town_centre_kt_co2e: float
    coverage_ratio: float | None = Field(description="town centre / borough")
    town_centre_activity: AmountOut
    town_centre_implied_factor: FactorValueOut


class TownCentreOut(BaseModel):
    """The town centre's figures for the same calendar year."""

    start: str
    end: str
    total_kt_co2e: float
    completeness_share: float | None
    priced_with: str


class ReconciliationOut(BaseModel):
    """``GET /api/v1/reconciliation``."""

    la: str
    la_name: str
    year: int
    edition: dict[str, Any] = Field(description="the import record of the edition used")
    editions: list[str]
    edition_years: list[int]
    caveat: str
    borough: BoroughOut
    town_centre: TownCentreOut
    comparison: list[GroupComparisonOut]
    borough_not_comparable_kt_co2e: float
    town_centre_share_of_borough: float | None
    queries: list[str]


class TrajectoryYearOut(BaseModel):
    """One year of the paths to zero."""

    year: int
    constant_rate_kt_co2: float
    linear_kt_co2: float


class TrajectoryOut(BaseModel):
    """The paths that spend exactly the remaining budget."""

    annual_reduction: float | None = Field(description="constant yearly cut, a fraction")
    linear_zero_year: int | None
    years: list[TrajectoryYearOut]


class YearCo2Out(BaseModel):
    """The borough's counted CO2 of one year."""

    year: int
    kt_co2: float


class BudgetOut(BaseModel):
    """``GET /api/v1/budget``."""

    budget: dict[str, Any]
    edition: dict[str, Any] | None
    used_kt_co2: float | None
    remaining_kt_co2: float | None
    share_used: float | None
    by_year: list[YearCo2Out]
    years_missing: list[int] = Field(default_factory=list)
    trajectory: TrajectoryOut
    message: str
