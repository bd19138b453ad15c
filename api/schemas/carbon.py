"""Response models of ``/api/v1/factors``, ``/emissions`` and ``/indicators``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FactorOut(BaseModel):
    """One emission factor with its provenance."""

    id: str
    value: float
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
    grid_kwh: float = Field(description="electricity and EV kWh priced at the intensity")
    fallback_kwh: float = Field(description="kWh in slots without an intensity: annual factors")
    slots_used: int = Field(description="half-hour slots priced at the intensity")
    missing_slots: int = Field(description="slots with kWh but no intensity (fallback)")
    first_missing: list[str] = Field(description="the first (up to 10) missing slot starts")


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


class TotalsOut(BaseModel):
    """Gross emissions by domain, tCO2e: ``total = energy + transport``."""

    energy: float
    transport: float
    total: float


class ChangeOut(BaseModel):
    """Against the previous period: ``abs_tco2e = current - previous``."""

    abs_tco2e: float
    pct: float | None = Field(description="100 x abs / previous; null when previous is 0")


class ChangesOut(BaseModel):
    """The change of each total."""

    energy: ChangeOut
    transport: ChangeOut
    total: ChangeOut


class ClassShareOut(BaseModel):
    """One vehicle class's activity and its shares of all classes."""

    vehicle_km: float
    share_of_vehicle_km: float | None
    kgco2e: float
    share_of_transport_emissions: float | None
    counts: int
    share_of_counts: float | None


class SeqOut(BaseModel):
    """The ``seq`` numbers a sensor sent in the window."""

    first: int | None
    last: int | None
    received: int
    lost: int | None = Field(description="gaps between first and last; null after a restart")


class SensorCompletenessOut(BaseModel):
    """One sensor's readings received against those expected."""

    sensor: str
    site: str
    domain: str
    registered: bool
    interval_s: int | None
    interval_source: Literal["registry", "reported"] | None
    expected: float | None
    received: int
    share: float | None = Field(description="received / expected, at most 1")
    share_uncapped: float | None
    seq: SeqOut | None


class CompletenessTotalsOut(BaseModel):
    """Completeness of a set of sensors (all, or one domain)."""

    sensors: int
    expected: float
    received: int
    received_capped: float
    share: float | None
    share_uncapped: float | None
    lost_messages: int
    sensors_with_seq: int


class CompletenessOut(CompletenessTotalsOut):
    """Data completeness over the window (method: ``method``)."""

    by_domain: dict[str, CompletenessTotalsOut]
    without_interval: list[str] = Field(description="sensors whose interval is unknown")
    method: str
    per_sensor: list[SensorCompletenessOut]


class PeriodActivityOut(BaseModel):
    """The activity a period's figures come from, by carrier and by vehicle class."""

    energy_kwh: dict[str, float]
    energy_used_kwh: float
    energy_kgco2e: dict[str, float]
    avoided_kgco2e: float
    vehicle_km: dict[str, float]
    transport_kgco2e: dict[str, float]
    counts: dict[str, int]
    unattributed_counts: dict[str, int]


class PeriodOut(BaseModel):
    """A window [start, end)."""

    start: str
    end: str


class IndicatorsOut(BaseModel):
    """``GET /api/v1/indicators``: the window against the equal period before it."""

    unit: Literal["tCO2e"]
    start: str
    end: str
    previous: PeriodOut
    totals_tco2e: TotalsOut
    previous_totals_tco2e: TotalsOut
    change: ChangesOut
    avoided_tco2e: float
    net_tco2e: float
    previous_avoided_tco2e: float
    previous_net_tco2e: float
    vehicle_class_share: dict[str, ClassShareOut]
    active_travel_share: float | None
    energy_intensity_gco2e_per_kwh: float | None
    solar_share: float | None
    completeness: CompletenessOut
    activity: PeriodActivityOut
    previous_activity: PeriodActivityOut
    factors: list[AppliedFactorOut]
    source: SourceOut
