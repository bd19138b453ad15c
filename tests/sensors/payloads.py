"""Bad payloads of every kind, each with the dead-letter reason it must get.

Shared by the validation table test and the ingest pipeline test (which publishes them).
"""

from __future__ import annotations

from sensors.reasons import DeadLetterReason as R
from sensors.topics import Domain

E, T, A = Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY
TS = 1795687200000  # 2026-11-26T10:00:00Z
ENERGY = f'"ts":{TS},"carrier":"electricity","interval_s":900'

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
