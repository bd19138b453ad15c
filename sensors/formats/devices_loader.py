"""Reading the devices file (contract 7.1): size, JSON, and which entry is wrong.

The whole file is checked when it is loaded (the model: :mod:`sensors.formats.devices`);
a problem raises :class:`sensors.errors.DevicesFileError` naming the entry (its position,
device id and format) and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sensors.errors import DevicesFileError
from sensors.formats.devices import Device, DevicesFile

MAX_DEVICES_FILE_BYTES = 4 * 1024 * 1024


def _entry_label(raw: Any, index: int) -> str:
    try:
        entry = raw["devices"][index]
        return f"entry {index} ({entry.get('format', '?')} device {entry.get('device', '?')!r})"
    except (KeyError, IndexError, TypeError, AttributeError):
        return f"entry {index}"


def _explain(error: ValidationError, raw: Any) -> str:
    lines = []
    for one in error.errors(include_url=False):
        loc = list(one["loc"])
        where = "the file"
        if len(loc) >= 2 and loc[0] == "devices" and isinstance(loc[1], int):
            where = _entry_label(raw, loc[1])
            loc = loc[2:]
        message = str(one["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in loc)
        lines.append(f"{where}: {field + ': ' if field else ''}{message}")
    return "\n".join(lines)


def parse_devices(text: str | bytes, source: str = "devices file") -> DevicesFile:
    """Parse and check a devices file's content.

    Raises:
        DevicesFileError: not JSON, or an entry is invalid (the message names it).
    """
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DevicesFileError(f"{source}: not valid JSON ({exc})") from None
    try:
        return DevicesFile.model_validate(raw)
    except ValidationError as exc:
        raise DevicesFileError(f"{source}:\n{_explain(exc, raw)}") from None


def load_devices(path: Path) -> DevicesFile:
    """Read and check the devices file at ``path``.

    Raises:
        DevicesFileError: unreadable, too large, not JSON or invalid (naming the entry).
    """
    try:
        if path.stat().st_size > MAX_DEVICES_FILE_BYTES:
            raise DevicesFileError(f"{path}: larger than {MAX_DEVICES_FILE_BYTES} bytes")
        text = path.read_bytes()
    except OSError as exc:
        raise DevicesFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse_devices(text, str(path))


def devices_by_sensor(path: Path | None) -> dict[str, Device]:
    """The devices of the file at ``path`` by the sensor they feed (empty for None).

    Raises:
        DevicesFileError: see :func:`load_devices`.
    """
    return {} if path is None else load_devices(path).by_sensor()
