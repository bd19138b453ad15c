"""The storage schema (``sensors.storage``) against the contract's models and the serialiser."""

from __future__ import annotations

import orjson
import pytest

from sensors.grid import RegionalFeed
from sensors.lineprotocol import (
    dead_letter_line,
    grid_lines,
    point_line,
    reading_line,
    with_register,
)
from sensors.readings import (
    AIR_QUALITY_FIELDS,
    AirQualityReading,
    Carrier,
    EnergyReading,
    TransportReading,
    VehicleClass,
)
from sensors.reasons import DeadLetterReason
from sensors.storage import (
    FIELDS,
    INGEST_STATS_FIELDS,
    TAG_VALUES,
    TAGS,
    Measurement,
    quote_identifier,
)
from sensors.topics import Domain, Topic

TS = 1_767_225_600_000


def _keys(line: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """Measurement, tag keys and field keys of one line (of values without spaces)."""
    series, fields, _timestamp = line.split(" ")
    measurement, *tags = series.split(",")
    return (measurement, frozenset(tag.split("=", 1)[0] for tag in tags),
            frozenset(pair.split("=", 1)[0] for pair in fields.split(",")))


def _sample_lines() -> list[str]:
    """One line per reading measurement with every optional field, and the others."""
    feed = RegionalFeed.model_validate_json(orjson.dumps({"data": {"regionid": 3, "data": [
        {"from": "2026-01-01T00:00Z", "to": "2026-01-01T00:30Z",
         "intensity": {"forecast": 180, "actual": 170, "index": "moderate"}}]}}))
    stats = point_line(Measurement.INGEST_STATS, {"instance": "i"},
                       dict.fromkeys(INGEST_STATS_FIELDS, 1), TS)
    assert stats is not None
    return [
        # A cumulative device's reading carries its register too (contract 7.1).
        with_register(reading_line(Topic(Domain.ENERGY, "site-a", "meter-1"), EnergyReading(
            ts=TS, seq=1, carrier=Carrier.ELECTRICITY, energy_kwh=1.5, interval_s=60,
            power_kw=90.0)), 1234.5),
        reading_line(Topic(Domain.TRANSPORT, "site-a", "counter-1"), TransportReading(
            ts=TS, seq=1, interval_s=60, link_km=0.4, avg_speed_kph=21.0,
            counts={vc: 3 for vc in VehicleClass})),
        reading_line(Topic(Domain.AIR_QUALITY, "site-a", "monitor-1"),
                     AirQualityReading.model_validate(
                         {"ts": TS, "seq": 1, **dict.fromkeys(AIR_QUALITY_FIELDS, 10.0)})),
        dead_letter_line(reason=DeadLetterReason.PAYLOAD_NOT_JSON.value, domain="energy",
                         topic="x/energy/site-a/meter-1", payload=b"nope", detail="not-json",
                         ts_ns=TS, ingestor="ingest-1"),
        stats, *grid_lines(feed),
    ]


def test_the_serialiser_writes_exactly_the_schema() -> None:
    for line in _sample_lines():
        measurement, tags, fields = _keys(line)
        assert fields == set(FIELDS[Measurement(measurement)]), line
        assert tags == set(TAGS[Measurement(measurement)]), line


def test_the_readings_schema_is_the_contract_one() -> None:
    ignored = {"ts", "domain"}  # the timestamp, and the measurement itself
    energy = set(EnergyReading.model_fields) - ignored - {"carrier"}
    transport = set(TransportReading.model_fields) - ignored - {"counts"}
    assert set(FIELDS[Measurement.ENERGY]) == energy | {"register_kwh"}
    assert set(FIELDS[Measurement.TRANSPORT]) == transport | {
        f"count_{vc.value}" for vc in VehicleClass}
    assert set(FIELDS[Measurement.AIR_QUALITY]) == (
        set(AirQualityReading.model_fields) - ignored)
    assert set(FIELDS[Measurement.DEAD_LETTER]) == {"topic", "payload", "detail"}
    assert TAGS[Measurement.ENERGY] == ("site", "sensor", "carrier")
    # The contract's tags, and the ingestor that stored it (an extension, issue 13).
    assert TAGS[Measurement.DEAD_LETTER] == ("reason", "domain", "ingestor")
    assert set(FIELDS) == set(TAGS) == set(Measurement)
    assert TAG_VALUES["carrier"] == {c.value for c in Carrier}
    assert TAG_VALUES["reason"] == {r.value for r in DeadLetterReason}


def test_point_line_types_fields_from_the_schema_and_escapes_tags() -> None:
    # Whole-number floats stay floats (InfluxDB answers sum(...) = 3.0 as 3).
    line = point_line(Measurement.ACTIVITY_HOURLY, {"site": "a b,c=d\ne", "sensor": "s",
                                                    "domain": "energy", "carrier": None},
                      {"energy_kwh": 3, "readings": 2.0}, 7)
    assert line == (r"activity_hourly,domain=energy,sensor=s,site=a\ b\,c\=d\ne "
                    "energy_kwh=3.0,readings=2i 7")
    assert point_line(Measurement.ROLLUP_STATE, {}, {"since_ms": None}, 1) is None
    with pytest.raises(ValueError, match="no field 'energy_kwh'"):
        point_line(Measurement.TRANSPORT, {}, {"energy_kwh": 1.0}, 1)


def test_quote_identifier_escapes_quotes_and_backslashes() -> None:
    assert quote_identifier('a"b\\c') == '"a\\"b\\\\c"'
