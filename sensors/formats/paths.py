"""Field paths into a message's values (contract 7.1): ``"em1data:0.total_act_energy"`` or
``["SDS0X1", "PM2.5"]`` when a key itself holds a dot.

A path walks objects by key and arrays by index (a key of digits), so a TTN payload
formatter's ``{"channels": [{"value": 3}]}`` is reachable as ``channels.0.value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

Path = tuple[str, ...]


class _Missing:
    """The marker of a path that leads nowhere (absent key, index out of range, or null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def parse_path(spec: str | Sequence[str], *, split: bool = True) -> Path:
    """The keys of a path written as ``a.b.c`` or as a list of keys.

    Args:
        spec: the path as the devices file writes it.
        split: False for formats whose names are flat keys (SenML record names,
            Sensor.Community value types), where a dot is part of the name.

    Raises:
        ValueError: an empty path or an empty key.
    """
    if isinstance(spec, str):
        keys: Path = tuple(spec.split(".")) if split else (spec,)
    else:
        keys = tuple(spec)
        if not all(isinstance(key, str) for key in keys):
            raise ValueError("every key of a path must be a string")
    if not keys or any(key == "" for key in keys):
        raise ValueError(f"path {spec!r} has an empty key")
    return keys


def format_path(path: Path) -> str:
    """A path as a person reads it (dotted, or the JSON list when a key holds a dot)."""
    if any("." in key for key in path):
        return "[" + ", ".join(f'"{key}"' for key in path) + "]"
    return ".".join(path)


def resolve(values: object, path: Path) -> object:
    """The value at ``path`` in ``values``, or :data:`MISSING` (a JSON null counts as missing)."""
    current = values
    for key in path:
        if isinstance(current, dict):
            current = current.get(key, MISSING)
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return MISSING
        if current is None or current is MISSING:
            return MISSING
    return current
