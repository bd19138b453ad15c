"""Response models of ``/health`` and ``/api/v1/sensors``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sensors.topics import Domain

SensorState = Literal["reporting", "late", "silent"]


class InfluxHealth(BaseModel):
    """What ``/ping`` said."""

    reachable: bool
    database: str
    version: str | None = Field(None, description="X-Influxdb-Version of the server")
    latency_ms: float | None = None
    error: str | None = None
    authenticated: bool | None = Field(
        None, description="whether InfluxDB accepted the API's credentials (null: unreachable)")


class Health(BaseModel):
    """``GET /health``: ``degraded`` when InfluxDB does not answer or refuses the API's
    credentials (still HTTP 200); ``influxdb.error`` says why."""

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
    registered: bool = Field(description="false: not in the registry (found in the devices "
                                         "file or the database)")
    source_format: str = Field(description="what the sensor sends: native (contract section 2) "
                               "or its device format in the devices file (ttn-v3, shelly-gen2, "
                               "...)")
    device: str | None = Field(description="its device's id in the devices file (a TTN device "
                               "id, a DevEUI, a Shelly src, ...); null for native sensors")
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
