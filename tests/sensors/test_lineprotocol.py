"""The line-protocol serialiser, including hostile strings."""

from __future__ import annotations

import pytest

from sensors.lineprotocol import (
    dead_letter_line,
    escape_string_field,
    escape_tag,
    point_line,
    reading_line,
)
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    TransportReading,
    VehicleClass,
)
from sensors.storage import Measurement
from sensors.topics import Domain, Topic

TS = 1795687200250


def test_energy_line() -> None:
    reading = EnergyReading(ts=TS, carrier=Carrier.GAS, energy_kwh=2.5, interval_s=60,
                            power_kw=150.0, seq=7)
    line = reading_line(Topic(Domain.ENERGY, "town-hall", "th-gas"), reading)
    assert line == (
        "energy,site=town-hall,sensor=th-gas,carrier=gas "
        f"energy_kwh=2.5,interval_s=60i,power_kw=150.0,seq=7i {TS * 1_000_000}"
    )


def test_transport_line_fills_missing_classes_and_falls_back_to_registry_length() -> None:
    reading = TransportReading(ts=TS, interval_s=60, counts={VehicleClass.CAR: 12,
                               VehicleClass.BUS: 1})
    line = reading_line(Topic(Domain.TRANSPORT, "s", "c"), reading, default_link_km=0.62)
    assert line == (
        "transport,site=s,sensor=c count_car=12i,count_motorcycle=0i,count_van=0i,"
        "count_hgv=0i,count_bus=1i,count_bicycle=0i,count_pedestrian=0i,interval_s=60i,"
        f"link_km=0.62 {TS * 1_000_000}"
    )
    own = TransportReading(ts=TS, interval_s=60, counts={}, link_km=0.3, avg_speed_kph=21.5)
    assert ",link_km=0.3,avg_speed_kph=21.5 " in reading_line(
        Topic(Domain.TRANSPORT, "s", "c"), own, default_link_km=0.62
    )
    unknown = reading_line(Topic(Domain.TRANSPORT, "s", "c"), TransportReading(
        ts=TS, interval_s=60, counts={}))
    assert "link_km" not in unknown


def test_air_quality_line_has_only_present_fields() -> None:
    reading = AirQualityReading(ts=TS, no2_ugm3=41.0, humidity_pct=80)
    line = reading_line(Topic(Domain.AIR_QUALITY, "s", "a"), reading)
    assert line == f"air_quality,site=s,sensor=a no2_ugm3=41.0,humidity_pct=80.0 {TS * 1_000_000}"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", r"a\,b"),
        ("a b", r"a\ b"),
        ("a=b", r"a\=b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", r"a\nb"),
        ('a"b', 'a"b'),
        ("é☃", "é☃"),
    ],
)
def test_tag_escaping(raw: str, escaped: str) -> None:
    assert escape_tag(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("trailing\\", r'"trailing\\"'),
        ("a,b c=d", '"a,b c=d"'),
        ("line\nbreak", '"line\nbreak"'),
        ("☃ üñí", '"☃ üñí"'),
    ],
)
def test_string_field_quoting(raw: str, quoted: str) -> None:
    assert escape_string_field(raw) == quoted


def test_dead_letter_truncates_payload_and_replaces_invalid_utf8() -> None:
    payload = b"\xff" + b"x" * 5000
    line = dead_letter_line(reason="payload_not_utf8", domain="energy", topic="t/energy/a/b",
                            payload=payload, detail="bad", ts_ns=5, ingestor="ingest a=1")
    assert line.startswith(
        r"dead_letter,domain=energy,ingestor=ingest\ a\=1,reason=payload_not_utf8 topic=")
    assert "\ufffd" + "x" * 4095 + '"' in line
    assert "x" * 4096 not in line
    assert line.endswith(" 5")


def test_ingest_stats_line_types_integers_and_floats() -> None:
    line = point_line(Measurement.INGEST_STATS, {"instance": "ingest a"},
                      {"received": 5, "lag_seconds": 0.25}, 9)
    assert line == r"ingest_stats,instance=ingest\ a received=5i,lag_seconds=0.25 9"
