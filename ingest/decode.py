"""Turn one MQTT message into the line that stores it: a reading or a dead letter."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.lineprotocol import reading_line
from sensors.errors import InvalidReadingError
from sensors.registry import Registry
from sensors.topics import domain_of, parse_topic
from sensors.validation import validate_payload


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
        """Return ``(line, unknown_field_count)`` for a valid reading, else a :class:`Rejection`."""
        try:
            parsed = parse_topic(self.prefix, topic)
            reading = validate_payload(parsed.domain, payload)
        except InvalidReadingError as exc:
            domain = domain_of(self.prefix, topic)
            return Rejection(exc.reason.value, domain.value if domain else None, exc.detail)
        line = reading_line(parsed, reading, self._link_km.get(parsed.sensor))
        extra = reading.model_extra
        return line, (len(extra) if extra else 0)
