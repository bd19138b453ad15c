"""A pure serialiser from readings, dead letters and project points to InfluxDB line protocol.

Schema: :mod:`sensors.storage`. Readings have a hand-written fast path (the ingestor
writes one line per message); every other point goes through :func:`point_line`, which
types each value from the schema and refuses a field the schema does not list. One
escaping function per position (tag, string field) serves every writer.
"""

from __future__ import annotations

from collections.abc import Mapping

from sensors.grid import RegionalFeed, region_slug
from sensors.readings import (
    AIR_QUALITY_FIELDS,
    AirQualityReading,
    EnergyReading,
    Reading,
    TransportReading,
)
from sensors.storage import (
    COUNT_FIELDS,
    DEAD_LETTER_PAYLOAD_BYTES,
    FIELDS,
    GRID_ACTUAL,
    GRID_FORECAST,
    GRID_INDEX,
    REGISTER_KWH,
    TAGS,
    VEHICLE_CLASSES,
    Measurement,
)
from sensors.timestamps import NS_PER_MS
from sensors.topics import Topic

_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\", "\n": r"\n"})
_FIELD_VALUE = int | float | str


def escape_tag(value: str) -> str:
    """Escape a tag key or value (commas, equals signs, spaces, backslashes, newlines)."""
    return value.translate(_TAG_ESCAPES)


def escape_string_field(value: str) -> str:
    """Quote a string field value; only backslash and double quote need escaping there."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_float(value: float) -> str:
    """A float field: repr() is the shortest text that round-trips (InfluxDB reads its
    exponent form too)."""
    return repr(float(value))


def point_line(measurement: Measurement, tags: Mapping[str, str | None],
               fields: Mapping[str, _FIELD_VALUE | None], timestamp: int) -> str | None:
    """One point of ``measurement``, each field typed by :data:`sensors.storage.FIELDS`.

    Tags are sorted (InfluxDB's preferred order) and escaped; empty or None tags and None
    fields are left out. ``timestamp`` is in the precision the caller writes with.
    Returns None when no field has a value.

    Raises:
        ValueError: a field or tag the schema does not list for ``measurement``.
    """
    unknown_tags = set(tags) - set(TAGS[measurement])
    if unknown_tags:
        raise ValueError(f"{measurement} has no tag {sorted(unknown_tags)} in the storage schema")
    types = FIELDS[measurement]
    values = []
    for name, value in fields.items():
        if value is None:
            continue
        kind = types.get(name)
        if kind == "float":
            values.append(f"{name}={format_float(float(value))}")
        elif kind == "integer":
            values.append(f"{name}={int(value)}i")
        elif kind == "string":
            values.append(f"{name}={escape_string_field(str(value))}")
        else:
            raise ValueError(f"{measurement} has no field {name!r} in the storage schema")
    if not values:
        return None
    head = ",".join([measurement.value, *(f"{escape_tag(key)}={escape_tag(value)}"
                                          for key, value in sorted(tags.items()) if value)])
    return f"{head} {','.join(values)} {timestamp}"


def reading_line(topic: Topic, reading: Reading, default_link_km: float | None = None) -> str:
    """The line for one valid reading (nanosecond precision, millisecond-aligned).

    Tag values need no escaping here: site and sensor are slugs (``[a-z0-9_-]``) checked
    by :func:`sensors.topics.parse_topic`, and carrier is an enum value. Spelled out per
    domain rather than built by :func:`point_line`: this runs once per message.

    Args:
        topic: the parsed topic (domain, site, sensor).
        reading: the validated payload.
        default_link_km: the registry's link length, used when a transport payload has none.
    """
    ts_ns = reading.ts * NS_PER_MS
    seq = "" if reading.seq is None else f",seq={reading.seq}i"
    if isinstance(reading, EnergyReading):
        power = "" if reading.power_kw is None else f",power_kw={format_float(reading.power_kw)}"
        return (
            f"energy,site={topic.site},sensor={topic.sensor},carrier={reading.carrier.value} "
            f"energy_kwh={format_float(reading.energy_kwh)},interval_s={reading.interval_s}i"
            f"{power}{seq} {ts_ns}"
        )
    if isinstance(reading, TransportReading):
        counts = reading.counts
        fields = ",".join(
            f"{name}={counts.get(vc, 0)}i"
            for name, vc in zip(COUNT_FIELDS, VEHICLE_CLASSES, strict=True)
        )
        link_km = reading.link_km if reading.link_km is not None else default_link_km
        link = "" if link_km is None else f",link_km={format_float(link_km)}"
        speed = (
            "" if reading.avg_speed_kph is None
            else f",avg_speed_kph={format_float(reading.avg_speed_kph)}"
        )
        return (
            f"transport,site={topic.site},sensor={topic.sensor} "
            f"{fields},interval_s={reading.interval_s}i{link}{speed}{seq} {ts_ns}"
        )
    assert isinstance(reading, AirQualityReading)
    values = ",".join(
        f"{name}={format_float(value)}"
        for name in AIR_QUALITY_FIELDS
        if (value := getattr(reading, name)) is not None
    )
    return f"air_quality,site={topic.site},sensor={topic.sensor} {values}{seq} {ts_ns}"


def with_register(line: str, register_kwh: float) -> str:
    """An energy reading's line with its meter register (``register_kwh``) added."""
    head, timestamp = line.rsplit(" ", 1)
    return f"{head},{REGISTER_KWH}={format_float(register_kwh)} {timestamp}"


def register_line(topic: Topic, carrier: str, register_kwh: float, ts_ns: int) -> str:
    """A cumulative device's first reading: its register only (no energy yet, so every
    query that sums or counts ``energy_kwh`` passes it by)."""
    line = point_line(Measurement.ENERGY,
                      {"site": topic.site, "sensor": topic.sensor, "carrier": carrier},
                      {REGISTER_KWH: register_kwh}, ts_ns)
    assert line is not None
    return line


def dead_letter_line(
    *, reason: str, domain: str | None, topic: str, payload: bytes, detail: str, ts_ns: int,
    ingestor: str,
) -> str:
    """The line for one bad message: the first 4,096 bytes of its payload, as UTF-8.

    ``ts_ns`` must be unique per dead letter (the caller hands out strictly increasing
    nanoseconds) because same series plus same timestamp overwrites in InfluxDB; the
    ``ingestor`` tag keeps the series of two ingestors apart.
    """
    text = payload[:DEAD_LETTER_PAYLOAD_BYTES].decode("utf-8", errors="replace")
    line = point_line(Measurement.DEAD_LETTER,
                      {"reason": reason, "domain": domain, "ingestor": ingestor},
                      {"topic": topic, "payload": text, "detail": detail}, ts_ns)
    assert line is not None  # the topic is always there
    return line


def grid_lines(feed: RegionalFeed) -> list[str]:
    """One ``grid_intensity`` line per slot (nanoseconds), stamped at the slot start.

    Same region and slot start means same series and timestamp, so a refreshed forecast
    overwrites the previous one in place.
    """
    region = feed.region
    tags = {"region": region_slug(region.regionid), "regionid": str(region.regionid)}
    lines = []
    for slot in region.data:
        intensity = slot.intensity
        line = point_line(Measurement.GRID_INTENSITY, tags, {
            GRID_FORECAST: float(intensity.forecast),
            GRID_ACTUAL: None if intensity.actual is None else float(intensity.actual),
            GRID_INDEX: intensity.index,
        }, slot.start_ms * NS_PER_MS)
        assert line is not None  # the forecast is always there
        lines.append(line)
    return lines
