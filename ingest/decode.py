"""Turn one MQTT message into the line that stores it: a reading or a dead letter.

A grid carbon-intensity feed message (``<prefix>/grid/carbon-intensity/<region>``,
``sensors/grid.py``) carries many half-hour slots and becomes one ``grid_intensity``
point per slot. Its "line" is those lines joined by ``\\n``: the store posts lines joined
by ``\\n`` anyway, so a multi-line item travels in one batch like any reading, and when
InfluxDB refuses a batch the store's bisection narrows down to whole items, so a refused
feed maps back to its one message (stored as one ``store_rejected`` dead letter).
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.lineprotocol import escape_string_field, escape_tag, reading_line
from sensors.errors import InvalidReadingError
from sensors.grid import RegionalFeed, parse_grid_topic, region_slug, validate_feed
from sensors.reasons import DeadLetterReason
from sensors.registry import Registry
from sensors.topics import domain_of, is_grid_topic, parse_topic
from sensors.validation import validate_payload

GRID_MEASUREMENT = "grid_intensity"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message is bad input, and what the dead letter records about it."""

    reason: str
    domain: str | None
    detail: str


class MessageDecoder:
    """Validates messages under one topic prefix and encodes valid ones as line protocol."""

    def __init__(self, prefix: str, registry: Registry) -> None:
        self.prefix = prefix
        self._link_km = {
            sensor.id: sensor.link_km for sensor in registry.sensors if sensor.link_km is not None
        }

    def decode(self, topic: str, payload: bytes) -> tuple[str, int] | Rejection:
        """Return ``(line, unknown_field_count)`` for a valid reading, else a :class:`Rejection`.

        For a grid feed message ``line`` holds one line per slot, joined by ``\\n``.
        """
        try:
            parsed = parse_topic(self.prefix, topic)
            reading = validate_payload(parsed.domain, payload)
        except InvalidReadingError as exc:
            # The grid feed is not a domain, so it lands here; checking it only now keeps
            # the readings' path free of the extra test.
            if exc.reason is DeadLetterReason.DOMAIN_UNKNOWN and is_grid_topic(self.prefix, topic):
                return self._decode_grid(topic, payload)
            domain = domain_of(self.prefix, topic)
            return Rejection(exc.reason.value, domain.value if domain else None, exc.detail)
        line = reading_line(parsed, reading, self._link_km.get(parsed.sensor))
        extra = reading.model_extra
        return line, (len(extra) if extra else 0)

    def _decode_grid(self, topic: str, payload: bytes) -> tuple[str, int] | Rejection:
        try:
            slug = parse_grid_topic(self.prefix, topic)
            feed = validate_feed(payload)
        except InvalidReadingError as exc:
            return Rejection(exc.reason.value, None, exc.detail)
        regionid = feed.region.regionid
        if region_slug(regionid) != slug:
            return Rejection(
                DeadLetterReason.TOPIC_INVALID.value, None,
                f"payload is for region {regionid} ({region_slug(regionid)}), "
                f"the topic names {slug!r}",
            )
        return grid_lines(feed), 0


def grid_lines(feed: RegionalFeed) -> str:
    """One ``grid_intensity`` line per slot, joined by newlines, stamped at the slot start.

    Same region and slot start means same series and timestamp, so a refreshed forecast
    overwrites the previous one in place.
    """
    region = feed.region
    tags = f"{GRID_MEASUREMENT},region={escape_tag(region_slug(region.regionid))}," \
           f"regionid={region.regionid}"
    lines = []
    for slot in region.data:
        intensity = slot.intensity
        actual = (
            "" if intensity.actual is None
            else f",actual_gco2_kwh={float(intensity.actual)!r}"
        )
        lines.append(
            f"{tags} forecast_gco2_kwh={float(intensity.forecast)!r}{actual},"
            f"index={escape_string_field(intensity.index)} {slot.start_ms * 1_000_000}"
        )
    return "\n".join(lines)
