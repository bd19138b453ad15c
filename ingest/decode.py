"""Turn one MQTT message into what stores it: a :class:`Decoded` reading or a :class:`Rejection`.

A grid carbon-intensity feed message (``<prefix>/grid/carbon-intensity/<region>``,
``sensors/grid.py``) carries many half-hour slots and becomes one ``grid_intensity``
point per slot. Its ``line`` is those lines joined by ``\\n``: the store posts lines joined
by ``\\n`` anyway, so a multi-line item travels in one batch like any reading, and when
InfluxDB refuses a batch the store's bisection narrows down to whole items, so a refused
feed maps back to its one message (stored as one ``store_rejected`` dead letter).

Device formats (contract section 7, :mod:`ingest.formats`) are tried only where a native
message fails: a format's topic is never a valid ``<prefix>/<domain>/<site>/<sensor>`` (the
devices file is refused at start-up if one could be), so a native reading pays nothing
for them. A format message may also be :class:`Ignored` (not a reading: counted), and
its ``Decoded`` may carry the ``rejections`` of the readings in it that are bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from sensors.errors import InvalidReadingError
from sensors.grid import parse_grid_topic, region_slug, validate_feed
from sensors.lineprotocol import grid_lines, reading_line
from sensors.reasons import DeadLetterReason
from sensors.registry import Registry
from sensors.storage import Measurement
from sensors.timestamps import NS_PER_MS
from sensors.topics import domain_of, is_grid_topic, parse_topic
from sensors.validation import validate_payload

if TYPE_CHECKING:
    from ingest.formats import FormatDecoder


class Decoded(NamedTuple):
    """A valid message, encoded. A NamedTuple: one is built per message, and a frozen
    dataclass costs several times as much to construct."""

    line: str
    """The line protocol (nanosecond precision); several lines joined by ``\\n`` for a feed."""
    measurement: str
    ts_ns: int
    """The timestamp of the newest point in ``line``."""
    unknown_fields: int
    """Payload fields the contract does not define (ignored, counted)."""
    rejections: tuple[Rejection, ...] = ()
    """Readings of the same message that are bad input (device formats: a SenML pack with
    an unknown device, say); each is its own dead letter. With rejections, ``line`` may
    be empty: nothing of the message is a valid reading."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message is bad input, and what the dead letter records about it."""

    reason: str
    domain: str | None
    detail: str


class Ignored(NamedTuple):
    """A message of a device format's topic that is not a reading (a LoRaWAN join, a
    Shelly ``NotifyEvent``): acknowledged and counted by ``kind``, not stored."""

    kind: str


class MessageDecoder:
    """Validates messages under one topic prefix and encodes valid ones as line protocol."""

    def __init__(self, prefix: str, registry: Registry,
                 formats: FormatDecoder | None = None) -> None:
        self.prefix = prefix
        self._native_head = f"{prefix}/"
        self.formats = formats
        self.link_km = {
            sensor.id: sensor.link_km for sensor in registry.sensors if sensor.link_km is not None
        }

    def decode(self, topic: str, payload: bytes) -> Decoded | Rejection | Ignored:
        """The encoded reading, or why the message is bad input (or that it is no reading).

        Raises:
            StateStoreError: a cumulative device's register history cannot be written.
        """
        if self.formats is not None and not topic.startswith(self._native_head):
            # Outside the prefix a message can only be a format's: skip the native attempt
            # and its refusal (an exception with its message formatted, and the format's
            # whole decode inside its handler): 101 -> 89 us per TTN uplink in
            # bench/format_decode.py. A topic no format claims goes on below, to be refused
            # as before; SenML's <prefix>/senml/+ takes the usual way.
            translated = self.formats.decode(topic, payload)
            if translated is not None:
                return translated
        try:
            parsed = parse_topic(self.prefix, topic)
            reading = validate_payload(parsed.domain, payload)
        except InvalidReadingError as exc:
            # The grid feed is not a domain, so it lands here; checking it only now keeps
            # the readings' path free of the extra test.
            if exc.reason is DeadLetterReason.DOMAIN_UNKNOWN and is_grid_topic(self.prefix, topic):
                return self._decode_grid(topic, payload)
            if self.formats is not None:
                translated = self.formats.decode(topic, payload)
                if translated is not None:
                    return translated
            domain = domain_of(self.prefix, topic)
            return Rejection(exc.reason.value, domain.value if domain else None, exc.detail)
        extra = reading.model_extra
        return Decoded(reading_line(parsed, reading, self.link_km.get(parsed.sensor)),
                       parsed.domain.value, reading.ts * NS_PER_MS, len(extra) if extra else 0)

    def _decode_grid(self, topic: str, payload: bytes) -> Decoded | Rejection:
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
        newest_ms = max(slot.start_ms for slot in feed.region.data)
        return Decoded("\n".join(grid_lines(feed)), Measurement.GRID_INTENSITY.value,
                       newest_ms * NS_PER_MS, 0)
