"""Response models of ``/api/v1/indicators``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.carbon import AppliedFactorOut, DisclosureOut, SourceOut


class TotalsOut(BaseModel):
    """Gross emissions by domain, tCO2e: ``total = energy + transport``."""

    energy: float
    transport: float
    total: float


class ChangeOut(BaseModel):
    """Against the comparison period: ``abs_tco2e = current - previous``."""

    abs_tco2e: float | None = Field(
        description="null when the comparison period has no data (never 0)")
    pct: float | None = Field(
        description="100 x abs / previous; null when previous is 0 or has no data")


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


class PeriodSummaryOut(BaseModel):
    """One period's window, totals and completeness side by side."""

    role: Literal["current", "comparison"]
    start: str
    end: str
    name: str | None = Field(description="the named period (fy2025, 2025, 2025-11), if any")
    factor_year: int | None = Field(description="DESNZ set used; null: each activity's year")
    totals_tco2e: TotalsOut | None = Field(description="null: the period has no data")
    completeness_share: float | None
    readings: int
    has_data: bool = Field(description="false: no energy or transport reading was stored")


class IndicatorsOut(BaseModel):
    """``GET /api/v1/indicators``: the window against its comparison period."""

    unit: Literal["tCO2e"]
    start: str
    end: str
    previous: PeriodOut = Field(description="the comparison period")
    compare: Literal["previous", "previous_week", "previous_year"] = "previous"
    totals_tco2e: TotalsOut
    previous_totals_tco2e: TotalsOut | None = Field(
        description="null when the comparison period has no data (never zeros)")
    change: ChangesOut
    avoided_tco2e: float
    net_tco2e: float
    previous_avoided_tco2e: float | None
    previous_net_tco2e: float | None
    vehicle_class_share: dict[str, ClassShareOut]
    active_travel_share: float | None
    energy_intensity_gco2e_per_kwh: float | None
    solar_share: float | None
    completeness: CompletenessOut
    previous_completeness: CompletenessOut | None = None
    periods: list[PeriodSummaryOut] = Field(default_factory=list)
    completeness_warning_below: float = Field(
        0.9, description="a period below this completeness share gets a warning")
    warnings: list[DisclosureOut] = Field(default_factory=list)
    disclosures: list[DisclosureOut] = Field(default_factory=list)
    activity: PeriodActivityOut
    previous_activity: PeriodActivityOut
    factors: list[AppliedFactorOut]
    source: SourceOut
