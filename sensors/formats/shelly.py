"""Shelly Gen2+ RPC notifications, as a device publishes them on ``<id>/events/rpc``.

A notification frame (Shelly API docs, "RPC Protocol" and "Notifications") is
``{"src": "<device id>", "dst": "<id>/events", "method": ..., "params": {...}}``:

- ``NotifyStatus``: ``params`` holds ``ts`` (epoch seconds, a float) and one key per
  component that changed (``switch:0``, ``em1:0``, ``em1data:0``, ``emdata:0`` ...), each with
  *some or all* of that component's status (the intended use is to overlay changes on a
  known status);
- ``NotifyFullStatus``: the same shape with every component;
- ``NotifyEvent``: button presses, script events, ``config_changed``: not readings.

So a ``NotifyStatus`` that leaves out a component the device's fields read from is not a
reading for that field (the value did not change, nothing is missing): the observation is
``partial``. Device: ``src``; values: ``params``; time: ``params.ts``; no seq.
"""

from __future__ import annotations

from sensors.formats.observation import (
    NotReading,
    Observation,
    bad,
    epoch_seconds_ms,
    load_object,
    split_time,
)
from sensors.reasons import DeadLetterReason

_STATUS_METHODS = ("NotifyStatus", "NotifyFullStatus")


def parse_shelly(topic: str, wildcards: tuple[str, ...], payload: bytes
                 ) -> list[Observation] | NotReading:
    """The observation of a status notification, or the kind of another notification.

    Raises:
        InvalidReadingError: not a JSON object, no ``src`` or no ``params`` object.
    """
    data = load_object(payload)
    method = data.get("method")
    if method not in _STATUS_METHODS:
        return NotReading(f"shelly-gen2:{method if isinstance(method, str) else 'other'}")
    device_id = data.get("src")
    if not isinstance(device_id, str) or not device_id:
        raise bad(DeadLetterReason.FIELD_MISSING, "src (the device id) is missing")
    params = data.get("params")
    if not isinstance(params, dict):
        raise bad(DeadLetterReason.FIELD_MISSING, "params is missing or not an object")
    ts_ms, problem = split_time(epoch_seconds_ms(params.get("ts"), "params.ts"))
    return [Observation(device_id=device_id, values=params, values_name="params", ts_ms=ts_ms,
                        time_problem=problem, partial=method == "NotifyStatus")]
