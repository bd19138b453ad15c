"""Response models of ``/api/v1/factors``, ``/emissions`` and ``/indicators``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FactorOut(BaseModel):
    """One emission factor with its provenance."""

    id: str
    value: float
    co2_value: float | None = Field(
        None, description="the CO2 part of value (DESNZ kg CO2e of CO2 per unit); null "
        "where no checked copy gives it")
    unit: str
    source: str
    year: int
    scope: str
    url: str
    notes: str
    origin: Literal["packaged", "override"] = Field(
        description="packaged: the DESNZ table shipped with smartplace; override: the "
        "operator's SMARTPLACE_FACTORS_FILE")


class AppliedFactorOut(FactorOut):
    """A factor in force, and whether this answer applied it."""

    applied: bool = Field(description="true when some activity in the answer used it")


class FactorsOut(BaseModel):
    """``GET /api/v1/factors``."""

    title: str
    note: str
    factors: list[FactorOut]


class ActivityOut(BaseModel):
    """The activity behind a figure."""

    energy_kwh: float = Field(description="kWh consumed: electricity, gas, EV charging")
    generated_kwh: float = Field(description="kWh generated on site (solar PV)")
    vehicle_km: float = Field(description="count x link km, every counted class")
    counts: int = Field(description="vehicles and people counted on links of known length")
    unattributed_counts: int = Field(
        description="counted where no link length is known: no vehicle-km, no emissions"
    )


class EmissionRowOut(BaseModel):
    """One group (and bucket). Only the requested group keys appear; null = does not apply."""

    model_config = ConfigDict(extra="allow")

    domain: str | None = None
    site: str | None = None
    sensor: str | None = None
    carrier: str | None = None
    vehicle_class: str | None = None
    scope: str | None = Field(None, description="with group_by=scope: scope_1, "
                              "scope_2_location, scope_3 or territorial_transport")
    bucket_start: str | None = Field(
        None, description="with interval: bucket start, RFC 3339 with the Europe/London "
        "offset, clamped to the window")
    bucket_end: str | None = Field(
        None, description="with interval: bucket end (exclusive), as bucket_start")
    kgco2e: float
    avoided_kgco2e: float
    activity: ActivityOut
    factors: list[str] = Field(
        description="factor rows applied to this row's activity, as '<id>@<year>'")
    kgco2: float | None = Field(
        0.0, description="CO2 only; null when a factor row applied has no CO2 part")
    memo_kgco2e: float = Field(
        0.0, description="ev_charging=memo: EV charging beside (not in) kgco2e")
    avoided_td_kgco2e: float = Field(
        0.0, description="solar: the T&D share a used kWh also displaces (not in avoided)")


class SourceOut(BaseModel):
    """Where the activity was read from."""

    requested: Literal["auto", "raw", "rollup"]
    rollup_start: str | None = Field(
        description="start of the hours read from the activity_hourly rollups (null: none)")
    rollup_end: str | None = Field(description="end (exclusive) of those hours")


class GridIntensityOut(BaseModel):
    """``method=grid_intensity``: what was priced at the regional intensity, what fell back."""

    region_id: int
    region: str
    unit: Literal["gCO2/kWh"]
    source: str
    basis: str = Field("", description="what the intensity measures")
    comparability: str = Field("", description="why it is not the DESNZ location-based figure")
    td_added: bool = Field(False, description="false: NESO's intensity includes T&D losses")
    grid_kwh: float = Field(description="electricity and EV kWh priced at the intensity")
    fallback_kwh: float = Field(description="kWh in slots without an intensity: annual factors")
    slots_used: int = Field(description="half-hour slots priced at the intensity")
    missing_slots: int = Field(description="slots with kWh but no intensity (fallback)")
    first_missing: list[str] = Field(description="the first (up to 10) missing slot starts")


class ScopesOut(BaseModel):
    """kgCO2e of the total by scope; they add up to ``total_kgco2e``."""

    scope_1: float = Field(description="gas burned on site")
    scope_2_location: float = Field(
        description="electricity and EV charging, generation (location-based)")
    scope_3: float = Field(description="T&D losses, and well-to-tank with wtt=true")
    territorial_transport: float = Field(description="road traffic on counted links")


class Co2Out(BaseModel):
    """The CO2-only figure and what it lacks."""

    known_kgco2: float = Field(description="CO2 of the activity whose factors give a CO2 part")
    complete: bool
    missing: list[str] = Field(description="factor rows applied without a CO2 part")
    note: str


class WttOut(BaseModel):
    """Well-to-tank (upstream) emissions."""

    included: bool = Field(description="true with wtt=true: the WTT parts are in the total")
    kgco2e: float = Field(description="the WTT part of the total (0 when not included)")


class EvChargingOut(BaseModel):
    """How EV charging was treated."""

    treatment: Literal["included", "memo"]
    kwh: float
    memo_kgco2e: float


class FactorSetOut(BaseModel):
    """Which DESNZ set priced the activity."""

    year: int | None = Field(description="one set for everything; null: each activity's year")
    rule: str


class PeriodNameOut(BaseModel):
    """A named period (period=fy2025, 2025, 2025-11)."""

    name: str
    kind: Literal["financial_year", "year", "month"]
    factor_year: int


class DisclosureOut(BaseModel):
    """A note a reader of the figures must see."""

    code: str
    message: str


class EmissionsOut(BaseModel):
    """``GET /api/v1/emissions`` (contract section 6)."""

    unit: Literal["kgCO2e"]
    start: str
    end: str
    group_by: list[str]
    interval: str | None
    total_kgco2e: float = Field(description="gross emissions; equals the sum of rows' kgco2e")
    avoided_kgco2e: float = Field(description="solar generation x electricity generation factor")
    net_kgco2e: float = Field(description="total - avoided")
    activity: ActivityOut
    rows: list[EmissionRowOut]
    factors: list[AppliedFactorOut] = Field(
        description="every factor row in force for the calendar years the window touches")
    source: SourceOut
    method: Literal["annual", "grid_intensity"] = "annual"
    grid_intensity: GridIntensityOut | None = Field(
        None, description="with method=grid_intensity: the regional feed's coverage")
    scopes: ScopesOut | None = None
    total_kgco2: float | None = Field(
        None, description="CO2-only total; null when a factor row applied has no CO2 part")
    co2: Co2Out | None = None
    wtt: WttOut | None = None
    ev_charging: EvChargingOut | None = None
    memo_kgco2e: float = Field(0.0, description="ev_charging=memo: EV charging, not in total")
    avoided_td_kgco2e: float = Field(
        0.0, description="solar kWh x electricity.td: the T&D share also displaced; not in "
        "avoided_kgco2e or net_kgco2e")
    fleet_mix: str | None = Field(None, description="car fleet mix (null: unknown-fuel car)")
    factor_set: FactorSetOut | None = None
    period: PeriodNameOut | None = None
    disclosures: list[DisclosureOut] = Field(
        default_factory=list, description="what a reader of these figures must know")


