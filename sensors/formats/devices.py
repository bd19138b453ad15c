"""The devices file (contract 7.1): which device is which sensor, and where its values are.

``SMARTPLACE_DEVICES_FILE`` names a JSON file ``{"devices": [...]}``; each entry maps one
device of one format to a sensor (domain, site, sensor, and carrier for energy) and maps
contract fields to paths into the device's values. This is the file's model and its
checks; reading it, and saying which entry is wrong, is :mod:`sensors.formats.devices_loader`.
Checks that need the topic prefix (topic filters that collide) are in
:mod:`sensors.formats.translator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sensors.formats.paths import Path, format_path, parse_path
from sensors.formats.topicfilter import check_filter
from sensors.readings import AIR_QUALITY_FIELDS, Carrier, VehicleClass
from sensors.topics import SLUG, Domain

DEFAULT_TIMEZONE = "Europe/London"


class Format(StrEnum):
    """The device formats of contract section 7."""

    TTN_V3 = "ttn-v3"
    CHIRPSTACK_V4 = "chirpstack-v4"
    SENML = "senml"
    SHELLY_GEN2 = "shelly-gen2"
    TASMOTA = "tasmota"
    JSON = "json"
    SENSOR_COMMUNITY = "sensor-community"


#: The default topic filter of each MQTT format (``{prefix}`` is the topic prefix).
DEFAULT_TOPICS: dict[Format, str] = {
    Format.TTN_V3: "v3/+/devices/+/up",
    Format.CHIRPSTACK_V4: "application/+/device/+/event/up",
    Format.SENML: "{prefix}/senml/+",
    Format.SHELLY_GEN2: "+/events/rpc",
    Format.TASMOTA: "tele/+/SENSOR",
}
#: Formats whose field paths are flat names (a dot belongs to the name).
FLAT_NAME_FORMATS = frozenset({Format.SENML, Format.SENSOR_COMMUNITY})

TS_FIELD, SEQ_FIELD = "ts", "seq"
COUNT_PREFIX = "counts."
TARGETS: dict[Domain, frozenset[str]] = {
    Domain.ENERGY: frozenset({"energy_kwh", "power_kw", "interval_s"}),
    Domain.TRANSPORT: frozenset({*(COUNT_PREFIX + vc.value for vc in VehicleClass),
                                 "interval_s", "link_km", "avg_speed_kph"}),
    Domain.AIR_QUALITY: frozenset(AIR_QUALITY_FIELDS),
}
CUMULATIVE_TARGET = "energy_kwh"
#: Fields a section 2 reading must have: never ``optional``.
REQUIRED_TARGETS = frozenset({"energy_kwh", "interval_s", TS_FIELD})
_Slug = Annotated[str, Field(pattern=f"^{SLUG.pattern}$")]


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Where one contract field of a device comes from."""

    target: str
    path: Path
    scale: float | None = None
    cumulative: bool = False
    optional: bool = False

    @property
    def shown(self) -> str:
        """The path as the devices file wrote it, for messages."""
        return format_path(self.path)


class FieldSource(BaseModel):
    """A ``fields`` entry: a path (string or list of keys), or an object with options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str | list[str]
    scale: float | None = Field(default=None, allow_inf_nan=False)
    cumulative: bool = False
    # An extension of contract 7.1: a source that leaves the value out (or null) when it
    # has none, e.g. a counter's mean speed with no vehicles; only for fields section 2
    # lets a reading leave out. Without it, an absent path is field_missing (7.3).
    optional: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"path": value}
        return value

    @field_validator("scale")
    @classmethod
    def _nonzero(cls, value: float | None) -> float | None:
        if value == 0:
            raise ValueError("scale must not be 0")
        return value


class Device(BaseModel):
    """One entry of the devices file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Format
    device: str = Field(min_length=1, max_length=256)
    domain: Domain
    site: _Slug
    sensor: _Slug
    carrier: Carrier | None = None
    fields: dict[str, FieldSource] = Field(min_length=1)
    interval_s: int | None = Field(default=None, ge=1, le=86_400)
    timezone: str = DEFAULT_TIMEZONE
    topic: str | None = Field(default=None, min_length=1, max_length=1024)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("topic")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        return None if value is None else check_filter(value)

    @model_validator(mode="after")
    def _consistent(self) -> Device:
        fmt, domain = self.format, self.domain
        if (domain is Domain.ENERGY) != (self.carrier is not None):
            raise ValueError("energy devices, and only they, need a carrier")
        if fmt is Format.JSON and self.topic is None:
            raise ValueError("a json device needs its topic")
        if fmt is Format.SENSOR_COMMUNITY:
            if self.topic is not None:
                raise ValueError("sensor-community devices post over HTTP: no topic")
            if not self.device.startswith("esp8266-") or len(self.device) == len("esp8266-"):
                raise ValueError("a sensor-community device id is esp8266-<esp8266id>")
        allowed = TARGETS[domain] | ({TS_FIELD, SEQ_FIELD} if fmt is Format.JSON else set())
        maps = []
        for target, source in self.fields.items():
            if target not in allowed:
                raise ValueError(f"fields.{target}: not a field of {domain.value} readings"
                                 f" (allowed: {', '.join(sorted(allowed))})")
            try:
                path = parse_path(source.path, split=fmt not in FLAT_NAME_FORMATS)
            except ValueError as exc:
                raise ValueError(f"fields.{target}: {exc}") from None
            if fmt in FLAT_NAME_FORMATS and len(path) != 1:
                raise ValueError(f"fields.{target}: {fmt.value} names are one key, not a list")
            if source.cumulative and target != CUMULATIVE_TARGET:
                raise ValueError(f"fields.{target}: only energy_kwh can be cumulative")
            if source.scale is not None and target in (TS_FIELD, SEQ_FIELD):
                raise ValueError(f"fields.{target}: a time or seq cannot be scaled")
            if source.optional and target in REQUIRED_TARGETS:
                raise ValueError(f"fields.{target}: every reading needs it: it cannot be optional")
            maps.append(FieldMap(target, path, source.scale, source.cumulative, source.optional))
        self._require(maps)
        return self

    def _require(self, maps: list[FieldMap]) -> None:
        targets = {one.target for one in maps}
        cumulative = any(one.cumulative for one in maps)
        if self.format is Format.JSON and TS_FIELD not in targets:
            raise ValueError("a json device needs fields.ts: the path of its time")
        needs_interval = self.domain is not Domain.AIR_QUALITY and not cumulative
        if needs_interval and "interval_s" not in targets and self.interval_s is None:
            raise ValueError("give interval_s (the reporting interval) or map fields.interval_s")
        if cumulative and "interval_s" in targets:
            raise ValueError("a cumulative device's interval_s is the time since its previous "
                             "reading: do not map fields.interval_s")
        if self.domain is Domain.ENERGY and CUMULATIVE_TARGET not in targets:
            raise ValueError("an energy device needs fields.energy_kwh")
        if self.domain is Domain.TRANSPORT and not any(
                target.startswith(COUNT_PREFIX) for target in targets):
            raise ValueError("a transport device needs at least one fields.counts.<class>")
        if self.domain is Domain.AIR_QUALITY and not targets & TARGETS[Domain.AIR_QUALITY]:
            raise ValueError("an air-quality device needs at least one measured field")

    @cached_property
    def field_maps(self) -> tuple[FieldMap, ...]:
        """The ``fields`` entries, parsed (in file order; cached: read per message)."""
        split = self.format not in FLAT_NAME_FORMATS
        return tuple(FieldMap(target, parse_path(source.path, split=split), source.scale,
                              source.cumulative, source.optional)
                     for target, source in self.fields.items())

    @cached_property
    def key(self) -> str:
        """The id the device's messages are matched on (ChirpStack's DevEUI in lower case:
        ChirpStack v4 writes it so, and people copy it in upper case)."""
        return device_key(self.format, self.device)

    @cached_property
    def cumulative(self) -> bool:
        """True when energy_kwh comes from a register that only grows."""
        return any(one.cumulative for one in self.field_maps)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The device's time zone (for sources whose time has no offset)."""
        return ZoneInfo(self.timezone)

    def label(self) -> str:
        """``format device`` for messages."""
        return f"{self.format.value} device {self.device!r}"


def device_key(fmt: Format, device_id: str) -> str:
    """The matching form of a device id as a message carries it."""
    return device_id.lower() if fmt is Format.CHIRPSTACK_V4 else device_id


class DevicesFile(BaseModel):
    """The whole file: every device, each once, each to its own sensor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    devices: tuple[Device, ...]

    @model_validator(mode="after")
    def _unique(self) -> DevicesFile:
        seen_device: dict[tuple[Format, str], int] = {}
        seen_sensor: dict[str, int] = {}
        seen_topic: dict[str, int] = {}
        for index, device in enumerate(self.devices):
            key = (device.format, device.key)
            if key in seen_device:
                raise ValueError(f"entry {index}: {device.label()} is also entry "
                                 f"{seen_device[key]}")
            if device.sensor in seen_sensor:
                raise ValueError(f"entry {index}: sensor {device.sensor!r} is also the sensor of "
                                 f"entry {seen_sensor[device.sensor]} (a sensor id is unique)")
            if device.format is Format.JSON and device.topic in seen_topic:
                raise ValueError(f"entry {index}: topic {device.topic!r} is also the topic of "
                                 f"entry {seen_topic[device.topic]}")
            seen_device[key] = index
            seen_sensor[device.sensor] = index
            if device.format is Format.JSON and device.topic is not None:
                seen_topic[device.topic] = index
        return self

    def by_sensor(self) -> dict[str, Device]:
        """Devices keyed by the sensor they feed."""
        return {device.sensor: device for device in self.devices}

    def formats(self) -> set[Format]:
        """The formats the file uses."""
        return {device.format for device in self.devices}
