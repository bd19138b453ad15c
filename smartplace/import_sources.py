"""What ``smartplace import`` reads: each row of a file as the message it stands for.

- CSV with a header of contract field names (README, "History import"): ``ts`` and the
  payload fields (``counts.car`` ... for transport), plus ``domain``, ``site``, ``sensor``
  (or one ``topic`` column). ``--set name=value`` adds a column every row shares (a logger
  file of one meter: ``--set domain=energy --set site=town-hall ...``). A cell is a number
  when it reads as one, empty is absent, anything else is text; so the row is judged by
  the same strict validation as a native message (``"60.0"`` for ``interval_s`` is a float,
  ``field_type``).
- JSONL of native payloads with their topics: ``{"topic": "...", "payload": {...}}``.
- JSONL of any section 7 format: the same shape with the format's topic, or, with
  ``--format F``, one message of ``F`` per line (``{"result": {...}}`` lines of The Things
  Stack's Storage Integration are unwrapped); Sensor.Community lines are
  ``{"received_at": "<RFC 3339>", "payload": {<firmware body>}}``.

A row that cannot even be made into a message (a line that is not JSON) still becomes a
row, whose decoding then gives its dead-letter reason.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic_core import PydanticCustomError

from sensors.formats.devices import Format
from sensors.formats.translator import Translator
from sensors.readings import parse_timestamp_ms

TOPIC_COLUMNS = ("domain", "site", "sensor")
_FORMATS = frozenset(fmt.value for fmt in Format)
_INTEGER = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+)|[-+]?(?:nan|inf)",
                     re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Row:
    """One row of an import file as a message.

    Attributes:
        number: its line (JSONL) or record (CSV) number, from 1.
        topic: where such a message is published; None for Sensor.Community.
        payload: the message.
        received_ms: a Sensor.Community body's receipt time.
    """

    number: int
    topic: str | None
    payload: bytes
    received_ms: int | None = None


def cell(text: str) -> Any:
    """A CSV cell as JSON would have it: integer, float (also NaN and infinities), text."""
    value = text.strip()
    if _INTEGER.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


def csv_payload(record: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The topic parts and the payload of one CSV record (empty cells left out)."""
    payload: dict[str, Any] = {}
    counts: dict[str, Any] = {}
    for column, text in record.items():
        if column is None or text is None or not text.strip() or column in TOPIC_COLUMNS:
            continue
        if column == "topic":
            continue
        if column.startswith("counts."):
            counts[column.removeprefix("counts.")] = cell(text)
        else:
            payload[column] = cell(text)
    if counts:
        payload["counts"] = counts
    topic = record.get("topic") or "/".join(
        (record.get(name) or "").strip() for name in TOPIC_COLUMNS)
    return topic, payload


def read_csv(path: Path, prefix: str, constants: Mapping[str, str]) -> Iterator[Row]:
    """The records of a CSV file (after its header) as native messages."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=1):
            topic, payload = csv_payload({**record, **constants})
            full = topic if "topic" in record or "topic" in constants else f"{prefix}/{topic}"
            # The standard library writes NaN and Infinity as JSON tokens, which the
            # validation refuses as value_not_finite (orjson would write null).
            yield Row(number, full, json.dumps(payload).encode())


def _payload_bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else orjson.dumps(value)


def _received_ms(value: Any) -> int | None:
    try:
        return parse_timestamp_ms(value)
    except PydanticCustomError:
        return None


def read_jsonl(path: Path, fmt: Format | None, translator: Translator | None) -> Iterator[Row]:
    """The lines of a JSONL file as messages (see the module docstring)."""
    from smartplace.devices import topic_for

    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield Row(number, f"import:{path.name}:{number}", line.rstrip(b"\r\n"))
                continue
            line_format = fmt
            if isinstance(data, dict) and data.get("format") in _FORMATS:
                line_format = Format(data["format"])
            if line_format is Format.SENSOR_COMMUNITY:
                received = _received_ms(data.get("received_at")) if isinstance(data, dict) else None
                body = data.get("payload") if isinstance(data, dict) else data
                yield Row(number, None, _payload_bytes(body), received)
                continue
            if isinstance(data, dict) and "topic" in data and "payload" in data:
                yield Row(number, str(data["topic"]), _payload_bytes(data["payload"]))
                continue
            if line_format is None or translator is None:
                yield Row(number, f"import:{path.name}:{number}", line.rstrip(b"\r\n"))
                continue
            if isinstance(data, dict) and set(data) == {"result"}:
                data = data["result"]  # The Things Stack's Storage Integration export
            payload = orjson.dumps(data)
            yield Row(number, topic_for(translator, line_format, payload), payload)
