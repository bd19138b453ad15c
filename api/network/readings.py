"""One sensor's latest readings and the ``seq`` gaps among them (the dashboard's sensor view).

The readings are the stored points of the sensor (energy, transport or air quality), newest
last, at most :data:`MAX_READINGS` in the window. A gap is a jump of ``seq`` by more than
one between consecutive readings: ``lost`` messages never reached the broker (docs/live.md,
``seq_gap``); a ``seq`` that goes down is a restart and loses nothing.
"""

from __future__ import annotations

from typing import Any

from api.influx import InfluxStore, QueryParam
from api.live.sse import rfc3339_ms
from sensors.storage import FIELDS, SEQ, Measurement
from sensors.timestamps import NS_PER_MS

MAX_READINGS = 500
_MEASUREMENTS = (Measurement.ENERGY, Measurement.TRANSPORT, Measurement.AIR_QUALITY)


def _statement(measurement: Measurement) -> str:
    # The newest readings first (LIMIT keeps those), reversed into time order below.
    fields = ", ".join(FIELDS[measurement])
    tags = ", carrier" if measurement is Measurement.ENERGY else ""
    return (f"SELECT {fields}{tags} FROM {measurement} WHERE sensor = $sensor "  # noqa: S608
            f"AND time >= $start AND time < $end ORDER BY time DESC LIMIT {MAX_READINGS}")


def seq_gaps(readings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jumps of ``seq`` by more than one between consecutive readings (in time order)."""
    gaps = []
    previous: dict[str, Any] | None = None
    for reading in readings:
        seq = reading["seq"]
        if seq is not None and previous is not None and previous["seq"] is not None \
                and seq - previous["seq"] > 1:
            gaps.append({"at": reading["time"], "after": previous["time"],
                         "from_seq": previous["seq"], "to_seq": seq,
                         "lost": seq - previous["seq"] - 1})
        if seq is not None:
            previous = reading
    return gaps


async def sensor_readings(store: InfluxStore, sensor: str, start_ms: int,
                          end_ms: int) -> dict[str, Any]:
    """The sensor's readings in [start, end) and its ``seq`` gaps
    (:class:`api.schemas.SensorReadingsOut`).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    params: dict[str, QueryParam] = {"sensor": sensor, "start": start_ms * NS_PER_MS,
                                     "end": end_ms * NS_PER_MS}
    answers = await store.query([_statement(m) for m in _MEASUREMENTS], params)
    readings: list[dict[str, Any]] = []
    domain = None
    for measurement, series_list in zip(_MEASUREMENTS, answers, strict=True):
        for series in series_list:
            for row in series.rows():
                domain = domain or measurement.value
                values = {name: row.get(name) for name in FIELDS[measurement]
                          if name != SEQ and row.get(name) is not None}
                readings.append({"time": rfc3339_ms(int(row["time"])), "t_ms": int(row["time"]),
                                 "seq": row.get(SEQ), "carrier": row.get("carrier"),
                                 "values": values})
    readings.sort(key=lambda one: one["t_ms"])
    readings = readings[-MAX_READINGS:]
    gaps = seq_gaps(readings)
    return {"sensor": sensor, "domain": domain, "start": rfc3339_ms(start_ms),
            "end": rfc3339_ms(end_ms), "readings": readings, "limit": MAX_READINGS,
            "seq_gaps": gaps, "lost": sum(gap["lost"] for gap in gaps)}


def readings_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A sensor's readings as a table (header, rows) for CSV: one line per reading, a
    column per field any of them carries (in the storage schema's order)."""
    names = [name for measurement in _MEASUREMENTS for name in FIELDS[measurement]
             if name != SEQ and any(name in one["values"] for one in body["readings"])]
    header = ["time", "t_ms", "seq", "carrier", *names]
    rows = [[one["time"], one["t_ms"], one["seq"], one["carrier"],
             *(one["values"].get(name) for name in names)] for one in body["readings"]]
    return header, rows
