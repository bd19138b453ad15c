"""The grid carbon-intensity feed: its MQTT topic and the payload models. Pure, no I/O.

Payload: the NESO (formerly National Grid ESO) Carbon Intensity API's *regional* answer,
as served by ``/regional/intensity/{from}/fw24h/regionid/{id}`` (and ``fw48h``, ``pt24h``,
``{from}/{to}``)::

    {"data": {"regionid": 3, "dnoregion": "Electricity North West",
              "shortname": "North West England",
              "data": [{"from": "2026-11-26T10:00Z", "to": "2026-11-26T10:30Z",
                        "intensity": {"forecast": 182, "index": "moderate"},
                        "generationmix": [{"fuel": "gas", "perc": 41.2}, ...]}]}}

The single-region endpoints without a time range (``/regional/regionid/{id}``,
``/regional/postcode/{pc}``) wrap the same object in a one-element list
(``{"data": [{...}]}``); both forms are accepted. Regional figures are forecasts in
gCO2/kWh; an ``actual`` next to ``forecast`` (the national endpoints have one) is kept when
present. Unknown fields (``postcode``, future additions) are ignored.

Topic: ``<prefix>/grid/carbon-intensity/<region-slug>``, where the slug is the project's
own name for the NESO region id (region 3 -> ``north-west-england``; an id outside the
table -> ``region-<id>``). The topic's region must match the payload's ``regionid``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sensors.errors import InvalidReadingError
from sensors.reasons import DeadLetterReason
from sensors.timestamps import NS_PER_MS, parse_rfc3339_ns
from sensors.topics import GRID_SEGMENT, SLUG
from sensors.validation import invalid_reading

FEED_SEGMENT = "carbon-intensity"
SLOT_MS = 30 * 60 * 1000
# One feed message is at most a few days of half-hours; 1 MiB leaves ample room (a
# 48-slot answer with its generation mix is about 20 KB) while bounding ingest memory.
MAX_FEED_BYTES = 1024 * 1024
MAX_SLOTS = 5000

# NESO region ids and the slugs this project uses for them (from the API's short names).
REGION_SLUGS: dict[int, str] = {
    1: "north-scotland", 2: "south-scotland", 3: "north-west-england",
    4: "north-east-england", 5: "yorkshire", 6: "north-wales-and-merseyside",
    7: "south-wales", 8: "west-midlands", 9: "east-midlands", 10: "east-england",
    11: "south-west-england", 12: "south-england", 13: "london", 14: "south-east-england",
    15: "england", 16: "scotland", 17: "wales",
}
IntensityIndex = Literal["very low", "low", "moderate", "high", "very high"]
_SHORT_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})Z")


def region_slug(region_id: int) -> str:
    """The topic segment and ``region`` tag of a NESO region id."""
    return REGION_SLUGS.get(region_id, f"region-{region_id}")


def grid_topic(prefix: str, region_id: int) -> str:
    """The topic the feed of ``region_id`` is published on (``prefix`` normalised)."""
    return f"{prefix}/{GRID_SEGMENT}/{FEED_SEGMENT}/{region_slug(region_id)}"


def parse_grid_topic(prefix: str, topic: str) -> str:
    """The region slug of a grid feed topic.

    Raises:
        InvalidReadingError: ``topic_invalid`` when the topic is not
            ``<prefix>/grid/carbon-intensity/<slug>``.
    """
    parts = topic[len(prefix) + 1 :].split("/")
    if (len(parts) != 3 or parts[0] != GRID_SEGMENT or parts[1] != FEED_SEGMENT
            or SLUG.fullmatch(parts[2]) is None):
        raise InvalidReadingError(
            DeadLetterReason.TOPIC_INVALID,
            f"topic {topic!r} is not <prefix>/{GRID_SEGMENT}/{FEED_SEGMENT}/<region-slug>",
        )
    return parts[2]


def parse_slot_time_ms(text: str) -> int:
    """Epoch ms of a slot bound: NESO's ``2026-11-26T10:00Z`` or full RFC 3339.

    Raises:
        ValueError: not one of those forms.
    """
    short = _SHORT_TIME.fullmatch(text)
    return parse_rfc3339_ns(f"{short.group(1)}:00Z" if short else text) // NS_PER_MS


def format_slot_time(ms: int) -> str:
    """NESO's own form of a slot bound (minutes, UTC, ``Z``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


_Intensity = Annotated[float, Field(ge=0, le=2000, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


class Intensity(_Model):
    """A slot's carbon intensity (gCO2/kWh) and NESO's qualitative band."""

    forecast: _Intensity
    actual: _Intensity | None = None
    index: IntensityIndex


class FuelShare(_Model):
    """One fuel's share of the region's generation, in percent."""

    fuel: str
    perc: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Slot(_Model):
    """One half-hour settlement period; ``start_ms`` and ``end_ms`` are epoch ms (UTC)."""

    start_ms: int = Field(alias="from")
    end_ms: int = Field(alias="to")
    intensity: Intensity
    generationmix: tuple[FuelShare, ...] = ()

    @field_validator("start_ms", "end_ms", mode="plain")
    @classmethod
    def _time(cls, value: object) -> int:
        if not isinstance(value, str):
            raise PydanticCustomError("timestamp_invalid", "slot time must be a string")
        try:
            ms = parse_slot_time_ms(value)
        except ValueError as exc:
            raise PydanticCustomError("timestamp_invalid", "slot time {detail}",
                                      {"detail": str(exc)}) from None
        if ms % SLOT_MS:
            raise PydanticCustomError("timestamp_invalid", "slot time is not on a half-hour")
        return ms

    @model_validator(mode="after")
    def _half_hour(self) -> Slot:
        if self.end_ms - self.start_ms != SLOT_MS:
            raise PydanticCustomError("timestamp_invalid", "a slot must last exactly 30 minutes")
        return self


class RegionForecast(_Model):
    """One region's half-hourly series."""

    regionid: Annotated[int, Field(ge=1, le=999)]
    dnoregion: str | None = None
    shortname: str | None = None
    data: Annotated[tuple[Slot, ...], Field(min_length=1, max_length=MAX_SLOTS)]


class RegionalFeed(_Model):
    """The whole answer: one region, either bare or in a one-element list."""

    data: RegionForecast | Annotated[list[RegionForecast], Field(min_length=1, max_length=1)]

    @property
    def region(self) -> RegionForecast:
        """The region's series, whichever form the answer took."""
        return self.data[0] if isinstance(self.data, list) else self.data


def validate_feed(payload: bytes) -> RegionalFeed:
    """Validate one feed message.

    Raises:
        InvalidReadingError: with an existing dead-letter reason (``payload_too_large``,
            ``payload_not_json``, ``field_missing``, ``timestamp_invalid``, ...).
    """
    if len(payload) > MAX_FEED_BYTES:
        raise InvalidReadingError(
            DeadLetterReason.PAYLOAD_TOO_LARGE,
            f"feed payload is {len(payload)} bytes, the limit is {MAX_FEED_BYTES}",
        )
    try:
        return RegionalFeed.model_validate_json(payload)
    except ValidationError as exc:
        # A union reports one error per member; the most specific is the one deepest down.
        deepest = max(exc.errors(include_url=False), key=lambda e: len(e["loc"]))
        raise invalid_reading(deepest, payload) from None

