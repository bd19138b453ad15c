"""The MQTT topic scheme ``<prefix>/<domain>/<site>/<sensor>`` (contract section 1).

The project also defines ``<prefix>/grid/...`` for the grid carbon-intensity feed
(``sensors/grid.py``). ``grid`` is not a domain: :func:`parse_topic` still rejects it as
``domain_unknown``, and the ingestor checks :func:`is_grid_topic` only after that, so the
readings' hot path is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sensors.errors import InvalidReadingError
from sensors.reasons import DeadLetterReason

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
DEFAULT_PREFIX = "stockport/town-centre"
GRID_SEGMENT = "grid"


class Domain(StrEnum):
    """The three sensor domains; each is also an InfluxDB measurement."""

    ENERGY = "energy"
    TRANSPORT = "transport"
    AIR_QUALITY = "air_quality"


_DOMAINS = {d.value: d for d in Domain}


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed reading topic."""

    domain: Domain
    site: str
    sensor: str


def is_slug(value: str) -> bool:
    """Return True when ``value`` is a valid site or sensor id."""
    return SLUG.fullmatch(value) is not None


def normalise_prefix(prefix: str) -> str:
    """Strip surrounding slashes so that ``a/b/`` and ``a/b`` mean the same prefix."""
    cleaned = prefix.strip("/")
    if not cleaned or "+" in cleaned or "#" in cleaned:
        raise ValueError(f"invalid topic prefix {prefix!r}")
    return cleaned


def build_topic(prefix: str, domain: Domain | str, site: str, sensor: str) -> str:
    """Build the topic a sensor publishes on.

    Raises:
        ValueError: if the site or sensor is not a slug.
    """
    if not is_slug(site) or not is_slug(sensor):
        raise ValueError(f"site and sensor must be slugs, got {site!r}, {sensor!r}")
    return f"{normalise_prefix(prefix)}/{Domain(domain).value}/{site}/{sensor}"


def subscription(prefix: str, share_group: str | None = None) -> str:
    """The wildcard subscription that covers everything under ``prefix``; with a group,
    the MQTT 5 shared subscription ``$share/<group>/<prefix>/#``, which the broker spreads
    over the group's members (each message to one of them)."""
    return shared(f"{normalise_prefix(prefix)}/#", share_group)


def shared(topic_filter: str, share_group: str | None) -> str:
    """``topic_filter`` as the MQTT 5 shared subscription of ``share_group`` (if any)."""
    return f"$share/{share_group}/{topic_filter}" if share_group else topic_filter


def domain_of(prefix: str, topic: str) -> Domain | None:
    """The domain a topic names, if it names a valid one (used to tag dead letters)."""
    head = normalise_prefix(prefix) + "/"
    if not topic.startswith(head):
        return None
    return _DOMAINS.get(topic[len(head) :].split("/", 1)[0])


def is_grid_topic(prefix: str, topic: str) -> bool:
    """True when ``topic`` (under the normalised ``prefix``) is in the grid feed's subtree."""
    return topic.startswith(f"{prefix}/{GRID_SEGMENT}/")


def parse_topic(prefix: str, topic: str) -> Topic:
    """Parse a reading topic.

    ``prefix`` must already be normalised (see :func:`normalise_prefix`); the ingest hot
    path calls this once per message.

    Raises:
        InvalidReadingError: ``topic_invalid`` or ``domain_unknown``.
    """
    if not topic.startswith(prefix) or topic[len(prefix) : len(prefix) + 1] != "/":
        raise InvalidReadingError(
            DeadLetterReason.TOPIC_INVALID, f"topic {topic!r} is not under prefix {prefix!r}"
        )
    parts = topic[len(prefix) + 1 :].split("/")
    if len(parts) != 3:
        raise InvalidReadingError(
            DeadLetterReason.TOPIC_INVALID,
            f"topic {topic!r} is not <prefix>/<domain>/<site>/<sensor>",
        )
    domain_name, site, sensor = parts
    domain = _DOMAINS.get(domain_name)
    if domain is None:
        raise InvalidReadingError(
            DeadLetterReason.DOMAIN_UNKNOWN,
            f"domain {domain_name!r} is not one of {list(_DOMAINS)}",
        )
    if SLUG.fullmatch(site) is None or SLUG.fullmatch(sensor) is None:
        raise InvalidReadingError(
            DeadLetterReason.TOPIC_INVALID,
            f"site {site!r} and sensor {sensor!r} must match {SLUG.pattern}",
        )
    return Topic(domain, site, sensor)
