"""ChirpStack v4 uplink events, as its MQTT integration publishes them (JSON encoding).

Topic ``application/<application id>/device/<DevEUI>/event/<type>``; the ``up`` event is
an ``integration.UplinkEvent`` in the Protocol Buffers JSON mapping: ``deduplicationId``,
``time``, ``deviceInfo`` (tenant, application, device profile, name, ``devEui``,
``tags``), ``devAddr``, ``fCnt``, ``fPort``, ``data``, ``object`` (the codec's output),
``rxInfo`` and ``txInfo``.

- device: ``deviceInfo.devEui`` (matched without regard to case);
- values: ``object`` (only set when the device profile has a codec);
- time: ``time``; seq: ``fCnt`` (absent means 0: proto3 JSON may leave out defaults).

Other event types (``join``, ``status``, ``ack``, ``txack``, ``log``, ``location``,
``integration``), when a custom topic filter lets them in, are counted and ignored.
"""

from __future__ import annotations

from sensors.formats.observation import (
    NotReading,
    Observation,
    bad,
    counter,
    dig,
    load_object,
    rfc3339_ms,
    split_time,
)
from sensors.reasons import DeadLetterReason

_OTHER_EVENTS = frozenset({"join", "status", "ack", "txack", "log", "location", "integration"})


def parse_chirpstack(topic: str, wildcards: tuple[str, ...], payload: bytes
                     ) -> list[Observation] | NotReading:
    """The observation of a ChirpStack uplink event, or the kind of another event.

    Raises:
        InvalidReadingError: not a JSON object, or an uplink without ``deviceInfo.devEui``.
    """
    event = topic.rsplit("/", 1)[-1]
    if event in _OTHER_EVENTS:
        return NotReading(f"chirpstack-v4:{event}")
    data = load_object(payload)
    dev_eui = dig(data, "deviceInfo", "devEui")
    if not isinstance(dev_eui, str) or not dev_eui:
        raise bad(DeadLetterReason.FIELD_MISSING, "deviceInfo.devEui is missing")
    values = data.get("object")
    ts_ms, problem = split_time(rfc3339_ms(data.get("time"), "time"))
    return [Observation(
        device_id=dev_eui.lower(), values=values if isinstance(values, dict) else {},
        values_name="object", ts_ms=ts_ms, time_problem=problem,
        seq=counter(data.get("fCnt", 0)),
    )]
