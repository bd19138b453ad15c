"""The Things Stack v3 (TTN) uplink messages, as its MQTT server publishes them.

Topic ``v3/<app>@<tenant>/devices/<device>/up``. A message is an ``ApplicationUp``
(The Things Stack "Data Formats" page): ``end_device_ids``, ``correlation_ids``,
``received_at`` and one of ``uplink_message``, ``join_accept``, ``downlink_*``,
``location_solved``, ``service_data``. Only an uplink with application data is a reading:

- device: ``end_device_ids.device_id``;
- values: ``uplink_message.decoded_payload`` (the payload formatter's output);
- time: ``uplink_message.received_at`` (the network server's), else ``received_at``;
- seq: ``uplink_message.f_cnt``. The Things Stack leaves out fields that are 0, so an
  uplink without ``f_cnt`` has frame counter 0.

Everything else (joins, downlink events, an uplink with no application payload: MAC
commands only) is counted and ignored.
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

_EVENTS = ("join_accept", "downlink_ack", "downlink_nack", "downlink_sent", "downlink_failed",
           "downlink_queued", "downlink_queue_invalidated", "location_solved", "service_data")


def parse_ttn(topic: str, wildcards: tuple[str, ...], payload: bytes
              ) -> list[Observation] | NotReading:
    """The observation of a TTN uplink, or what kind of other message it is.

    Raises:
        InvalidReadingError: the payload is not a JSON object, or an uplink without a
            device id.
    """
    data = load_object(payload)
    uplink = data.get("uplink_message")
    if uplink is None:
        kind = next((event for event in _EVENTS if event in data), "other")
        return NotReading(f"ttn-v3:{kind}")
    if not isinstance(uplink, dict):
        raise bad(DeadLetterReason.FIELD_TYPE, "uplink_message is not an object")
    device_id = dig(data, "end_device_ids", "device_id")
    if not isinstance(device_id, str) or not device_id:
        raise bad(DeadLetterReason.FIELD_MISSING, "end_device_ids.device_id is missing")
    if "decoded_payload" not in uplink and "frm_payload" not in uplink:
        return NotReading("ttn-v3:mac-only")
    values = uplink.get("decoded_payload")
    if "received_at" in uplink:
        ts_ms, problem = split_time(rfc3339_ms(uplink["received_at"],
                                               "uplink_message.received_at"))
    else:
        ts_ms, problem = split_time(rfc3339_ms(data.get("received_at"), "received_at"))
    return [Observation(
        device_id=device_id, values=values if isinstance(values, dict) else {},
        values_name="uplink_message.decoded_payload", ts_ms=ts_ms, time_problem=problem,
        seq=counter(uplink.get("f_cnt", 0)),
    )]
