"""Structured logging for every smartplace process: one JSON object per line (or plain text).

Neither format carries terminal colour codes: uvicorn attaches a coloured copy of some
messages (``color_message``), which is dropped, and escape sequences in any text are
removed, so that a log file or a log shipper never receives raw ``\\x1b[36m``. Extra
fields are written as JSON values (numbers, lists, objects), never as Python reprs.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import orjson
from pydantic import BaseModel, SecretStr

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# Extras that only repeat the message for a colour terminal (uvicorn's).
_DROPPED = frozenset({"color_message"})
# CSI sequences (colours, cursor moves) and the two-character escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def jsonable(value: Any) -> Any:
    """A JSON value for a log field: strings cleaned, containers walked, secrets hidden.

    orjson writes str, int, float, bool, None, dict, list, tuple, datetime and dataclasses
    itself; the rest is mapped here (sets as sorted lists, enums as their value, paths as
    text, pydantic models as their JSON form), and anything unknown as its ``str()``.
    """
    if isinstance(value, str):
        return strip_ansi(value)
    if isinstance(value, bool | int | float | datetime | date) or value is None:
        return value
    if isinstance(value, SecretStr):
        return "**********"
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=str)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, bytes):
        return strip_ansi(value.decode("utf-8", errors="replace"))
    return strip_ansi(str(value))  # paths, exceptions, anything else: its text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items()
            if key not in _STANDARD and key not in _DROPPED}


class JsonFormatter(logging.Formatter):
    """Formats a record and its ``extra`` fields as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": strip_ansi(record.getMessage()),
        }
        for key, value in _extras(record).items():
            entry[key] = jsonable(value)
        if record.exc_info:
            entry["exception"] = strip_ansi(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=jsonable).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines with the ``extra`` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{key}={_text(jsonable(value))}" for key, value in _extras(record).items())
        base = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: "
        text = base + strip_ansi(record.getMessage()) + (f"  {extras}" if extras else "")
        if record.exc_info:
            text += "\n" + strip_ansi(self.formatException(record.exc_info))
        return text


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send logs to stderr in the chosen format, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
