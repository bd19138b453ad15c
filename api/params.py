"""Parse and check query parameters (time windows, intervals, group_by); format times.

Checks raise :class:`ParamError`; :func:`as_validation_error` turns one into FastAPI's
own 422 shape (``{"detail": [{"type", "loc", "msg", "input"}]}``), so that every bad
parameter answers alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.exceptions import RequestValidationError

from api.indicators import GROUP_KEYS
from sensors.timestamps import NS_PER_S, parse_rfc3339_ns

NS_PER_MS = 1_000_000
DEFAULT_RANGE_S = 24 * 3600
MAX_RANGE_S = 366 * 86_400
MAX_BUCKETS = 10_000
MIN_INTERVAL_S = 60

_SPACED_OFFSET = re.compile(r"\d \d{2}:\d{2}$")
_INTERVAL = re.compile(r"(\d{1,7})([mhd])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400}


class ParamError(ValueError):
    """A query parameter is invalid."""

    def __init__(self, name: str, message: str, value: object) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.value = value


def as_validation_error(exc: ParamError) -> RequestValidationError:
    """The FastAPI 422 error for a bad query parameter."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", exc.name), "msg": exc.message,
          "input": exc.value}]
    )


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open window [start, end) in epoch nanoseconds."""

    start_ns: int
    end_ns: int


def parse_time(name: str, text: str) -> int:
    """An RFC 3339 timestamp with offset, as epoch nanoseconds.

    A space where the offset's ``+`` belongs is read as ``+``: an unencoded ``+`` in a
    query string arrives as a space, and nothing else could be meant.

    Raises:
        ParamError: not RFC 3339 with an offset, not a real date, or outside 1970..2200.
    """
    # Only the offset's sign can be a space: "2026-11-26T10:00:00 01:00".
    candidate = text[:-6] + "+" + text[-5:] if _SPACED_OFFSET.search(text) else text
    try:
        return parse_rfc3339_ns(candidate)
    except ValueError as exc:
        raise ParamError(
            name, f"must be an RFC 3339 timestamp with an offset, e.g. 2026-11-26T10:00:00Z "
            f"(encode '+' as %2B in URLs): {exc}", text,
        ) from None


def parse_window(start: str | None, end: str | None, now_ns: int) -> TimeWindow:
    """The window [start, end): end defaults to now, start to 24 hours before end.

    Raises:
        ParamError: a bad timestamp, end not after start, or longer than 366 days.
    """
    end_ns = parse_time("end", end) if end else now_ns
    start_ns = parse_time("start", start) if start else max(0, end_ns - DEFAULT_RANGE_S * NS_PER_S)
    if end_ns <= start_ns:
        raise ParamError("end", "must be after start", end or format_ns(end_ns))
    if end_ns - start_ns > MAX_RANGE_S * NS_PER_S:
        raise ParamError("start", "the window [start, end) may span at most 366 days", start)
    return TimeWindow(start_ns, end_ns)


def parse_interval(text: str | None, window: TimeWindow) -> int | None:
    """The bucket length in seconds, or None for one bucket over the whole window.

    Raises:
        ParamError: not ``<n>m|h|d``, under a minute, over 366 days, or too many buckets.
    """
    if not text:
        return None
    match = _INTERVAL.fullmatch(text)
    if match is None:
        raise ParamError(
            "interval", "must be a number and a unit m, h or d, e.g. 15m, 1h, 1d", text
        )
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < MIN_INTERVAL_S:
        raise ParamError("interval", "must be at least 1m", text)
    if seconds > MAX_RANGE_S:
        raise ParamError("interval", "must be at most 366d", text)
    interval_ns = seconds * NS_PER_S
    first = window.start_ns - window.start_ns % interval_ns
    buckets = -(-(window.end_ns - first) // interval_ns)
    if buckets > MAX_BUCKETS:
        raise ParamError(
            "interval", f"makes {buckets} buckets over the window; at most {MAX_BUCKETS}: "
            "use a longer interval or a shorter window", text,
        )
    return seconds


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """Comma-separated grouping keys (empty: one row per bucket).

    Raises:
        ParamError: an unknown key.
    """
    keys = [key.strip() for key in (text or "").split(",") if key.strip()]
    unknown = [key for key in keys if key not in GROUP_KEYS]
    if unknown:
        raise ParamError(
            "group_by", f"unknown key(s) {unknown}; allowed: {', '.join(GROUP_KEYS)}", text
        )
    return tuple(dict.fromkeys(keys))


def format_ns(ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC (``Z``), with as many fraction digits as needed."""
    seconds, fraction = divmod(ns, NS_PER_S)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def format_ms(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC."""
    return format_ns(ms * NS_PER_MS)
