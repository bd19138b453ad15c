"""Response models of ``/api/v1/air-quality``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of

Band = Literal["Low", "Moderate", "High", "Very High"]
_BAND = "Low (1-3), Moderate (4-6), High (7-9) or Very High (10); null without an index"
_SITE = "the site id"


class DaqiOverall(BaseModel):
    """The site's index: the highest of its pollutants' indices."""

    index: int | None = Field(description="1-10; null when no pollutant has enough data")
    band: Band | None = Field(description=_BAND)
    driven_by: list[str] = Field(description="pollutants whose index equals the overall one")


class DaqiPollutant(BaseModel):
    """One pollutant over its own averaging window."""

    index: int | None = Field(description="1-10; null without enough readings (see reason)")
    band: Band | None = Field(description=_BAND)
    mean_ugm3: float | None = Field(
        description="mean concentration over the window, µg/m³, to 3 decimals")
    rounded_ugm3: int | None = Field(
        description="the (unrounded) mean rounded half up to a whole µg/m³: the value "
        "looked up")
    window: Literal["1h", "15m", "8h", "24h"] = Field(
        description="DEFRA's averaging period: NO2 1h, SO2 15m, O3 8h running, PM 24h "
        "running")
    window_start: str = Field(description="RFC 3339, inclusive")
    window_end: str = Field(description="RFC 3339, exclusive (the moment asked for)")
    readings: int = Field(description="readings in the window, all of the site's monitors")
    needed_per_unit: int | None = Field(
        None, description="readings an hour (SO2: 15 minutes) needs for 75 % data capture, "
        "for the site's main monitor; null when its interval is unknown")
    reason: str | None = Field(description="why index is null")


class DaqiInterval(BaseModel):
    """A monitor's expected reporting interval for a pollutant: the base of its capture."""

    sensor: str = Field(description="the monitor's sensor id")
    pollutant: str = Field(description="no2, pm25, pm10, o3 or so2")
    interval_s: float | None = Field(description="null: unknown (capture cannot be judged)")
    source: Literal["registry", "median_gap", "unknown"] = Field(
        description="registry: the registry's interval; median_gap: the median gap between "
        "the monitor's own readings")


class DaqiOut(BaseModel):
    """``GET /air-quality/daqi``."""

    model_config = ConfigDict(json_schema_extra=examples_of("daqi"))

    site: str = Field(description=_SITE)
    at: str = Field(description="RFC 3339: the moment the windows end")
    overall: DaqiOverall = Field(description="the highest pollutant index")
    pollutants: dict[str, DaqiPollutant] = Field(
        description="by pollutant: no2, pm25, pm10, o3, so2 (those the site measures)")
    capture: str = Field("", description="the data capture rule applied")
    intervals: list[DaqiInterval] = Field(
        default_factory=list, description="the monitors read and their expected intervals")
    source: str = Field(description="where the banding table comes from")


class DaqiHour(BaseModel):
    """The index at one whole hour (windows end at ``at``)."""

    site: str | None = Field(None, description=_SITE)
    at: str = Field(description="RFC 3339: the whole UTC hour the windows end at")
    overall: DaqiOverall = Field(description="the highest pollutant index")
    pollutants: dict[str, DaqiPollutant] = Field(description="by pollutant")


class DaqiHistoryOut(BaseModel):
    """``GET /air-quality/daqi/history``: one site, or every site when none is named."""

    model_config = ConfigDict(json_schema_extra=examples_of("daqi_history"))

    site: str | None = Field(description="the site asked for; null: every known site")
    sites: list[str] = Field(default_factory=list, description="the sites answered for")
    start: str = Field(description="RFC 3339 start of the window, inclusive")
    end: str = Field(description="RFC 3339 end of the window, exclusive")
    min_band: Band | None = Field(None, description="only hours at this band or worse (null: "
                                  "all hours)")
    hours: list[DaqiHour] = Field(description="by hour, then site")
    source: str = Field(description="where the banding table comes from")
    rollup_start: str | None = Field(
        None, description="start of the hours read from the air-quality rollups "
        "(air_quality_hourly, _quarter_hourly; null: all raw)")
    rollup_end: str | None = Field(None, description="end (exclusive) of those hours")


class DaqiDayPollutant(BaseModel):
    """One pollutant's daily statistic (DEFRA's daily index for historical data)."""

    index: int | None = Field(description="1-10; null without 75 % capture (see reason)")
    band: Band | None = Field(description=_BAND)
    value_ugm3: float | None = Field(description="the day's statistic, µg/m³, to 3 decimals")
    rounded_ugm3: int | None = Field(description="the (unrounded) statistic rounded half up")
    statistic: str = Field(description="which statistic: fixed-day mean, daily maximum of "
                           "hourly means, highest running 8-hour mean")
    units: int = Field(description="averaging units in the day (hours; SO2: quarter hours)")
    valid_units: int = Field(description="units with 75 % of their expected readings")
    needed_units: int = Field(description="75 % of units, rounded up")
    reason: str | None = Field(description="why index is null")


class DaqiDay(BaseModel):
    """A site's index for one London calendar day."""

    site: str = Field(description=_SITE)
    date: str = Field(description="the London date")
    start: str = Field(description="local midnight, with its offset")
    end: str = Field(description="the next local midnight, exclusive")
    hours: int = Field(description="23, 24 or 25")
    overall: DaqiOverall = Field(description="the highest pollutant index of the day")
    pollutants: dict[str, DaqiDayPollutant] = Field(description="by pollutant")


class DaqiDailyOut(BaseModel):
    """``GET /air-quality/daqi/daily``."""

    model_config = ConfigDict(json_schema_extra=examples_of("daqi_daily"))

    sites: list[str] = Field(description="the sites answered for")
    start: str = Field(description="RFC 3339 start of the window, inclusive")
    end: str = Field(description="RFC 3339 end of the window, exclusive")
    min_band: Band | None = Field(description="only days at this band or worse (null: all)")
    days_by_band: dict[str, dict[str, int]] = Field(
        description="per site: days in each band, and 'none' (no index), before min_band")
    days: list[DaqiDay] = Field(description="one per site and London day")
    capture: str = Field(description="the data capture rule applied")
    source: str = Field(description="where the banding table comes from")
    rollup_start: str | None = Field(
        None, description="start of the hours read from the air-quality rollups "
        "(air_quality_hourly, _quarter_hourly; null: all raw)")
    rollup_end: str | None = Field(None, description="end (exclusive) of those hours")
