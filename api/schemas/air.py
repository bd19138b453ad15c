"""Response models of ``/api/v1/air-quality``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Band = Literal["Low", "Moderate", "High", "Very High"]


class DaqiOverall(BaseModel):
    """The site's index: the highest of its pollutants' indices."""

    index: int | None = Field(description="1-10; null when no pollutant has enough data")
    band: Band | None
    driven_by: list[str] = Field(description="pollutants whose index equals the overall one")


class DaqiPollutant(BaseModel):
    """One pollutant over its own averaging window."""

    index: int | None = Field(description="1-10; null without enough readings (see reason)")
    band: Band | None
    mean_ugm3: float | None = Field(description="mean concentration over the window, µg/m³")
    rounded_ugm3: int | None = Field(
        description="the mean rounded half up to a whole µg/m³: the value looked up")
    window: Literal["1h", "15m", "8h", "24h"]
    window_start: str = Field(description="RFC 3339, inclusive")
    window_end: str = Field(description="RFC 3339, exclusive (the moment asked for)")
    readings: int = Field(description="readings in the window, all of the site's monitors")
    needed_per_unit: int | None = Field(
        None, description="readings an hour (SO2: 15 minutes) needs for 75 % data capture, "
        "for the site's main monitor; null when its interval is unknown")
    reason: str | None = Field(description="why index is null")


class DaqiInterval(BaseModel):
    """A monitor's expected reporting interval for a pollutant: the base of its capture."""

    sensor: str
    pollutant: str
    interval_s: float | None = Field(description="null: unknown (capture cannot be judged)")
    source: Literal["registry", "median_gap", "unknown"]


class DaqiOut(BaseModel):
    """``GET /air-quality/daqi``."""

    site: str
    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]
    capture: str = Field("", description="the data capture rule applied")
    intervals: list[DaqiInterval] = Field(
        default_factory=list, description="the monitors read and their expected intervals")
    source: str = Field(description="where the banding table comes from")


class DaqiHour(BaseModel):
    """The index at one whole hour (windows end at ``at``)."""

    site: str | None = None
    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]


class DaqiHistoryOut(BaseModel):
    """``GET /air-quality/daqi/history``: one site, or every site when none is named."""

    site: str | None = Field(description="the site asked for; null: every known site")
    sites: list[str] = Field(default_factory=list)
    start: str
    end: str
    min_band: Band | None = None
    hours: list[DaqiHour] = Field(description="by hour, then site")
    source: str


class DaqiDayPollutant(BaseModel):
    """One pollutant's daily statistic (DEFRA's daily index for historical data)."""

    index: int | None
    band: Band | None
    value_ugm3: float | None
    rounded_ugm3: int | None
    statistic: str
    units: int = Field(description="averaging units in the day (hours; SO2: quarter hours)")
    valid_units: int
    needed_units: int = Field(description="75 % of units, rounded up")
    reason: str | None


class DaqiDay(BaseModel):
    """A site's index for one London calendar day."""

    site: str
    date: str = Field(description="the London date")
    start: str = Field(description="local midnight, with its offset")
    end: str
    hours: int = Field(description="23, 24 or 25")
    overall: DaqiOverall
    pollutants: dict[str, DaqiDayPollutant]


class DaqiDailyOut(BaseModel):
    """``GET /air-quality/daqi/daily``."""

    sites: list[str]
    start: str
    end: str
    min_band: Band | None
    days_by_band: dict[str, dict[str, int]] = Field(
        description="per site: days in each band, and 'none' (no index), before min_band")
    days: list[DaqiDay]
    capture: str
    source: str
