"""Generic JSON (format ``json``): any flat or nested JSON object on a device's own topic.

Covers Zigbee2MQTT (``zigbee2mqtt/<friendly name>``, with ``last_seen`` turned on so that
each message carries its time), ESPHome, Node-RED flows and home-made firmware. The
device is the one whose ``topic`` the message's topic matches; values: the message;
time: the value at the device's ``fields.ts`` path, RFC 3339 with an offset or integer
epoch milliseconds exactly as a section 2 ``ts``; seq: ``fields.seq`` when mapped.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from sensors.formats.devices import SEQ_FIELD, TS_FIELD, Device
from sensors.formats.observation import Observation, TimeProblem, counter, load_object
from sensors.formats.paths import MISSING, resolve
from sensors.readings import parse_timestamp_ms
from sensors.reasons import DeadLetterReason


def parse_generic(device: Device, payload: bytes) -> Observation:
    """The observation of a message on a json device's topic.

    Raises:
        InvalidReadingError: the payload is not a JSON object.
    """
    data = load_object(payload)
    maps = {one.target: one for one in device.field_maps}
    ts_map = maps[TS_FIELD]
    raw_ts = resolve(data, ts_map.path)
    ts_ms: int | None = None
    problem: TimeProblem | None = None
    if raw_ts is MISSING:
        problem = (DeadLetterReason.FIELD_MISSING, f"fields.ts: {ts_map.shown} is absent")
    else:
        try:
            ts_ms = parse_timestamp_ms(raw_ts)
        except PydanticCustomError as exc:
            problem = (DeadLetterReason.TIMESTAMP_INVALID, f"fields.ts: {ts_map.shown}: {exc}")
    seq = None
    if SEQ_FIELD in maps:
        seq = counter(resolve(data, maps[SEQ_FIELD].path))
    return Observation(device_id=device.device, values=data, values_name="the message",
                       ts_ms=ts_ms, time_problem=problem, seq=seq)
