"""Pydantic models of the three payloads (contract section 2).

Types are strict: a string or boolean where a number is expected, a float where an
integer is expected, NaN or infinity, and values outside the physical ranges are
rejected. Field names carry their units. ``ts`` is normalised to integer epoch
milliseconds, the precision at which readings are stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sensors.timestamps import NS_PER_MS, parse_rfc3339_ns
from sensors.topics import Domain

MAX_PAYLOAD_BYTES = 16 * 1024
# InfluxDB stores int64 nanoseconds (up to 2262); readings after 2200 are certainly wrong.
MAX_TS_MS = 7_258_118_400_000



class Carrier(StrEnum):
    """Energy carriers a meter can report."""

    ELECTRICITY = "electricity"
    GAS = "gas"
    SOLAR_PV = "solar_pv"
    EV_CHARGING = "ev_charging"


class VehicleClass(StrEnum):
    """Classes a traffic counter distinguishes."""

    CAR = "car"
    MOTORCYCLE = "motorcycle"
    VAN = "van"
    HGV = "hgv"
    BUS = "bus"
    BICYCLE = "bicycle"
    PEDESTRIAN = "pedestrian"


POLLUTANT_FIELDS = ("no2_ugm3", "pm25_ugm3", "pm10_ugm3", "o3_ugm3", "so2_ugm3")
AIR_QUALITY_FIELDS = (*POLLUTANT_FIELDS, "co2_ppm", "temperature_c", "humidity_pct")


def _timestamp_error(detail: str) -> PydanticCustomError:
    return PydanticCustomError("timestamp_invalid", "ts {detail}", {"detail": detail})


def parse_timestamp_ms(value: object) -> int:
    """Convert a contract ``ts`` (RFC 3339 with offset, or integer epoch ms) to epoch ms.

    Raises:
        PydanticCustomError: of type ``timestamp_invalid``.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _timestamp_error("must be an RFC 3339 string with offset or integer milliseconds")
    if isinstance(value, int):
        ms = value
    else:
        try:
            # Sub-millisecond digits are truncated: storage precision is one millisecond.
            ms = parse_rfc3339_ns(value) // NS_PER_MS
        except ValueError as exc:
            raise _timestamp_error(str(exc)) from None
    if not 0 <= ms < MAX_TS_MS:
        raise _timestamp_error("is outside 1970-01-01 .. 2200-01-01")
    return ms


NonNegInt = Annotated[int, Field(ge=0)]
IntervalS = Annotated[int, Field(ge=1, le=86_400)]
Concentration = Annotated[float, Field(ge=0, le=10_000)]


class BaseReading(BaseModel):
    """Fields common to every payload.

    A reading's domain comes from its topic and is a class constant (``domain``), never a
    field: a payload field named ``domain`` is an unknown field like any other.
    """

    # extra="allow" so that unknown fields can be counted; they are never stored.
    model_config = ConfigDict(strict=True, extra="allow", frozen=True, allow_inf_nan=False)

    ts: int = Field(description="Epoch milliseconds (end of the interval for interval readings)")
    seq: NonNegInt | None = None

    @field_validator("ts", mode="before")
    @classmethod
    def _parse_ts(cls, value: object) -> int:
        return parse_timestamp_ms(value)

    @property
    def time(self) -> datetime:
        """``ts`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.ts / 1000, tz=UTC)

    @property
    def unknown_fields(self) -> tuple[str, ...]:
        """Names of payload fields the contract does not define."""
        return tuple(self.model_extra or ())


class EnergyReading(BaseReading):
    """A meter reading at a building, car park or street furniture."""

    domain: ClassVar[Domain] = Domain.ENERGY
    carrier: Carrier
    energy_kwh: Annotated[float, Field(ge=0, le=1_000_000)]
    interval_s: IntervalS
    power_kw: Annotated[float, Field(ge=-100_000, le=100_000)] | None = None


class TransportReading(BaseReading):
    """Vehicle and pedestrian counts on a road link over an interval."""

    domain: ClassVar[Domain] = Domain.TRANSPORT
    interval_s: IntervalS
    counts: dict[VehicleClass, Annotated[int, Field(ge=0, le=100_000)]]
    link_km: Annotated[float, Field(gt=0, le=50)] | None = None
    avg_speed_kph: Annotated[float, Field(ge=0, le=200)] | None = None


class AirQualityReading(BaseReading):
    """A roadside or background air-quality monitor reading."""

    domain: ClassVar[Domain] = Domain.AIR_QUALITY
    no2_ugm3: Concentration | None = None
    pm25_ugm3: Concentration | None = None
    pm10_ugm3: Concentration | None = None
    o3_ugm3: Concentration | None = None
    so2_ugm3: Concentration | None = None
    co2_ppm: Annotated[float, Field(ge=0, le=50_000)] | None = None
    temperature_c: Annotated[float, Field(ge=-60, le=70)] | None = None
    humidity_pct: Annotated[float, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _at_least_one_measurement(self) -> AirQualityReading:
        # Spelled out rather than a loop over AIR_QUALITY_FIELDS: this runs per message.
        if (
            self.no2_ugm3 is None and self.pm25_ugm3 is None and self.pm10_ugm3 is None
            and self.o3_ugm3 is None and self.so2_ugm3 is None and self.co2_ppm is None
            and self.temperature_c is None and self.humidity_pct is None
        ):
            raise PydanticCustomError(
                "no_measurements", "at least one of {fields} is required",
                {"fields": ", ".join(AIR_QUALITY_FIELDS)},
            )
        return self


Reading = EnergyReading | TransportReading | AirQualityReading

ReadingModel = type[EnergyReading] | type[TransportReading] | type[AirQualityReading]
MODEL_BY_DOMAIN: dict[Domain, ReadingModel] = {
    Domain.ENERGY: EnergyReading,
    Domain.TRANSPORT: TransportReading,
    Domain.AIR_QUALITY: AirQualityReading,
}


def to_payload(reading: Reading) -> dict[str, Any]:
    """The JSON-ready payload of a reading (``ts`` as epoch ms; unset optionals and unknown
    fields left out)."""
    return reading.model_dump(mode="json", exclude_none=True,
                              exclude=set(reading.model_extra or ()))
