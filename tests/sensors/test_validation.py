"""Every way a payload can be bad maps to its own dead-letter reason; good ones pass."""

from __future__ import annotations

import orjson
import pytest

from sensors.errors import InvalidReadingError
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    TransportReading,
    VehicleClass,
    parse_timestamp_ms,
    to_payload,
)
from sensors.reasons import DeadLetterReason as R
from sensors.topics import Domain
from sensors.validation import validate_payload

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


BAD = [
    (E, b"x" * (16 * 1024 + 1), R.PAYLOAD_TOO_LARGE),
    (E, b"\xff\xfe{}", R.PAYLOAD_NOT_UTF8),
    (E, b"", R.PAYLOAD_NOT_JSON),
    (E, b"{not json", R.PAYLOAD_NOT_JSON),
    (E, b"[1, 2]", R.PAYLOAD_NOT_OBJECT),
    (E, b'"text"', R.PAYLOAD_NOT_OBJECT),
    (E, f'{{{ENERGY}}}'.encode(), R.FIELD_MISSING),
    (E, b'{"carrier":"gas","energy_kwh":1,"interval_s":60}', R.FIELD_MISSING),
    (E, f'{{{ENERGY},"energy_kwh":"1.5"}}'.encode(), R.FIELD_TYPE),
    (E, f'{{{ENERGY},"energy_kwh":true}}'.encode(), R.FIELD_TYPE),
    (E, f'{{{ENERGY},"energy_kwh":null}}'.encode(), R.FIELD_TYPE),
    (E, f'{{"ts":{TS},"carrier":"gas","energy_kwh":1,"interval_s":60.0}}'.encode(), R.FIELD_TYPE),
    (E, f'{{{ENERGY},"energy_kwh":1,"seq":1.5}}'.encode(), R.FIELD_TYPE),
    (E, f'{{{ENERGY},"energy_kwh":NaN}}'.encode(), R.VALUE_NOT_FINITE),
    (E, f'{{{ENERGY},"energy_kwh":Infinity}}'.encode(), R.VALUE_NOT_FINITE),
    (E, f'{{{ENERGY},"energy_kwh":-0.001}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (E, f'{{{ENERGY},"energy_kwh":1000000.1}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (E, f'{{{ENERGY},"energy_kwh":1,"power_kw":100001}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (E, f'{{{ENERGY},"energy_kwh":1,"seq":-1}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (E, f'{{"ts":{TS},"carrier":"gas","energy_kwh":1,"interval_s":0}}'.encode(),
     R.VALUE_OUT_OF_RANGE),
    (E, f'{{"ts":{TS},"carrier":"gas","energy_kwh":1,"interval_s":86401}}'.encode(),
     R.VALUE_OUT_OF_RANGE),
    (E, b'{"ts":"2026-11-26T10:00:00","carrier":"gas","energy_kwh":1,"interval_s":60}',
     R.TIMESTAMP_INVALID),
    (E, b'{"ts":"26/11/2026 10:00","carrier":"gas","energy_kwh":1,"interval_s":60}',
     R.TIMESTAMP_INVALID),
    (E, b'{"ts":"2026-02-30T10:00:00Z","carrier":"gas","energy_kwh":1,"interval_s":60}',
     R.TIMESTAMP_INVALID),
    (E, f'{{"ts":{TS}.5,"carrier":"gas","energy_kwh":1,"interval_s":60}}'.encode(),
     R.TIMESTAMP_INVALID),
    (E, b'{"ts":true,"carrier":"gas","energy_kwh":1,"interval_s":60}', R.TIMESTAMP_INVALID),
    (E, b'{"ts":-1,"carrier":"gas","energy_kwh":1,"interval_s":60}', R.TIMESTAMP_INVALID),
    (E, b'{"ts":99999999999999999,"carrier":"gas","energy_kwh":1,"interval_s":60}',
     R.TIMESTAMP_INVALID),
    (E, f'{{"ts":{TS},"carrier":"diesel","energy_kwh":1,"interval_s":60}}'.encode(),
     R.CARRIER_UNKNOWN),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{"tank":1}}}}'.encode(), R.VEHICLE_CLASS_UNKNOWN),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{"car":1.0}}}}'.encode(), R.FIELD_TYPE),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{"car":-1}}}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{"car":100001}}}}'.encode(),
     R.VALUE_OUT_OF_RANGE),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":[1]}}'.encode(), R.FIELD_TYPE),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{}},"link_km":0}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (T, f'{{"ts":{TS},"interval_s":60,"counts":{{}},"avg_speed_kph":201}}'.encode(),
     R.VALUE_OUT_OF_RANGE),
    (A, f'{{"ts":{TS}}}'.encode(), R.NO_MEASUREMENTS),
    (A, f'{{"ts":{TS},"humidity_pct":100.5}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (A, f'{{"ts":{TS},"temperature_c":-60.1}}'.encode(), R.VALUE_OUT_OF_RANGE),
    (A, f'{{"ts":{TS},"no2_ugm3":"12"}}'.encode(), R.FIELD_TYPE),
]


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
    readings = [
        EnergyReading(ts=TS, carrier=Carrier.GAS, energy_kwh=2.5, interval_s=60, seq=3),
        TransportReading(ts=TS, interval_s=60, counts={VehicleClass.CAR: 4}, link_km=0.4),
        AirQualityReading(ts=TS, no2_ugm3=41.0),
    ]
    for reading in readings:
        domain = reading.domain
        again = validate_payload(domain, orjson.dumps(to_payload(reading)))
        assert again == reading
