"""Log lines as a log shipper gets them: JSON values, no terminal colour codes."""

from __future__ import annotations

import enum
import logging
from pathlib import Path

import orjson
from pydantic import BaseModel, SecretStr

from smartplace.logs import JsonFormatter, TextFormatter, strip_ansi


class _Colour(enum.Enum):
    RED = "red"


class _Model(BaseModel):
    n: int
    where: Path


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "test", "levelname": "INFO", "levelno": 20,
                                    "msg": message, "args": ()})
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_fields_are_json_values_not_python_reprs() -> None:
    record = _record("hello", failures={"now": "down"}, sensors={"b", "a"},
                     path=Path("/var/lib/x"), colour=_Colour.RED, pair=(1, 2.5),
                     model=_Model(n=3, where=Path("p")), token=SecretStr("hunter2"),
                     error=ValueError("bad"))
    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["failures"] == {"now": "down"}
    assert entry["sensors"] == ["a", "b"]  # a set: a sorted list, not "{'a', 'b'}"
    assert entry["path"] == "/var/lib/x"
    assert entry["colour"] == "red"
    assert entry["pair"] == [1, 2.5]
    assert entry["model"] == {"n": 3, "where": "p"}
    assert entry["token"] == "**********"
    assert entry["error"] == "bad"


def test_no_colour_codes_in_either_format() -> None:
    # What uvicorn logs: a plain message, a coloured copy, and colour in the args.
    record = _record("Started server process [\x1b[36m%d\x1b[0m]",
                     color_message="Started server process [\x1b[36m%d\x1b[0m]")
    record.args = (4242,)
    json_line = JsonFormatter().format(record)
    text_line = TextFormatter().format(record)
    for line in (json_line, text_line):
        assert "\x1b" not in line
        assert "\\u001b" not in line
        assert "Started server process [4242]" in line
    assert "color_message" not in json_line
    assert "color_message" not in text_line


def test_text_format_writes_extras_as_json() -> None:
    line = TextFormatter().format(_record("x", counts={"a": 1}, ids=frozenset({"z"})))
    assert 'counts={"a":1}' in line
    assert 'ids=["z"]' in line


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[1m\x1b[31mred\x1b[0m and \x1b]0;title\x07plain") .startswith("red and")
    assert strip_ansi("no codes") == "no codes"
