"""Response models of ``/api/v1/indicators``.

Carbon is in tonnes (``*_tco2e``, 6 decimals) and, for comparison with ``/emissions``, in
kilograms (``*_kgco2e``, 3 decimals): the tonnes are the kilograms / 1000 exactly.
Shares are 0 to 1 (6 decimals); see docs/methodology.md, "Precision".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.carbon import AppliedFactorOut, AvoidedNetOut, DisclosureOut, SourceOut
from api.schemas.example_data import examples_of

_SHARE = "0 to 1; null when the denominator is 0"
_START = "RFC 3339 start, inclusive"
_END = "RFC 3339 end, exclusive"


class TotalsOut(BaseModel):
    """Gross emissions by domain: ``total = energy + transport`` (in the unit of the field
    that holds it: tCO2e or kgCO2e)."""

    energy: float = Field(description="electricity, EV charging and gas")
    transport: float = Field(description="road traffic on counted links")
    total: float = Field(description="energy + transport")


class ChangeOut(BaseModel):
    """Against the comparison period: ``abs_tco2e = current - previous``."""

    abs_tco2e: float | None = Field(
        description="null when the comparison period has no data (never 0)")
    pct: float | None = Field(
        description="100 x abs / previous (4 decimals); null when previous is 0 or has no "
        "data")


class ChangesOut(BaseModel):
    """The change of each total."""

    energy: ChangeOut = Field(description="of the energy total")
    transport: ChangeOut = Field(description="of the transport total")
    total: ChangeOut = Field(description="of the total")


class ClassShareOut(BaseModel):
    """One vehicle class's activity and its shares of all classes."""

    vehicle_km: float = Field(description="count x link km of the class")
    share_of_vehicle_km: float | None = Field(description="of all classes' vehicle-km; "
                                              + _SHARE)
    kgco2e: float = Field(description="the class's kgCO2e")
    share_of_transport_emissions: float | None = Field(
        description="of transport kgCO2e; " + _SHARE)
    counts: int = Field(description="counted, with or without a link length")
    share_of_counts: float | None = Field(description="of all classes' counts; " + _SHARE)


class SeqOut(BaseModel):
    """The ``seq`` numbers a sensor sent in the window."""

    first: int | None = Field(description="the lowest seq received")
    last: int | None = Field(description="the highest seq received")
    received: int = Field(description="readings that carried a seq")
    lost: int | None = Field(description="gaps between first and last; null after a restart")


class SensorCompletenessOut(BaseModel):
    """One sensor's readings received against those expected."""

    sensor: str = Field(description="the sensor id")
    site: str = Field(description="the site id")
    domain: str = Field(description="energy, transport or air_quality")
    registered: bool = Field(description="false: found in the data, not in the registry")
    interval_s: int | None = Field(description="expected seconds between readings (null: "
                                   "unknown, not counted)")
    interval_source: Literal["registry", "reported"] | None = Field(
        description="registry, or the interval_s the sensor reported")
    expected: float | None = Field(description="window seconds / interval_s (3 decimals)")
    received: int = Field(description="readings stored in the window")
    share: float | None = Field(description="received / expected, at most 1")
    share_uncapped: float | None = Field(description="received / expected")
    seq: SeqOut | None = Field(description="the seq numbers received (null: none sent)")


class CompletenessTotalsOut(BaseModel):
    """Completeness of a set of sensors (all, or one domain)."""

    sensors: int = Field(description="sensors with a known interval")
    expected: float = Field(description="readings expected, summed")
    received: int = Field(description="readings received, summed")
    received_capped: float = Field(description="each sensor's received, at most its expected")
    share: float | None = Field(description="received_capped / expected; " + _SHARE)
    share_uncapped: float | None = Field(description="received / expected")
    lost_messages: int = Field(description="seq gaps, summed over sensors that send seq")
    sensors_with_seq: int = Field(description="sensors whose seq gaps are known")


class CompletenessOut(CompletenessTotalsOut):
    """Data completeness over the window (method: ``method``)."""

    by_domain: dict[str, CompletenessTotalsOut] = Field(description="the same, per domain")
    without_interval: list[str] = Field(description="sensors whose interval is unknown")
    method: str = Field(description="how expected and received are counted")
    per_sensor: list[SensorCompletenessOut] = Field(description="one entry per sensor")


class PeriodActivityOut(BaseModel):
    """The activity a period's figures come from, by carrier and by vehicle class (each
    rounded to 3 decimals; every figure of the answer is computed from these)."""

    energy_kwh: dict[str, float] = Field(description="kWh by carrier (solar: generated)")
    energy_used_kwh: float = Field(description="electricity + EV charging + gas + solar")
    energy_kgco2e: dict[str, float] = Field(description="kgCO2e by carrier")
    avoided_kgco2e: float = Field(description="solar generation's avoided kgCO2e")
    vehicle_km: dict[str, float] = Field(description="vehicle-km by class")
    transport_kgco2e: dict[str, float] = Field(description="kgCO2e by class")
    counts: dict[str, int] = Field(description="counts by class, links without length too")
    unattributed_counts: dict[str, int] = Field(
        description="counts on links of unknown length (no vehicle-km, no kgCO2e)")


class PeriodOut(BaseModel):
    """A window [start, end)."""

    start: str = Field(description=_START)
    end: str = Field(description=_END)


class PeriodSummaryOut(BaseModel):
    """One period's window, totals and completeness side by side."""

    role: Literal["current", "comparison"] = Field(description="which of the two periods")
    start: str = Field(description=_START)
    end: str = Field(description=_END)
    name: str | None = Field(description="the named period (fy2025, 2025, 2025-11), if any")
    factor_year: int | None = Field(description="DESNZ set used; null: each activity's year")
    totals_tco2e: TotalsOut | None = Field(description="null: the period has no data")
    completeness_share: float | None = Field(description="the period's completeness share")
    readings: int = Field(description="readings received in the period")
    has_data: bool = Field(description="false: no energy or transport reading was stored")


class IndicatorsOut(AvoidedNetOut):
    """``GET /api/v1/indicators``: the window against its comparison period."""

    model_config = ConfigDict(json_schema_extra=examples_of("indicators"))

    unit: Literal["tCO2e"] = Field(description="the unit of every *_tco2e figure")
    start: str = Field(description=_START)
    end: str = Field(description=_END)
    previous: PeriodOut = Field(description="the comparison period")
    compare: Literal["previous", "previous_week", "previous_year"] = Field(
        "previous", description="how the comparison period was chosen")
    totals_tco2e: TotalsOut = Field(description="gross emissions, tCO2e")
    previous_totals_tco2e: TotalsOut | None = Field(
        description="null when the comparison period has no data (never zeros)")
    totals_kgco2e: TotalsOut = Field(
        description="totals_tco2e in kgCO2e, the unit of /emissions")
    previous_totals_kgco2e: TotalsOut | None = Field(
        description="previous_totals_tco2e in kgCO2e")
    change: ChangesOut = Field(description="current against comparison")
    previous_avoided_tco2e: float | None = Field(description="of the comparison period")
    previous_net_tco2e: float | None = Field(description="of the comparison period")
    vehicle_class_share: dict[str, ClassShareOut] = Field(description="by vehicle class")
    active_travel_share: float | None = Field(
        description="(bicycle + pedestrian counts) / all counts; " + _SHARE)
    energy_intensity_gco2e_per_kwh: float | None = Field(
        description="gross energy gCO2e per kWh used (3 decimals); null without kWh")
    solar_share: float | None = Field(
        description="solar generated / (electricity + EV charging + solar); " + _SHARE)
    completeness: CompletenessOut = Field(description="of the window")
    previous_completeness: CompletenessOut | None = Field(
        None, description="of the comparison period")
    periods: list[PeriodSummaryOut] = Field(default_factory=list,
                                            description="both periods side by side")
    completeness_warning_below: float = Field(
        0.9, description="a period below this completeness share gets a warning")
    warnings: list[DisclosureOut] = Field(default_factory=list,
                                          description="low completeness, no data")
    disclosures: list[DisclosureOut] = Field(default_factory=list,
                                             description="what a reader must know")
    activity: PeriodActivityOut = Field(description="the window's activity")
    previous_activity: PeriodActivityOut = Field(description="the comparison period's")
    factors: list[AppliedFactorOut] = Field(description="factor rows in force")
    source: SourceOut = Field(description="where the activity was read from")
