"""Response models: the documented shapes of the API's answers (shown in OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sensors.topics import Domain

SensorState = Literal["reporting", "late", "silent"]


class FastJSONResponse(JSONResponse):
    """JSON rendered with orjson: emissions answers can hold many thousands of rows."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class InfluxHealth(BaseModel):
    """What ``/ping`` said."""

    reachable: bool
    database: str
    version: str | None = Field(None, description="X-Influxdb-Version of the server")
    latency_ms: float | None = None
    error: str | None = None


class Health(BaseModel):
    """``GET /health``: ``degraded`` when InfluxDB does not answer (still HTTP 200)."""

    status: Literal["ok", "degraded"]
    influxdb: InfluxHealth
    version: str = Field(description="smartplace version")


class SensorStatus(BaseModel):
    """A sensor, where it is and whether it is reporting."""

    id: str
    domain: Domain
    site: str
    site_name: str | None
    lat: float | None
    lon: float | None
    interval_s: int | None = Field(description="expected seconds between readings")
    carrier: str | None = Field(description="energy sensors only")
    link_km: float | None = Field(description="transport sensors: the registry's link length")
    registered: bool = Field(description="false: found in the database, not in the registry")
    last_seen: str | None = Field(description="RFC 3339 time of the latest reading, or null")
    age_s: float | None = Field(description="seconds since last_seen")
    status: SensorState = Field(
        description="reporting: age <= 2 intervals; late: <= 3; silent: older or never seen"
    )


class SensorList(BaseModel):
    """``GET /api/v1/sensors``."""

    as_of: str
    lookback: str = Field(description="how far back last_seen is looked for")
    counts: dict[SensorState, int]
    sensors: list[SensorStatus]


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
