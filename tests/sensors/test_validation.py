"""Every way a payload can be bad maps to its own dead-letter reason; good ones pass."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sensors.errors import InvalidReadingError
from sensors.readings import (
    MAX_PAYLOAD_BYTES,
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
from sensors.validation import validate_object, validate_payload
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


# validate_object: a translated dict is validated by the model's Python side, and refused
# exactly as its JSON would be (the way validate_object used to validate every dict).

def _json_path(domain: Domain, data: dict[str, Any]) -> Reading | tuple[R, str]:
    """What the dict -> JSON -> validate round trip gives (a reading, or reason and detail)."""
    try:
        return validate_payload(domain, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
    except InvalidReadingError as exc:
        return exc.reason, exc.detail


def _direct(domain: Domain, data: dict[str, Any]) -> Reading | tuple[R, str]:
    try:
        return validate_object(domain, data)
    except InvalidReadingError as exc:
        return exc.reason, exc.detail


def _as_dicts() -> list[tuple[Domain, dict[str, Any]]]:
    """Every table payload that is a JSON object orjson reads (not NaN, not too large)."""
    found: list[tuple[Domain, dict[str, Any]]] = []
    tables = [(d, p.encode()) for d, p in VALID] + [(d, p) for d, p, _ in BAD]
    for domain, payload in tables:
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        if isinstance(data, dict) and len(payload) <= MAX_PAYLOAD_BYTES:
            found.append((domain, data))
    return found


# Dicts as the translations build them (members for carrier and counts keys) and the bad
# values only Python can hold or that a mapped value may be.
_PYTHON_SIDE: list[tuple[Domain, dict[str, Any]]] = [
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 1.5, "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 2, "interval_s": 60, "seq": 0}),
    (E, {"ts": TS, "carrier": "gas", "energy_kwh": 1.5, "interval_s": 60}),
    (E, {"ts": TS, "carrier": "diesel", "energy_kwh": 1.5, "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": float("nan"), "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": float("inf"), "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 1.0, "interval_s": 60,
         "power_kw": float("-inf")}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": True, "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": "1.5", "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 1.5, "interval_s": 60.0}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 1.5, "interval_s": "60"}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": -0.5, "interval_s": 60}),
    (E, {"ts": TS, "carrier": Carrier.GAS, "interval_s": 60}),
    (E, {"ts": float(TS), "carrier": Carrier.GAS, "energy_kwh": 1.5, "interval_s": 60}),
    (E, {"ts": "2026-11-26T10:00:00Z", "carrier": Carrier.GAS, "energy_kwh": 1.5,
         "interval_s": 60, "seq": None}),
    (T, {"ts": TS, "interval_s": 60, "counts": {VehicleClass.CAR: 3, VehicleClass.BUS: 0}}),
    (T, {"ts": TS, "interval_s": 60, "counts": {"car": 3}}),
    (T, {"ts": TS, "interval_s": 60, "counts": {VehicleClass.CAR: 3.0}}),
    (T, {"ts": TS, "interval_s": 60, "counts": {VehicleClass.CAR: -1}}),
    (T, {"ts": TS, "interval_s": 60, "counts": {"tank": 1}}),
    (A, {"ts": TS, "seq": 4, "no2_ugm3": 41, "pm25_ugm3": 2.8, "battery_v": 3.6}),
    (A, {"ts": TS, "no2_ugm3": float("nan")}),
    (A, {"ts": TS, "no2_ugm3": 10_000.5}),
    (A, {"ts": TS, "no2_ugm3": False}),
    (A, {"ts": TS}),
    (A, {"no2_ugm3": 3}),
]


@pytest.mark.parametrize(("domain", "data"), _as_dicts() + _PYTHON_SIDE)
def test_validate_object_refuses_exactly_what_the_json_path_refuses(
        domain: Domain, data: dict[str, Any]) -> None:
    direct, via_json = _direct(domain, data), _json_path(domain, data)

    assert direct == via_json  # the same reading, or the same reason and detail
    if isinstance(direct, tuple):
        assert direct[0] in set(R)
    else:
        assert direct.model_extra == via_json.model_extra  # type: ignore[union-attr]
        assert type(direct) is type(via_json)


def test_a_translated_dict_is_validated_without_the_json_round_trip(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_json(domain: Domain, payload: bytes) -> Reading:
        raise AssertionError("validated through JSON")

    monkeypatch.setattr("sensors.validation.validate_payload", no_json)
    energy = validate_object(E, {"ts": TS, "carrier": Carrier.GAS, "energy_kwh": 2,
                                 "interval_s": 60, "power_kw": 1.5})
    transport = validate_object(T, {"ts": TS, "interval_s": 60,
                                    "counts": {VehicleClass.CAR: 3}})

    assert isinstance(energy, EnergyReading)
    assert energy.energy_kwh == 2.0
    assert isinstance(energy.energy_kwh, float)  # as JSON's 2 into a float field
    assert isinstance(transport, TransportReading)
    assert transport.counts == {VehicleClass.CAR: 3}
