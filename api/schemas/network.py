"""Response models of ``/health`` and ``/api/v1/sensors``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of
from sensors.topics import Domain

SensorState = Literal["reporting", "late", "silent"]


class InfluxHealth(BaseModel):
    """What ``/ping`` said."""

    reachable: bool = Field(description="InfluxDB answered /ping")
    database: str = Field(description="the database the API reads (SMARTPLACE_INFLUX_DATABASE)")
    version: str | None = Field(None, description="X-Influxdb-Version of the server")
    latency_ms: float | None = Field(None, description="round trip of the ping, ms")
    error: str | None = Field(None, description="why InfluxDB is not usable (null: it is)")
    authenticated: bool | None = Field(
        None, description="whether InfluxDB accepted the API's credentials (null: unreachable)")


class Health(BaseModel):
    """``GET /health``: ``degraded`` when InfluxDB does not answer or refuses the API's
    credentials (still HTTP 200); ``influxdb.error`` says why."""

    model_config = ConfigDict(json_schema_extra=examples_of("health"))

    status: Literal["ok", "degraded"] = Field(
        description="ok: InfluxDB answers and accepts the API's credentials")
    influxdb: InfluxHealth = Field(description="the store's state")
    version: str = Field(description="smartplace version")


class SensorStatus(BaseModel):
    """A sensor, where it is and whether it is reporting."""

    model_config = ConfigDict(json_schema_extra=examples_of("sensor"))

    id: str = Field(description="the sensor id (the topic's last level)")
    domain: Domain = Field(description="energy, transport or air_quality")
    site: str = Field(description="the site id")
    site_name: str | None = Field(description="the registry's name of the site (null: "
                                  "unregistered site)")
    lat: float | None = Field(description="latitude, WGS84 degrees (null: unknown)")
    lon: float | None = Field(description="longitude, WGS84 degrees (null: unknown)")
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
    simulated: bool = Field(False, description="registered as simulated (smartplace simulate "
                            "--sensors): left out of council figures unless asked for")
    retired: bool = Field(False, description="retired: raises no alerts, counts in no "
                          "completeness")


class SensorList(BaseModel):
    """``GET /api/v1/sensors``."""

    model_config = ConfigDict(json_schema_extra=examples_of("sensors"))

    as_of: str = Field(description="RFC 3339 time the statuses were judged at")
    lookback: str = Field(description="how far back last_seen is looked for")
    counts: dict[SensorState, int] = Field(description="sensors in each status")
    sensors: list[SensorStatus] = Field(description="by domain, site and id")


class SensorReading(BaseModel):
    """One stored reading of a sensor."""

    time: str = Field(description="RFC 3339 UTC (the reading's ts)")
    t_ms: int = Field(description="the same, epoch milliseconds")
    seq: int | None = Field(description="the message's sequence number, if it carried one")
    carrier: str | None = Field(description="energy readings: the carrier")
    values: dict[str, float | int] = Field(description="the stored fields, by name")


class SeqGapOut(BaseModel):
    """A jump of ``seq``: messages lost before the broker."""

    at: str = Field(description="the reading after the gap")
    after: str = Field(description="the reading before it")
    from_seq: int = Field(description="seq of the reading before the gap")
    to_seq: int = Field(description="seq of the reading after it")
    lost: int = Field(description="messages missing between them (to_seq - from_seq - 1)")


class SensorReadingsOut(BaseModel):
    """``GET /api/v1/sensors/{sensor_id}/readings``: oldest first."""

    model_config = ConfigDict(json_schema_extra=examples_of("sensor_readings"))

    sensor: str = Field(description="the sensor's id")
    domain: str | None = Field(description="null when there are no readings in the window")
    start: str = Field(description="RFC 3339: the window's start (inclusive)")
    end: str = Field(description="RFC 3339: the window's end (exclusive)")
    limit: int = Field(description="at most this many (the newest) readings")
    readings: list[SensorReading] = Field(description="oldest first")
    seq_gaps: list[SeqGapOut] = Field(description="jumps of seq between consecutive readings")
    lost: int = Field(description="messages lost in the window, summed over the gaps")


class LiveSeriesOut(BaseModel):
    """``GET /api/v1/live/series``: the ``series`` event's shape for any range."""

    model_config = ConfigDict(json_schema_extra=examples_of("live_series"))

    at: str = Field(description="RFC 3339 time of the answer")
    window: Literal["range"] = Field(description="always range (the live event says 1h or 24h)")
    step_s: int = Field(description="bucket length in seconds")
    start: str = Field(description="the first bucket's start (the range widened to steps)")
    end: str = Field(description="the last bucket's end")
    energy_kw: list[list[float | None]] = Field(
        description="[t_ms, electricity+EV kW, gas kW, solar kW] per bucket")
    traffic_vph: list[list[float | None]] = Field(
        description="[t_ms, vehicles/h, bicycles+pedestrians/h] per bucket")
    no2_ugm3: list[list[float | None]] = Field(description="[t_ms, mean NO2] per bucket")
    rollup_start: str | None = Field(
        None, description="start of the buckets read from the hourly rollups (activity_hourly, "
        "air_quality_hourly; null: all raw)")
    rollup_end: str | None = Field(None, description="end (exclusive) of those buckets")
