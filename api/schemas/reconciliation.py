"""Response models of ``/api/v1/reconciliation`` and ``/api/v1/budget``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of


class SubsectorOut(BaseModel):
    """One DESNZ sub-sector of the borough."""

    subsector: str = Field(description="DESNZ's sub-sector, e.g. Domestic Electricity")
    group: str | None = Field(description="electricity, gas, road_transport or null")
    kt_co2e: float = Field(description="all gases, kt CO2e (6 decimals)")
    kt_co2: float = Field(description="CO2 alone, kt")
    within_scope_kt: float | None = Field(description="DESNZ's 'within the scope of "
                                          "influence of LAs' part, kt (null: not given)")


class SectorOut(BaseModel):
    """One DESNZ sector of the borough."""

    sector: str = Field(description="DESNZ's sector, e.g. Transport")
    kt_co2e: float = Field(description="all gases, kt CO2e")
    subsectors: list[SubsectorOut] = Field(description="the sector's sub-sectors")


class BoroughOut(BaseModel):
    """The borough's figures from the imported edition."""

    total_kt_co2e: float = Field(description="all sectors and gases, kt CO2e")
    total_kt_co2: float = Field(description="CO2 alone, kt")
    population_k: float | None = Field(description="mid-year population, thousands")
    area_km2: float | None = Field(description="area, km²")
    per_capita_t_co2e: float | None = Field(description="t CO2e per resident")
    per_km2_kt_co2e: float | None = Field(description="kt CO2e per km²")
    sectors: list[SectorOut] = Field(description="by sector")


class AmountOut(BaseModel):
    """A quantity with its unit."""

    amount: float = Field(description="the quantity (3 decimals)")
    unit: str = Field(description="kWh or vehicle-km")


class FactorValueOut(BaseModel):
    """A ratio with its unit (null: no activity)."""

    value: float | None = Field(description="6 decimals; null without activity")
    unit: str = Field(description="e.g. kgCO2e/kWh")


class GroupComparisonOut(BaseModel):
    """A sector group both sides count."""

    group: str = Field(description="electricity, gas or road_transport")
    label: str = Field(description="the group in words")
    borough_subsectors: list[str] = Field(description="DESNZ sub-sectors in the group")
    borough_kt_co2e: float = Field(description="the borough's, kt CO2e")
    town_centre_kt_co2e: float = Field(description="the town centre's (this API), kt CO2e")
    coverage_ratio: float | None = Field(description="town centre / borough")
    town_centre_activity: AmountOut = Field(description="the activity priced")
    town_centre_implied_factor: FactorValueOut = Field(
        description="town-centre kgCO2e / its activity")


class TownCentreOut(BaseModel):
    """The town centre's figures for the same calendar year."""

    start: str = Field(description="RFC 3339: 1 January, London")
    end: str = Field(description="RFC 3339: the next 1 January, exclusive")
    total_kt_co2e: float = Field(description="gross emissions, kt CO2e (6 decimals)")
    completeness_share: float | None = Field(description="data completeness of the year")
    priced_with: str = Field(description="the factors used")


class ReconciliationOut(BaseModel):
    """``GET /api/v1/reconciliation``."""

    model_config = ConfigDict(json_schema_extra=examples_of("reconciliation"))

    la: str = Field(description="GSS code of the local authority")
    la_name: str = Field(description="its name")
    year: int = Field(description="the calendar year compared")
    edition: dict[str, Any] = Field(description="the import record of the edition used")
    editions: list[str] = Field(description="every imported edition")
    edition_years: list[int] = Field(description="first and last year of the edition")
    caveat: str = Field(description="why the two differ by design")
    borough: BoroughOut = Field(description="the borough's figures")
    town_centre: TownCentreOut = Field(description="the town centre's figures")
    comparison: list[GroupComparisonOut] = Field(description="the groups both sides count")
    borough_not_comparable_kt_co2e: float = Field(
        description="borough kt CO2e in sectors the town centre does not measure")
    town_centre_share_of_borough: float | None = Field(
        description="town-centre total / borough total (6 decimals)")
    queries: list[str] = Field(description="API queries that reproduce the figures")


class TrajectoryYearOut(BaseModel):
    """One year of the paths to zero."""

    year: int = Field(description="the calendar year")
    constant_rate_kt_co2: float = Field(description="on the constant-rate path, kt CO2")
    linear_kt_co2: float = Field(description="on the straight-line path, kt CO2")


class TrajectoryOut(BaseModel):
    """The paths that spend exactly the remaining budget."""

    annual_reduction: float | None = Field(description="constant yearly cut, a fraction")
    linear_zero_year: int | None = Field(description="the straight line's year at zero")
    years: list[TrajectoryYearOut] = Field(description="each year of the paths")


class YearCo2Out(BaseModel):
    """The borough's counted CO2 of one year."""

    year: int = Field(description="the calendar year")
    kt_co2: float = Field(description="counted CO2, kt")


class BudgetOut(BaseModel):
    """``GET /api/v1/budget``."""

    model_config = ConfigDict(json_schema_extra=examples_of("budget"))

    budget: dict[str, Any] = Field(description="the configured budget "
                                   "(SMARTPLACE_CARBON_BUDGET_FILE)")
    edition: dict[str, Any] | None = Field(description="the import record used (null: none)")
    used_kt_co2: float | None = Field(description="CO2 counted since the start year, kt")
    remaining_kt_co2: float | None = Field(description="budget - used, kt")
    share_used: float | None = Field(description="used / budget (6 decimals)")
    by_year: list[YearCo2Out] = Field(description="counted CO2 per year")
    years_missing: list[int] = Field(default_factory=list,
                                     description="years without inventory rows")
    trajectory: TrajectoryOut = Field(description="paths that spend what remains")
    message: str = Field(description="the state in words")
