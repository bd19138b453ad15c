"""Each format's realistic message becomes exactly the expected section 2 payload.

Expectations are worked out by hand from the fixtures (times converted by hand, units
and scales applied by hand).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sensors.errors import InvalidReadingError
from sensors.formats.mapping import Candidate
from sensors.formats.observation import NotReading
from sensors.formats.translator import Refusal, Translation, reading_of
from sensors.readings import to_payload
from sensors.reasons import DeadLetterReason as R
from tests.sensors.formats.helpers import TOPICS, raw, translator

# 2026-11-26T10:00:00Z, a Thursday in GMT.
T0 = 1_795_687_200_000


def candidates(result: Translation | None) -> list[Candidate]:
    assert isinstance(result, list), result
    assert all(isinstance(one, Candidate) for one in result), result
    return [one for one in result if isinstance(one, Candidate)]


def translate(name: str) -> Translation | None:
    return translator().translate(TOPICS[name], raw(name))


def payloads(name: str) -> list[tuple[str, dict[str, Any], float | None]]:
    """(sensor, validated payload, register) of every candidate of a fixture."""
    out: list[tuple[str, dict[str, Any], float | None]] = []
    for one in candidates(translate(name)):
        if one.register_kwh is None:
            out.append((one.device.sensor, to_payload(reading_of(one)), None))
        else:
            out.append((one.device.sensor, one.payload, one.register_kwh))
    return out


def test_ttn_uplink_is_an_air_quality_reading_timed_by_the_network_server() -> None:
    # uplink_message.received_at = 10:00:00.297461183Z, truncated to the millisecond.
    assert payloads("ttn-v3-uplink.json") == [("aq-ms-lora-01", {
        "ts": T0 + 297, "seq": 1834, "no2_ugm3": 38.4, "pm25_ugm3": 9.7, "pm10_ugm3": 17.2,
        "temperature_c": 7.9, "humidity_pct": 88.5}, None)]


def test_chirpstack_uplink_is_a_traffic_count_with_its_frame_counter() -> None:
    assert payloads("chirpstack-v4-up.json") == [("tc-wellington-rd-n", {
        "ts": T0 + 418, "seq": 4211, "interval_s": 300, "avg_speed_kph": 27.5,
        "counts": {"car": 99, "van": 29, "hgv": 4, "bus": 2, "bicycle": 14}}, None)]


def test_senml_pack_resolves_base_fields_devices_times_and_units() -> None:
    assert payloads("senml-pack.json") == [
        ("aq-market-hall", {"ts": T0, "temperature_c": 7.5, "humidity_pct": 87.25,
                            "co2_ppm": 412.0}, None),
        ("aq-market-hall", {"ts": T0 + 60_000, "temperature_c": 7.25, "humidity_pct": 87.5,
                            "co2_ppm": 415.0}, None),
        # 52,113.5 Wh is the register in kWh; 2,310 W is 2.31 kW.
        ("market-hall-meter", {"ts": T0, "carrier": "electricity", "power_kw": 2.31}, 52.1135),
    ]


def test_shelly_notify_status_with_several_components_reads_the_mapped_ones() -> None:
    # params.ts = 1795687260.47 s; em1data:0 4,210,773.42 Wh x 0.001; em1:0 1,534.6 W x 0.001.
    assert payloads("shelly-gen2-notifystatus.json") == [("lib-main-3em", {
        "ts": T0 + 60_470, "carrier": "electricity", "power_kw": 1.5346}, 4210.77342)]


def test_tasmota_energy_time_is_local_london_time() -> None:
    # 10:00:00 on 26 November is GMT (UTC+0).
    assert payloads("tasmota-sensor-energy.json") == [("redrock-ev-plug", {
        "ts": T0, "carrier": "ev_charging", "power_kw": 0.148}, 1843.217)]


def test_tasmota_sds011_keys_with_dots_and_summer_time() -> None:
    # 11:00:00 on 1 July 2026 is BST: 10:00:00Z = 1,782,900,000 s.
    assert payloads("tasmota-sensor-sds011.json") == [("aq-station-sds", {
        "ts": 1_782_900_000_000, "pm25_ugm3": 6.4, "pm10_ugm3": 11.9, "temperature_c": 21.4,
        "humidity_pct": 55.2}, None)]


def test_zigbee2mqtt_json_uses_last_seen() -> None:
    assert payloads("zigbee2mqtt-climate.json") == [("th-foyer-climate", {
        "ts": T0, "temperature_c": 19.6, "humidity_pct": 61.4}, None)]


def test_sensor_community_strings_are_numbers_timed_at_receipt() -> None:
    result = translator().translate_sensor_community(raw("sensor-community.json"), T0 + 5)
    (one,) = candidates(result)
    assert to_payload(reading_of(one)) == {
        "ts": T0 + 5, "pm10_ugm3": 12.3, "pm25_ugm3": 5.7, "temperature_c": 8.47,
        "humidity_pct": 87.1}


@pytest.mark.parametrize(("name", "kind"), [
    ("shelly-gen2-notifyevent.json", "shelly-gen2:NotifyEvent"),
    # em1:0 changed, em1data:0 did not: the register is unchanged, so no reading.
    ("shelly-gen2-notifystatus-power-only.json", "shelly-gen2:unchanged"),
])
def test_events_that_are_not_readings(name: str, kind: str) -> None:
    assert translate(name) == NotReading(kind)


def test_other_topics_of_a_format_are_not_readings() -> None:
    ttn = translator(prefix="p")
    assert ttn.translate("v3/a@ttn/devices/aq-mersey-01/up", raw("ttn-v3-join.json")) == (
        NotReading("ttn-v3:join_accept"))
    from sensors.formats.tasmota import parse_tasmota
    assert parse_tasmota("tele/x/STATE", ("x",), raw("tasmota-state.json")) == (
        NotReading("tasmota:STATE"))
    assert parse_tasmota("tele/x/LWT", ("x",), b"Online") == NotReading("tasmota:LWT")
    from sensors.formats.chirpstack import parse_chirpstack
    assert parse_chirpstack("application/a/device/b/event/join", (),
                            raw("chirpstack-v4-join.json")) == NotReading("chirpstack-v4:join")


def _edit(name: str, change: Any) -> bytes:
    data = orjson.loads(raw(name))
    change(data)
    return orjson.dumps(data)


def _set(path: str, value: Any) -> Any:
    def change(data: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if isinstance(data, list) else data[key]
        if value is _DELETE:
            del data[last]
        elif isinstance(data, list):
            data[int(last)] = value
        else:
            data[last] = value
    return change


_DELETE = object()
TTN, CS, SHELLY, TAS, Z2M = ("ttn-v3-uplink.json", "chirpstack-v4-up.json",
                             "shelly-gen2-notifystatus.json", "tasmota-sensor-energy.json",
                             "zigbee2mqtt-climate.json")
BAD = [
    (TTN, _set("end_device_ids.device_id", "aq-elsewhere"), R.DEVICE_UNKNOWN),
    (TTN, _set("uplink_message.decoded_payload.pm2_5", _DELETE), R.FIELD_MISSING),
    (TTN, _set("uplink_message.decoded_payload.pm2_5", None), R.FIELD_MISSING),
    (TTN, _set("uplink_message.decoded_payload", _DELETE), R.FIELD_MISSING),
    (TTN, _set("uplink_message.decoded_payload.no2", "38.4"), R.FIELD_TYPE),
    (TTN, _set("uplink_message.decoded_payload.no2", True), R.FIELD_TYPE),
    (TTN, _set("uplink_message.decoded_payload.pm10", 10_001), R.VALUE_OUT_OF_RANGE),
    (TTN, _set("uplink_message.decoded_payload.humidity", -0.5), R.VALUE_OUT_OF_RANGE),
    (TTN, _set("uplink_message.received_at", "yesterday"), R.TIMESTAMP_INVALID),
    (TTN, _set("uplink_message.received_at", "2026-11-26T10:00:00"), R.TIMESTAMP_INVALID),
    (CS, _set("object", _DELETE), R.FIELD_MISSING),
    (CS, _set("object.cars", -1), R.VALUE_OUT_OF_RANGE),
    (CS, _set("object.cars", 1.5), R.FIELD_TYPE),
    (CS, _set("object.period_s", 0), R.VALUE_OUT_OF_RANGE),
    (CS, _set("time", _DELETE), R.FIELD_MISSING),
    (CS, _set("deviceInfo.devEui", "0000000000000001"), R.DEVICE_UNKNOWN),
    (SHELLY, _set("params.em1data:0.total_act_energy", _DELETE), R.FIELD_MISSING),
    (SHELLY, _set("params.em1data:0.total_act_energy", -1.0), R.VALUE_OUT_OF_RANGE),
    (SHELLY, _set("params.em1data:0.total_act_energy", "4210773.42"), R.FIELD_TYPE),
    (SHELLY, _set("params.em1:0.act_power", 200_000_000), R.VALUE_OUT_OF_RANGE),
    (SHELLY, _set("params.ts", _DELETE), R.FIELD_MISSING),
    (SHELLY, _set("params.ts", "1795687260"), R.TIMESTAMP_INVALID),
    (SHELLY, _set("src", "shellyplus1pm-441793a3c4d8"), R.DEVICE_UNKNOWN),
    (TAS, _set("Time", "26.11.2026 10:00"), R.TIMESTAMP_INVALID),
    (TAS, _set("Time", _DELETE), R.FIELD_MISSING),
    (TAS, _set("ENERGY.Total", _DELETE), R.FIELD_MISSING),
    (Z2M, _set("last_seen", _DELETE), R.FIELD_MISSING),
    (Z2M, _set("last_seen", "2026-11-26T10:00:00"), R.TIMESTAMP_INVALID),
    (Z2M, _set("last_seen", 1795687200000.5), R.TIMESTAMP_INVALID),
    (Z2M, _set("temperature", 71), R.VALUE_OUT_OF_RANGE),
]


def _reasons(result: Translation | None) -> list[R]:
    """The dead-letter reasons a translation leads to (a candidate is validated; a
    cumulative one as if its register had grown by 0 kWh in 60 s)."""
    assert isinstance(result, list), result
    reasons = []
    for one in result:
        if isinstance(one, Refusal):
            reasons.append(one.reason)
            continue
        try:
            if one.register_kwh is None:
                reading_of(one)
            else:
                reading_of(one, 0.0, 60)
        except InvalidReadingError as exc:
            reasons.append(exc.reason)
    return reasons


@pytest.mark.parametrize(("name", "change", "reason"), BAD,
                         ids=[f"{n}-{r.value}-{i}" for i, (n, _, r) in enumerate(BAD)])
def test_bad_variants_get_their_dead_letter_reason(name: str, change: Any, reason: R) -> None:
    result = translator().translate(TOPICS[name], _edit(name, change))
    assert _reasons(result) == [reason]


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", R.PAYLOAD_NOT_JSON),
    (b"\xff\xfe", R.PAYLOAD_NOT_UTF8),
    (b"[1, 2]", R.PAYLOAD_NOT_OBJECT),
    (b"x" * (256 * 1024 + 1), R.PAYLOAD_TOO_LARGE),
])
def test_messages_that_are_not_json_objects(payload: bytes, reason: R) -> None:
    with pytest.raises(InvalidReadingError) as caught:
        translator().translate(TOPICS[TTN], payload)
    assert caught.value.reason is reason


def test_senml_refusals_and_partial_packs() -> None:
    topic = TOPICS["senml-pack.json"]
    pack = orjson.loads(raw("senml-pack.json"))
    pack[1]["u"] = "Cel"  # humidity in degrees: the unit does not fit the field
    pack.append({"bn": "urn:dev:mac:ffffffffffffffff:", "n": "temp", "v": 3})
    assert _reasons(translator().translate(topic, orjson.dumps(pack))) == [
        R.FIELD_TYPE, R.DEVICE_UNKNOWN]
    relative = [{"bn": "urn:dev:mac:0024befffe804ff1:", "n": "temp", "v": 3, "t": -5}]
    assert _reasons(translator().translate(topic, orjson.dumps(relative))) == [
        R.TIMESTAMP_INVALID]
    with pytest.raises(InvalidReadingError) as caught:
        translator().translate(topic, b'{"bn": "x"}')
    assert caught.value.reason is R.PAYLOAD_NOT_OBJECT


@pytest.mark.parametrize(("value", "reason"), [
    ("nan", R.VALUE_NOT_FINITE), ("-inf", R.VALUE_NOT_FINITE), ("12,3", R.FIELD_TYPE),
    ("", R.FIELD_TYPE), ("20000", R.VALUE_OUT_OF_RANGE),
])
def test_sensor_community_values(value: str, reason: R) -> None:
    body = orjson.loads(raw("sensor-community.json"))
    body["sensordatavalues"][0]["value"] = value
    result = translator().translate_sensor_community(orjson.dumps(body), T0)
    assert _reasons(result) == [reason]


def test_sensor_community_bodies_that_are_not_the_firmwares() -> None:
    for body, reason in ((b'{"sensordatavalues": []}', R.FIELD_MISSING),
                         (b'{"esp8266id": "1", "sensordatavalues": {}}', R.FIELD_MISSING),
                         (b'{"esp8266id": "1", "sensordatavalues": [1]}', R.FIELD_TYPE),
                         (b"esp8266id=1", R.PAYLOAD_NOT_JSON)):
        with pytest.raises(InvalidReadingError) as caught:
            translator().translate_sensor_community(body, T0)
        assert caught.value.reason is reason, body
    unknown = b'{"esp8266id": 42, "sensordatavalues": [{"value_type": "SDS_P1", "value": "1"}]}'
    assert _reasons(translator().translate_sensor_community(unknown, T0)) == [R.DEVICE_UNKNOWN]


def test_an_optional_field_may_be_left_out_and_a_required_one_may_not() -> None:
    from tests.sensors.formats.helpers import devices_with

    devices = devices_with(aq_ms_lora_01={"fields": {
        "no2_ugm3": "no2", "pm25_ugm3": {"path": "pm2_5", "optional": True}}})
    body = orjson.loads(raw(TTN))
    del body["uplink_message"]["decoded_payload"]["pm2_5"]
    (one,) = candidates(translator(devices).translate(TOPICS[TTN], orjson.dumps(body)))
    assert to_payload(reading_of(one)) == {"ts": T0 + 297, "seq": 1834, "no2_ugm3": 38.4}
    del body["uplink_message"]["decoded_payload"]["no2"]
    assert _reasons(translator(devices).translate(TOPICS[TTN], orjson.dumps(body))) == [
        R.FIELD_MISSING]
