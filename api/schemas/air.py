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
    reason: str | None = Field(description="why index is null")


class DaqiOut(BaseModel):
    """``GET /air-quality/daqi``."""

    site: str
    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]
    source: str = Field(description="where the banding table comes from")


class DaqiHour(BaseModel):
    """The index at one whole hour (windows end at ``at``)."""

    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]


class DaqiHistoryOut(BaseModel):
    """``GET /air-quality/daqi/history``."""

    site: str
    start: str
    end: str
    hours: list[DaqiHour]
    source: str
