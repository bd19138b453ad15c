"""Every way a payload can be bad maps to its own dead-letter reason; good ones pass."""

from __future__ import annotations

import orjson
import pytest

from sensors.errors import InvalidReadingError
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
    parse_timestamp_ms,
    to_payload,
)
from sensors.reasons import DeadLetterReason as R
from sensors.topics import Domain
from sensors.validation import validate_payload
from tests.sensors.payloads import BAD

E, T, A = Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY
TS = 1795687200000  # 2026-11-26T10:00:00Z
ENERGY = f'"ts":{TS},"carrier":"electricity","interval_s":900'

VALID = [
    (E, f'{{{ENERGY},"energy_kwh":12.5}}'),
    (E, f'{{{ENERGY},"energy_kwh":12}}'),  # an integer where a number is expected is fine
    (E, f'{{{ENERGY},"energy_kwh":0,"power_kw":-3.5,"seq":0}}'),
    (E, '{"ts":"2026-11-26T10:00:00.250Z","carrier":"gas","energy_kwh":1e6,"interval_s":86400}'),
    (E, '{"ts":"2026-11-26T10:00:00+01:00","carrier":"solar_pv","energy_kwh":1,"interval_s":1}'),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{}}}}'),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{"car":100000,"pedestrian":0}},"link_km":50}}'),
    (A, f'{{"ts":{TS},"humidity_pct":100}}'),
    (A, f'{{"ts":{TS},"temperature_c":-60,"co2_ppm":50000,"no2_ugm3":10000}}'),
]


@pytest.mark.parametrize(("domain", "payload"), VALID)
def test_valid_payloads_pass(domain: Domain, payload: str) -> None:
    reading = validate_payload(domain, payload.encode())
    assert reading.ts > 0



@pytest.mark.parametrize(("domain", "payload", "reason"), BAD)
def test_bad_payloads_name_their_reason(domain: Domain, payload: bytes, reason: R) -> None:
    with pytest.raises(InvalidReadingError) as caught:
        validate_payload(domain, payload)
    assert caught.value.reason is reason, caught.value.detail


def test_unknown_fields_are_counted_not_stored() -> None:
    reading = validate_payload(E, f'{{{ENERGY},"energy_kwh":1,"colour":"red"}}'.encode())
    assert reading.unknown_fields == ("colour",)
    assert "colour" not in to_payload(reading)


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("2026-11-26T10:00:00Z", 1795687200000),
        ("2026-11-26T10:00:00.250Z", 1795687200250),
        ("2026-11-26t10:00:00.2509999z", 1795687200250),
        ("2026-11-26T11:00:00+01:00", 1795687200000),
        ("2026-11-26 10:00:00-00:30", 1795689000000),
        (1795687200000, 1795687200000),
    ],
)
def test_timestamps_normalise_to_epoch_ms(text: str | int, expected_ms: int) -> None:
    assert parse_timestamp_ms(text) == expected_ms


def test_models_round_trip_through_their_payload() -> None:
    readings: list[Reading] = [
        EnergyReading(ts=TS, carrier=Carrier.GAS, energy_kwh=2.5, interval_s=60, seq=3),
        TransportReading(ts=TS, interval_s=60, counts={VehicleClass.CAR: 4}, link_km=0.4),
        AirQualityReading(ts=TS, no2_ugm3=41.0),
    ]
    for reading in readings:
        domain = reading.domain
        again = validate_payload(domain, orjson.dumps(to_payload(reading)))
        assert again == reading


@pytest.mark.parametrize("value", ['"transport"', '"energy"', "1", "null"])
def test_a_payload_field_named_domain_is_an_unknown_field(value: str) -> None:
    # The domain comes from the topic; a payload cannot set it (it is ignored and counted).
    payload = f'{{{ENERGY},"energy_kwh":1,"domain":{value}}}'.encode()
    reading = validate_payload(E, payload)
    assert reading.domain is Domain.ENERGY
    assert reading.unknown_fields == ("domain",)
