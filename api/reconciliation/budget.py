"""A CO2 budget (e.g. the Tyndall Centre's for the borough) against the borough's emissions.

The budget is a JSON file named by ``SMARTPLACE_CARBON_BUDGET_FILE`` (read and checked at
start-up). Budget used = the borough's CO2 (the ``CO2`` gas rows of the imported DESNZ
statistics, without the excluded sectors: LULUCF by default, as Tyndall budgets are
energy-only CO2) for each year from the budget's first year to the latest year of the
edition. Remaining = budget - used. The trajectory to zero is the constant annual cut
``r`` from the latest year's emissions E0 that spends exactly the remainder,
E0 (1 - r) / r = remaining, so r = E0 / (remaining + E0), and, for comparison, the
straight line to zero that spends it (zero after 2 x remaining / E0 years).
docs/methodology.md, "Carbon budget".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.errors import BudgetFileError
from api.influx import InfluxStore
from api.reconciliation.inventory import fetch_editions, fetch_rows
from sensors.jsonfile import read_json_file

MAX_TRAJECTORY_YEARS = 80


class CarbonBudget(BaseModel):
    """The budget file: how much CO2 the borough may emit, from when, and who says so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the report the figure comes from")
    url: str = Field(pattern=r"^https://")
    la: str = Field(pattern=r"^[EWSN]\d{8}$", description="the authority's GSS code")
    start_year: int = Field(ge=1990, le=2100)
    end_year: int = Field(default=2100, ge=1990, le=2200)
    total_kt_co2: float = Field(gt=0, allow_inf_nan=False)
    exclude_sectors: tuple[str, ...] = ("LULUCF",)
    notes: str = ""

    @model_validator(mode="after")
    def _years(self) -> CarbonBudget:
        if self.end_year < self.start_year:
            raise ValueError("end_year must not be before start_year")
        return self


def load_budget(path: Path | None) -> CarbonBudget | None:
    """The configured budget, or None when no file is named.

    Raises:
        BudgetFileError: the file cannot be read or is not a valid budget.
    """
    if path is None:
        return None
    return read_json_file(path, CarbonBudget, "SMARTPLACE_CARBON_BUDGET_FILE", "budget",
                          BudgetFileError)


def trajectory(remaining_kt: float, latest_kt: float, latest_year: int,
               end_year: int) -> dict[str, Any]:
    """The constant-rate and straight-line paths that spend ``remaining_kt`` from E0."""
    if remaining_kt <= 0 or latest_kt <= 0:
        return {"annual_reduction": None, "linear_zero_year": None, "years": []}
    rate = latest_kt / (remaining_kt + latest_kt)
    linear_years = 2 * remaining_kt / latest_kt
    last = min(end_year, latest_year + MAX_TRAJECTORY_YEARS)
    years = []
    for k in range(1, last - latest_year + 1):
        years.append({"year": latest_year + k,
                      "constant_rate_kt_co2": latest_kt * (1 - rate) ** k,
                      "linear_kt_co2": max(0.0, latest_kt * (1 - k / linear_years))})
    return {"annual_reduction": rate,
            "linear_zero_year": latest_year + math.ceil(linear_years),
            "years": years}


async def budget_status(store: InfluxStore, budget: CarbonBudget,
                        edition: str | None = None) -> dict[str, Any]:
    """Budget used, remaining and the trajectory, from the latest (or named) edition.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    editions = await fetch_editions(store)
    chosen = (next((e for e in editions if e["edition"] == edition), None) if edition
              else (editions[-1] if editions else None))
    base: dict[str, Any] = {"budget": budget.model_dump(), "edition": chosen, "used_kt_co2": None,
                            "remaining_kt_co2": None, "share_used": None, "by_year": [],
                            "trajectory": trajectory(0, 0, budget.start_year, budget.end_year)}
    if chosen is None:
        return {**base, "message": "no DESNZ inventory imported: run smartplace reconcile import"}
    last = min(int(chosen.get("last_year") or 0), budget.end_year)
    rows = await fetch_rows(store, budget.la, chosen["edition"], range(budget.start_year,
                                                                       last + 1))
    counted = [row for row in rows if row.gas == "CO2" and row.sector not in
               budget.exclude_sectors and row.territorial_kt is not None]
    by_year = {year: math.fsum(row.territorial_kt or 0.0 for row in counted if row.year == year)
               for year in sorted({row.year for row in counted})}
    if not by_year:
        return {**base, "message": f"the edition has no CO2 rows for {budget.la} from "
                                   f"{budget.start_year}"}
    used = math.fsum(by_year.values())
    remaining = budget.total_kt_co2 - used
    latest_year = max(by_year)
    return {
        **base, "used_kt_co2": used, "remaining_kt_co2": remaining,
        "share_used": used / budget.total_kt_co2,
        "by_year": [{"year": year, "kt_co2": kt} for year, kt in by_year.items()],
        "years_missing": [year for year in range(budget.start_year, latest_year + 1)
                          if year not in by_year],
        "trajectory": trajectory(remaining, by_year[latest_year], latest_year, budget.end_year),
        "message": ("budget exhausted" if remaining <= 0 else
                    f"{remaining:.0f} kt CO2 remain after {latest_year}"),
    }
