"""Time on the Europe/London clock: windows, bucket rules, calendar years, RFC 3339 text.

Pure; no I/O. Every UK offset is a whole hour, so UTC hours are London clock hours; days,
months and years are London calendar ones (23 to 25 hours a day across clock changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from sensors.timestamps import NS_PER_MS, NS_PER_S

LONDON = ZoneInfo("Europe/London")
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open window [start, end) in epoch nanoseconds."""

    start_ns: int
    end_ns: int

    @property
    def seconds(self) -> float:
        """The window's length in seconds."""
        return (self.end_ns - self.start_ns) / NS_PER_S


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


def _intervals() -> dict[str, Interval]:
    table = {f"{n}m": Interval(f"{n}m", "fixed", n * 60) for n in range(1, 60) if 60 % n == 0}
    table["60m"] = table["1h"] = Interval("1h", "fixed", 3600)
    table.update({f"{n}h": Interval(f"{n}h", "clock", n * 3600) for n in (2, 3, 4, 6, 8, 12)})
    table["1d"] = table["24h"] = Interval("1d", "day", 86_400)
    table["1mo"] = Interval("1mo", "month", 31 * 86_400)
    return table


INTERVALS = _intervals()


DAY = INTERVALS["1d"]


def floor_hour(ms: int) -> int:
    """The start of the UTC (and London) clock hour holding ``ms``."""
    return ms - ms % HOUR_MS


def ceil_hour(ms: int) -> int:
    """The first hour boundary at or after ``ms``."""
    return -(-ms // HOUR_MS) * HOUR_MS


def london_days(lo: int, hi: int) -> tuple[int, int]:
    """The whole London days inside [lo, hi): (first midnight, last midnight), or (lo, lo)."""
    first = DAY.bucket_start_ms(lo)
    if first < lo:
        first = DAY.bucket_end_ms(first)
    last = DAY.bucket_start_ms(hi)
    return (first, last) if first < last else (lo, lo)


def days_touching(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """(midnight, next midnight) of each London day that ``[start_ms, end_ms)`` touches."""
    days = []
    day = DAY.bucket_start_ms(start_ms)
    while day < end_ms:
        following = DAY.bucket_end_ms(day)
        days.append((day, following))
        day = following
    return days


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


def window_years(window: TimeWindow) -> set[int]:
    """Every London calendar year the window touches (factor rows are per year)."""
    first = london_year(window.start_ns // NS_PER_MS)
    last = london_year((window.end_ns - 1) // NS_PER_MS)
    return set(range(first, last + 1))


def format_ns(ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC (``Z``), with as many fraction digits as needed."""
    seconds, fraction = divmod(ns, NS_PER_S)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


# Every status answer formats each sensor's last reading, mostly the same as the last time.
@lru_cache(maxsize=1 << 17)
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


def london_text(ms: int) -> str:
    """A moment for people in Stockport: ``Thu 26 Nov 14:05:09 GMT`` (``BST`` in summer)."""
    local = datetime.fromtimestamp(ms / 1000, LONDON)
    return f"{local:%a %d %b %H:%M:%S} {local.tzname()}"


def london_midnight_ns(year: int, month: int, day: int) -> int:
    """Epoch nanoseconds of 00:00 London time on a date."""
    return int(datetime(year, month, day, tzinfo=LONDON).timestamp()) * NS_PER_S


def shift_london(ns: int, *, days: int = 0, years: int = 0) -> int:
    """The same London wall-clock time ``days`` days or ``years`` years away.

    A week back across a clock change is 167 or 169 hours, so that 09:00 stays 09:00;
    29 February moves to 28 February in a year without one. Sub-second parts are kept.
    """
    seconds, fraction = divmod(ns, NS_PER_S)
    local = datetime.fromtimestamp(seconds, LONDON)
    naive = local.replace(tzinfo=None) + timedelta(days=days)
    if years:
        try:
            naive = naive.replace(year=naive.year + years)
        except ValueError:  # 29 February
            naive = naive.replace(year=naive.year + years, day=28)
    # fold=0: an ambiguous October 01:xx resolves to its first (BST) occurrence.
    return int(naive.replace(tzinfo=LONDON).timestamp()) * NS_PER_S + fraction


@dataclass(frozen=True, slots=True)
class Period:
    """A named reporting period on the London calendar.

    ``fy2025`` is the UK financial year 1 April 2025 to 31 March 2026; ``2025`` a
    calendar year; ``2025-11`` a calendar month. ``factor_year`` is the DESNZ factor set
    the period is priced with (docs/methodology.md, "Financial years").
    """

    kind: Literal["financial_year", "year", "month"]
    year: int
    month: int = 1

    @property
    def text(self) -> str:
        """The period as it is written in a URL."""
        if self.kind == "financial_year":
            return f"fy{self.year}"
        return str(self.year) if self.kind == "year" else f"{self.year}-{self.month:02d}"

    @property
    def window(self) -> TimeWindow:
        """[start, end) in epoch nanoseconds, London midnights."""
        if self.kind == "financial_year":
            return TimeWindow(london_midnight_ns(self.year, 4, 1),
                              london_midnight_ns(self.year + 1, 4, 1))
        if self.kind == "year":
            return TimeWindow(london_midnight_ns(self.year, 1, 1),
                              london_midnight_ns(self.year + 1, 1, 1))
        following = (self.year + self.month // 12, self.month % 12 + 1)
        return TimeWindow(london_midnight_ns(self.year, self.month, 1),
                          london_midnight_ns(*following, 1))

    @property
    def factor_year(self) -> int:
        """DESNZ's rule: a calendar year (or month) uses that year's set; an April to March
        year uses the set of the year it starts in ("the 2024 factors should be applied to
        data in reporting year 01/04/24 - 31/03/25")."""
        return self.year

    def previous(self) -> Period:
        """The period of the same kind just before (fy2024, 2024, 2025-10)."""
        if self.kind == "month":
            return Period("month", self.year - (self.month == 1), (self.month - 2) % 12 + 1)
        return Period(self.kind, self.year - 1, self.month)

    def previous_year(self) -> Period:
        """The same period a year earlier."""
        return Period(self.kind, self.year - 1, self.month)
