"""A pure serialiser from readings and dead letters to InfluxDB line protocol.

Storage schema: contract section 3. Timestamps are written in nanoseconds (one
precision for every line of a batch) but readings are millisecond-aligned.
"""

from __future__ import annotations

from sensors.readings import (
    AIR_QUALITY_FIELDS,
    AirQualityReading,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.topics import Topic

DEAD_LETTER_MEASUREMENT = "dead_letter"
DEAD_LETTER_PAYLOAD_BYTES = 4096
_VEHICLE_CLASSES = tuple(VehicleClass)
_COUNT_FIELDS = tuple(f"count_{vc.value}" for vc in _VEHICLE_CLASSES)

_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\", "\n": r"\n"})


def escape_tag(value: str) -> str:
    """Escape a tag key or value (commas, equals signs, spaces, backslashes, newlines)."""
    return value.translate(_TAG_ESCAPES)


def escape_string_field(value: str) -> str:
    """Quote a string field value; only backslash and double quote need escaping there."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _float(value: float) -> str:
    # repr() is the shortest text that round-trips; InfluxDB parses its exponent form too.
    return repr(float(value))


def reading_line(topic: Topic, reading: Reading, default_link_km: float | None = None) -> str:
    """The line for one valid reading.

    Tag values need no escaping here: site and sensor are slugs (``[a-z0-9_-]``) checked
    by :func:`sensors.topics.parse_topic`, and carrier is an enum value.

    Args:
        topic: the parsed topic (domain, site, sensor).
        reading: the validated payload.
        default_link_km: the registry's link length, used when a transport payload has none.
    """
    ts_ns = reading.ts * 1_000_000
    seq = "" if reading.seq is None else f",seq={reading.seq}i"
    if isinstance(reading, EnergyReading):
        power = "" if reading.power_kw is None else f",power_kw={_float(reading.power_kw)}"
        return (
            f"energy,site={topic.site},sensor={topic.sensor},carrier={reading.carrier.value} "
            f"energy_kwh={_float(reading.energy_kwh)},interval_s={reading.interval_s}i"
            f"{power}{seq} {ts_ns}"
        )
    if isinstance(reading, TransportReading):
        counts = reading.counts
        fields = ",".join(
            f"{name}={counts.get(vc, 0)}i"
            for name, vc in zip(_COUNT_FIELDS, _VEHICLE_CLASSES, strict=True)
        )
        link_km = reading.link_km if reading.link_km is not None else default_link_km
        link = "" if link_km is None else f",link_km={_float(link_km)}"
        speed = (
            "" if reading.avg_speed_kph is None
            else f",avg_speed_kph={_float(reading.avg_speed_kph)}"
        )
        return (
            f"transport,site={topic.site},sensor={topic.sensor} "
            f"{fields},interval_s={reading.interval_s}i{link}{speed}{seq} {ts_ns}"
        )
    assert isinstance(reading, AirQualityReading)
    values = ",".join(
        f"{name}={_float(value)}"
        for name in AIR_QUALITY_FIELDS
        if (value := getattr(reading, name)) is not None
    )
    return f"air_quality,site={topic.site},sensor={topic.sensor} {values}{seq} {ts_ns}"


def dead_letter_line(
    *, reason: str, domain: str | None, topic: str, payload: bytes, detail: str, ts_ns: int
) -> str:
    """The line for one bad message.

    ``ts_ns`` must be unique per dead letter (the caller hands out strictly increasing
    nanoseconds) because same series plus same timestamp overwrites in InfluxDB.
    """
    tags = f",reason={escape_tag(reason)}"
    if domain is not None:
        tags += f",domain={escape_tag(domain)}"
    text = payload[:DEAD_LETTER_PAYLOAD_BYTES].decode("utf-8", errors="replace")
    return (
        f"{DEAD_LETTER_MEASUREMENT}{tags} topic={escape_string_field(topic)},"
        f"payload={escape_string_field(text)},detail={escape_string_field(detail)} {ts_ns}"
    )


INGEST_STATS_MEASUREMENT = "ingest_stats"


def ingest_stats_line(instance: str, fields: dict[str, int | float], ts_ns: int) -> str:
    """The ingestor's own counters as one point (integers get the ``i`` suffix)."""
    values = ",".join(
        f"{name}={value}i" if isinstance(value, int) else f"{name}={_float(value)}"
        for name, value in fields.items()
    )
    return f"{INGEST_STATS_MEASUREMENT},instance={escape_tag(instance)} {values} {ts_ns}"
