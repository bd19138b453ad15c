"""Parse and check query parameters (time windows, intervals, group_by); format times.

Checks raise :class:`ParamError`; :func:`as_validation_error` turns one into FastAPI's
own 422 shape (``{"detail": [{"type", "loc", "msg", "input"}]}``), so that every bad
parameter answers alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi.exceptions import RequestValidationError

from api.indicators import GROUP_KEYS
from sensors.timestamps import NS_PER_S, parse_rfc3339_ns

NS_PER_MS = 1_000_000
DEFAULT_RANGE_S = 24 * 3600
MAX_RANGE_S = 366 * 86_400
MAX_BUCKETS = 10_000
LONDON = ZoneInfo("Europe/London")

_SPACED_OFFSET = re.compile(r"\d \d{2}:\d{2}$")


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


@dataclass(frozen=True, slots=True)
class Interval:
    """A bucket rule, aligned to the Europe/London clock.

    ``fixed`` buckets (1m..30m dividing an hour, and 1h) are that many seconds long,
    counted from the Unix epoch: every UK offset is a whole hour, so they also start on
    London clock minutes and tile London days. ``clock`` buckets (2h, 3h, 4h, 6h, 8h, 12h)
    start at London clock times ``k x n`` hours after local midnight, so a day always has
    ``24 / n`` of them and the one spanning a clock change is an hour longer or shorter.
    ``day`` buckets are London calendar days (23, 24 or 25 hours); ``month`` buckets
    London calendar months.
    """

    text: str
    kind: Literal["fixed", "clock", "day", "month"]
    seconds: int  # nominal length (fixed: exact)

    @property
    def query_s(self) -> int:
        """The ``GROUP BY time()`` grain to read before regrouping: at most an hour."""
        return self.seconds if self.kind == "fixed" else 3600

    def bucket_start_ms(self, ms: int) -> int:
        """The start of the bucket holding the instant ``ms`` (epoch milliseconds)."""
        if self.kind == "fixed":
            return ms - ms % (self.seconds * 1000)
        local = datetime.fromtimestamp(ms // 1000, LONDON)
        if self.kind == "month":
            start = datetime(local.year, local.month, 1, tzinfo=LONDON)
        elif self.kind == "day":
            start = datetime(local.year, local.month, local.day, tzinfo=LONDON)
        else:
            step = self.seconds // 3600
            # fold=0 is never ambiguous here: a boundary hour is 0 or at least 2, and the
            # clocks go back over 01:00-02:00.
            start = datetime(local.year, local.month, local.day, local.hour // step * step,
                             tzinfo=LONDON)
        return int(start.timestamp()) * 1000

    def bucket_end_ms(self, start_ms: int) -> int:
        """The end (exclusive) of the bucket starting at ``start_ms``."""
        if self.kind == "fixed":
            return start_ms + self.seconds * 1000
        local = datetime.fromtimestamp(start_ms // 1000, LONDON)
        day = datetime(local.year, local.month, local.day, tzinfo=LONDON)
        if self.kind == "month":
            end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=LONDON)
        elif self.kind == "day" or local.hour + self.seconds // 3600 >= 24:
            following = day.date() + timedelta(days=1)
            end = datetime(following.year, following.month, following.day, tzinfo=LONDON)
        else:
            end = day.replace(hour=local.hour + self.seconds // 3600)
        return int(end.timestamp()) * 1000


def parse_interval(text: str | None, window: TimeWindow) -> Interval | None:
    """The bucket rule, or None for one bucket over the whole window.

    Raises:
        ParamError: not one of ``<n>m`` (n divides 60), ``<n>h`` (n divides 24, n < 24),
            ``1d`` or ``1mo``; or too many buckets over the window.
    """
    if not text:
        return None
    interval = _INTERVALS.get(text)
    if interval is None:
        raise ParamError(
            "interval", "must be one of 1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m, 1h, "
            "2h, 3h, 4h, 6h, 8h, 12h, 1d (a London calendar day) or 1mo (a London calendar "
            "month)", text,
        )
    buckets = -(-(window.end_ns - window.start_ns) // (interval.seconds * NS_PER_S)) + 1
    if buckets > MAX_BUCKETS:
        raise ParamError(
            "interval", f"makes {buckets} buckets over the window; at most {MAX_BUCKETS}: "
            "use a longer interval or a shorter window", text,
        )
    return interval


def _intervals() -> dict[str, Interval]:
    table = {f"{n}m": Interval(f"{n}m", "fixed", n * 60) for n in range(1, 60) if 60 % n == 0}
    table["60m"] = table["1h"] = Interval("1h", "fixed", 3600)
    table.update({f"{n}h": Interval(f"{n}h", "clock", n * 3600) for n in (2, 3, 4, 6, 8, 12)})
    table["1d"] = table["24h"] = Interval("1d", "day", 86_400)
    table["1mo"] = Interval("1mo", "month", 31 * 86_400)
    return table


_INTERVALS = _intervals()


def london_year(ms: int) -> int:
    """The Europe/London calendar year of an instant (epoch milliseconds)."""
    return datetime.fromtimestamp(ms // 1000, LONDON).year


def split_years(window: TimeWindow) -> list[TimeWindow]:
    """The window cut at each London New Year inside it (at most three parts in 366 days)."""
    parts: list[TimeWindow] = []
    start = window.start_ns
    while start < window.end_ns:
        year = london_year(start // NS_PER_MS)
        new_year = int(datetime(year + 1, 1, 1, tzinfo=LONDON).timestamp()) * NS_PER_S
        parts.append(TimeWindow(start, min(new_year, window.end_ns)))
        start = new_year
    return parts


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


def format_london_ns(ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 in Europe/London time, with its offset (+00:00, +01:00)."""
    seconds, fraction = divmod(ns, NS_PER_S)
    local = datetime.fromtimestamp(seconds, LONDON)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + local.isoformat()[-6:]
