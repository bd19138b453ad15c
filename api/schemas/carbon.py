"""Response models of ``/api/v1/factors``, ``/emissions`` and ``/indicators``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of


class FactorOut(BaseModel):
    """One emission factor with its provenance."""

    id: str = Field(description="e.g. electricity.generation, electricity.td, gas, "
                    "vehicle.car")
    value: float = Field(description="kgCO2e per unit, as published (never rounded)")
    co2_value: float | None = Field(
        None, description="the CO2 part of value (DESNZ kg CO2e of CO2 per unit); null "
        "where no checked copy gives it")
    unit: str = Field(description="e.g. kgCO2e/kWh, kgCO2e/vehicle-km")
    source: str = Field(description="the publication, e.g. DESNZ GHG conversion factors 2025")
    year: int = Field(description="the factor set's year (DESNZ: for activity of that "
                      "calendar year)")
    scope: str = Field(description="the GHG Protocol scope the factor prices")
    url: str = Field(description="where the published value can be checked")
    notes: str = Field(description="which table and row of the source")
    origin: Literal["packaged", "override"] = Field(
        description="packaged: the DESNZ table shipped with smartplace; override: the "
        "operator's SMARTPLACE_FACTORS_FILE")


class AppliedFactorOut(FactorOut):
    """A factor in force, and whether this answer applied it."""

    applied: bool = Field(description="true when some activity in the answer used it")


class FactorsOut(BaseModel):
    """``GET /api/v1/factors``."""

    model_config = ConfigDict(json_schema_extra=examples_of("factors"))

    title: str = Field(description="the table's title")
    note: str = Field(description="how the table is used")
    factors: list[FactorOut] = Field(description="one per id and year")


class ActivityOut(BaseModel):
    """The activity behind a figure."""

    energy_kwh: float = Field(description="kWh consumed: electricity, gas, EV charging "
                              "(3 decimals)")
    generated_kwh: float = Field(description="kWh generated on site (solar PV)")
    vehicle_km: float = Field(description="count x link km, every counted class (3 "
                              "decimals)")
    counts: int = Field(description="vehicles and people counted on links of known length")
    unattributed_counts: int = Field(
        description="counted where no link length is known: no vehicle-km, no emissions"
    )


class EmissionRowOut(BaseModel):
    """One group (and bucket). Only the requested group keys appear; null = does not apply."""

    model_config = ConfigDict(extra="allow")

    domain: str | None = Field(None, description="with group_by=domain")
    site: str | None = Field(None, description="with group_by=site")
    sensor: str | None = Field(None, description="with group_by=sensor")
    carrier: str | None = Field(None, description="with group_by=carrier (null: transport)")
    vehicle_class: str | None = Field(None, description="with group_by=vehicle_class (null: "
                                      "energy)")
    scope: str | None = Field(None, description="with group_by=scope: scope_1, "
                              "scope_2_location, scope_3 or territorial_transport")
    bucket_start: str | None = Field(
        None, description="with interval: bucket start, RFC 3339 with the Europe/London "
        "offset, clamped to the window")
    bucket_end: str | None = Field(
        None, description="with interval: bucket end (exclusive), as bucket_start")
    kgco2e: float = Field(description="gross emissions of the row, kgCO2e, 3 decimals")
    avoided_kgco2e: float = Field(description="solar generation's avoided kgCO2e (not in "
                                  "kgco2e), 3 decimals")
    activity: ActivityOut = Field(description="the activity the row was priced from")
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

    requested: Literal["auto", "raw", "rollup"] = Field(description="the source asked for")
    rollup_start: str | None = Field(
        description="start of the hours read from the activity_hourly rollups (null: none)")
    rollup_end: str | None = Field(description="end (exclusive) of those hours")


class GridIntensityOut(BaseModel):
    """``method=grid_intensity``: what was priced at the regional intensity, what fell back."""

    region_id: int = Field(description="NESO's region id (SMARTPLACE_GRID_REGION_ID)")
    region: str = Field(description="the region's name")
    unit: Literal["gCO2/kWh"] = Field(description="the intensity's unit")
    source: str = Field(description="the feed the intensities come from")
    basis: str = Field("", description="what the intensity measures")
    comparability: str = Field("", description="why it is not the DESNZ location-based figure")
    td_added: bool = Field(False, description="false: NESO's intensity includes T&D losses")
    grid_kwh: float = Field(description="electricity and EV kWh priced at the intensity")
    fallback_kwh: float = Field(description="kWh in slots without an intensity: annual factors")
    slots_used: int = Field(description="half-hour slots priced at the intensity")
    missing_slots: int = Field(description="slots with kWh but no intensity (fallback)")
    first_missing: list[str] = Field(description="the first (up to 10) missing slot starts")


class ScopesOut(BaseModel):
    """kgCO2e of the total by scope, each to 3 decimals; they add up to ``total_kgco2e``
    within 0.002 kg (each is rounded on its own)."""

    scope_1: float = Field(description="gas burned on site")
    scope_2_location: float = Field(
        description="electricity and EV charging, generation (location-based)")
    scope_3: float = Field(description="T&D losses, and well-to-tank with wtt=true")
    territorial_transport: float = Field(description="road traffic on counted links")


class Co2Out(BaseModel):
    """The CO2-only figure and what it lacks."""

    known_kgco2: float = Field(description="CO2 of the activity whose factors give a CO2 part")
    complete: bool = Field(description="false: some factor applied has no CO2 part")
    missing: list[str] = Field(description="factor rows applied without a CO2 part")
    note: str = Field(description="what the CO2-only figure counts")


class WttOut(BaseModel):
    """Well-to-tank (upstream) emissions."""

    included: bool = Field(description="true with wtt=true: the WTT parts are in the total")
    kgco2e: float = Field(description="the WTT part of the total (0 when not included)")


class EvChargingOut(BaseModel):
    """How EV charging was treated."""

    treatment: Literal["included", "memo"] = Field(
        description="included: in total_kgco2e; memo: beside it")
    kwh: float = Field(description="EV charging kWh in the window, 3 decimals")
    memo_kgco2e: float = Field(description="with memo: its kgCO2e (else 0)")


class FactorSetOut(BaseModel):
    """Which DESNZ set priced the activity."""

    year: int | None = Field(description="one set for everything; null: each activity's year")
    rule: str = Field(description="which DESNZ set prices which activity, and why")


class PeriodNameOut(BaseModel):
    """A named period (period=fy2025, 2025, 2025-11)."""

    name: str = Field(description="as asked: fy2025, 2025 or 2025-11")
    kind: Literal["financial_year", "year", "month"] = Field(description="the kind of period")
    factor_year: int = Field(description="the DESNZ set DESNZ's rule gives the period")


class DisclosureOut(BaseModel):
    """A note a reader of the figures must see."""

    code: str = Field(description="a stable identifier, e.g. ev_double_count")
    message: str = Field(description="what the reader must know, in words")


class AvoidedNetOut(BaseModel):
    """Solar's avoided emissions and the net figure, in kilograms and in tonnes."""

    avoided_kgco2e: float = Field(
        description="solar generation x electricity generation factor (never subtracted "
        "from the gross total), kgCO2e")
    net_kgco2e: float = Field(description="gross total - avoided, kgCO2e")
    avoided_tco2e: float = Field(description="avoided_kgco2e in tonnes (/ 1000 exactly)")
    net_tco2e: float = Field(description="net_kgco2e in tonnes")


class EmissionsOut(AvoidedNetOut):
    """``GET /api/v1/emissions`` (contract section 6)."""

    model_config = ConfigDict(json_schema_extra=examples_of("emissions"))

    unit: Literal["kgCO2e"] = Field(description="the unit of every *_kgco2e figure")
    start: str = Field(description="RFC 3339 start of the window, inclusive")
    end: str = Field(description="RFC 3339 end of the window, exclusive")
    group_by: list[str] = Field(description="the grouping keys of the rows")
    interval: str | None = Field(description="the bucket rule (null: one bucket)")
    total_kgco2e: float = Field(
        description="gross emissions, 3 decimals; equals the sum of the rows' kgco2e")
    total_tco2e: float = Field(description="total_kgco2e in tonnes (/ 1000 exactly, 6 "
                               "decimals), the unit of /indicators")
    activity: ActivityOut = Field(description="the window's activity, each counted once")
    rows: list[EmissionRowOut] = Field(description="by bucket, then the group keys")
    factors: list[AppliedFactorOut] = Field(
        description="every factor row in force for the calendar years the window touches")
    source: SourceOut = Field(description="where the activity was read from")
    method: Literal["annual", "grid_intensity"] = Field(
        "annual", description="annual: DESNZ annual factors; grid_intensity: half-hourly "
        "regional intensity for grid electricity")
    grid_intensity: GridIntensityOut | None = Field(
        None, description="with method=grid_intensity: the regional feed's coverage")
    scopes: ScopesOut | None = Field(None, description="the total by scope")
    total_kgco2: float | None = Field(
        None, description="CO2-only total; null when a factor row applied has no CO2 part")
    co2: Co2Out | None = Field(None, description="the CO2-only figure and what it lacks")
    wtt: WttOut | None = Field(None, description="well-to-tank emissions")
    ev_charging: EvChargingOut | None = Field(None, description="how EV charging was treated")
    memo_kgco2e: float = Field(0.0, description="ev_charging=memo: EV charging, not in total")
    avoided_td_kgco2e: float = Field(
        0.0, description="solar kWh x electricity.td: the T&D share also displaced; not in "
        "avoided_kgco2e or net_kgco2e")
    fleet_mix: str | None = Field(None, description="car fleet mix (null: unknown-fuel car)")
    factor_set: FactorSetOut | None = Field(None, description="which DESNZ set priced it")
    period: PeriodNameOut | None = Field(None, description="the named period asked for")
    disclosures: list[DisclosureOut] = Field(
        default_factory=list, description="what a reader of these figures must know")


