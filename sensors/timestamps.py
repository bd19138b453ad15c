"""RFC 3339 timestamps with a mandatory offset, as epoch nanoseconds (payloads and API)."""

from __future__ import annotations

import re
import time
from datetime import datetime

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
# InfluxDB stores int64 nanoseconds (until 2262); anything from 2200 on is a mistake.
MAX_TIME_NS = 7_258_118_400 * NS_PER_S

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339_ns(text: str) -> int:
    """Epoch nanoseconds of an RFC 3339 timestamp that carries an offset.

    Raises:
        ValueError: not RFC 3339 with an offset, not a real date and time, or outside
            1970-01-01 .. 2200-01-01. The message says which.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("is not RFC 3339 with an offset (e.g. 2026-11-26T10:00:00Z)")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}{tz}")
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc})") from None
    ns = int(moment.timestamp()) * NS_PER_S + int((fraction or "0").ljust(9, "0"))
    if not 0 <= ns < MAX_TIME_NS:
        raise ValueError("is outside 1970-01-01 .. 2200-01-01")
    return ns


def now_ms() -> int:
    """The current time as integer epoch milliseconds (the precision readings have)."""
    return time.time_ns() // NS_PER_MS
