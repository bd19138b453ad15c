"""Tasmota telemetry, as the firmware publishes it on ``tele/<topic>/SENSOR``.

The ``SENSOR`` message is every sensor's values under its driver's name, plus ``Time``:
``{"Time": "2026-11-26T10:00:00", "ENERGY": {"Total": 12.3, "Power": 45, ...},
"SDS0X1": {"PM2.5": 3.1, "PM10": 6.2}}``. Tasmota writes ``Time`` in the device's local
time without an offset (unless ``SetOption52 1`` adds one), so it is read in the device's
``timezone``. In the hour the clocks go back a local time occurs twice; it is read as the
first (``fold=0``).

Device: the topic level the filter's ``+`` matched (``tele/+/SENSOR``: the middle one).
Other telemetry (``STATE``, ``LWT`` — plain text ``Online`` —, ``INFO1``..., ``RESULT``) is
counted and ignored, judged by the topic's last level before the payload is read.
"""

from __future__ import annotations

from sensors.formats.observation import NotReading, Observation, bad, load_object
from sensors.reasons import DeadLetterReason

READING_LEVEL = "SENSOR"


def parse_tasmota(topic: str, wildcards: tuple[str, ...], payload: bytes
                  ) -> list[Observation] | NotReading:
    """The observation of a ``SENSOR`` message, or the kind of other telemetry.

    Raises:
        InvalidReadingError: not a JSON object, or the filter has no ``+`` for the device.
    """
    last = topic.rsplit("/", 1)[-1]
    if last != READING_LEVEL:
        return NotReading(f"tasmota:{last}")
    if not wildcards:
        raise bad(DeadLetterReason.TOPIC_INVALID,
                  "the tasmota topic filter has no '+' level naming the device")
    data = load_object(payload)
    time = data.get("Time")
    problem = None
    if time is None:
        problem = (DeadLetterReason.FIELD_MISSING, "Time is missing")
    elif not isinstance(time, str):
        problem = (DeadLetterReason.TIMESTAMP_INVALID, "Time is not a string")
    return [Observation(device_id=wildcards[0], values=data, values_name="the message",
                        local_time=time if problem is None else None, time_problem=problem)]
