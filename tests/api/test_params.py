"""Query-parameter parsing: timestamps, windows, intervals, group_by."""

from __future__ import annotations

import pytest

from api.clock import (
    Interval,
    TimeWindow,
    format_london_ns,
    format_ms,
    format_ns,
    london_year,
    split_years,
)
from api.errors import ParamError
from api.params import parse_group_by, parse_interval, parse_time, parse_window
from sensors.timestamps import NS_PER_S, parse_rfc3339_ns

T0 = 1_764_151_200 * NS_PER_S  # 2025-11-26T10:00:00Z
DAY = 86_400 * NS_PER_S


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2025-11-26T10:00:00Z", T0),
        ("2025-11-26t10:00:00z", T0),
        ("2025-11-26T11:00:00+01:00", T0),
        ("2025-11-26T05:00:00-05:00", T0),
        ("2025-11-26T11:00:00 01:00", T0),  # an unencoded '+' arrives as a space
        ("2025-11-26T10:00:00.250Z", T0 + 250_000_000),
        ("2025-11-26T10:00:00.000000001Z", T0 + 1),
        # A plain date is 00:00 London: GMT in November, BST (UTC+1) in June.
        ("2025-11-26", T0 - 10 * 3600 * NS_PER_S),
        ("2025-06-30", parse_rfc3339_ns("2025-06-29T23:00:00Z")),
    ],
)
def test_parse_time(text: str, ns: int) -> None:
    assert parse_time("start", text) == ns


@pytest.mark.parametrize(
    "text",
    ["2025-11-26T10:00:00", "2025-11-26 ", "2025-11-2", "1764151200000", "2025-02-30",
     "1969-12-31", "2200-01-01", "0000-01-01", "２０２５-11-26",
     "2025-02-30T00:00:00Z", "1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z",
     "2025-11-26T10:00:00Z; DROP DATABASE x", "", "２０２５-11-26T10:00:00Z"],
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ParamError) as info:
        parse_time("start", text)
    assert info.value.name == "start"


def test_window_defaults_to_the_last_24_hours() -> None:
    assert parse_window(None, None, T0) == TimeWindow(T0 - DAY, T0)
    assert parse_window(None, "2025-11-26T10:00:00Z", T0 + 5) == TimeWindow(T0 - DAY, T0)
    assert parse_window("2025-11-25T10:00:00Z", None, T0) == TimeWindow(T0 - DAY, T0)


def test_window_must_be_forward_and_at_most_366_days() -> None:
    with pytest.raises(ParamError, match="after start"):
        parse_window("2025-11-26T10:00:00Z", "2025-11-26T10:00:00Z", T0)
    with pytest.raises(ParamError, match="366 days"):
        parse_window("2024-01-01T00:00:00Z", "2025-11-26T10:00:00Z", T0)
    assert parse_window("2024-11-25T10:00:00Z", "2025-11-26T10:00:00Z", T0).end_ns == T0


@pytest.mark.parametrize(
    ("text", "kind", "seconds"),
    [("1m", "fixed", 60), ("15m", "fixed", 900), ("30m", "fixed", 1800), ("60m", "fixed", 3600),
     ("1h", "fixed", 3600), ("2h", "clock", 7200), ("6h", "clock", 21_600),
     ("12h", "clock", 43_200), ("1d", "day", 86_400), ("24h", "day", 86_400),
     ("1mo", "month", 31 * 86_400)],
)
def test_interval(text: str, kind: str, seconds: int) -> None:
    interval = parse_interval(text, TimeWindow(T0 - DAY, T0))
    assert interval is not None
    assert (interval.kind, interval.seconds) == (kind, seconds)
    assert interval.query_s == min(seconds, 3600)


def test_no_interval() -> None:
    assert parse_interval(None, TimeWindow(T0 - DAY, T0)) is None
    assert parse_interval("", TimeWindow(T0 - DAY, T0)) is None


# 7m and 5h do not tile an hour or a day; 2d and 1w have no calendar meaning here.
@pytest.mark.parametrize("text", ["0m", "30s", "1w", "1h;drop", "1.5h", "-1h", "1H", "367d",
                                  "99999999d", "h", "1 h", "7m", "5h", "2d", "1M", "2mo"])
def test_interval_rejects(text: str) -> None:
    with pytest.raises(ParamError):
        parse_interval(text, TimeWindow(T0 - DAY, T0))


def test_interval_bucket_limit() -> None:
    year = TimeWindow(T0 - 365 * DAY, T0)
    with pytest.raises(ParamError, match="buckets"):
        parse_interval("15m", year)
    hourly = parse_interval("1h", year)  # 8,761 buckets at most
    assert hourly is not None
    assert hourly.seconds == 3600


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


def _bucket(interval: str, at: str) -> tuple[str, str, float]:
    rule = parse_interval(interval, TimeWindow(T0 - DAY, T0))
    assert isinstance(rule, Interval)
    start = rule.bucket_start_ms(_ms(at))
    end = rule.bucket_end_ms(start)
    return (format_london_ns(start * 1_000_000), format_london_ns(end * 1_000_000),
            (end - start) / 3_600_000)


@pytest.mark.parametrize(
    ("interval", "at", "bucket"),
    [
        # October 2026: clocks go back at 02:00 BST (01:00 UTC) on Sunday 25th: 25 hours.
        ("1d", "2026-10-25T12:00:00Z",
         ("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00", 25)),
        ("1d", "2026-10-24T23:30:00Z",  # 00:30 BST on the 25th
         ("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00", 25)),
        ("1d", "2026-10-24T22:59:59Z",
         ("2026-10-24T00:00:00+01:00", "2026-10-25T00:00:00+01:00", 24)),
        # March 2026: clocks go forward at 01:00 GMT on Sunday 29th: 23 hours.
        ("1d", "2026-03-29T22:59:59Z",
         ("2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00", 23)),
        ("1d", "2026-03-29T23:00:00Z",
         ("2026-03-30T00:00:00+01:00", "2026-03-31T00:00:00+01:00", 24)),
        # Clock buckets: the one holding the change is an hour longer or shorter.
        ("2h", "2026-10-25T01:30:00Z",  # 01:30 GMT, the second 01:30 of the day
         ("2026-10-25T00:00:00+01:00", "2026-10-25T02:00:00+00:00", 3)),
        ("2h", "2026-10-25T02:00:00Z",
         ("2026-10-25T02:00:00+00:00", "2026-10-25T04:00:00+00:00", 2)),
        ("6h", "2026-03-29T00:30:00Z",
         ("2026-03-29T00:00:00+00:00", "2026-03-29T06:00:00+01:00", 5)),
        ("12h", "2026-10-25T20:00:00Z",
         ("2026-10-25T12:00:00+00:00", "2026-10-26T00:00:00+00:00", 12)),
        # Fixed buckets stay fixed: each of the two 01:00 hours is its own bucket.
        ("1h", "2026-10-25T00:10:00Z",
         ("2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00", 1)),
        ("1h", "2026-10-25T01:10:00Z",
         ("2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00", 1)),
        ("15m", "2026-03-29T01:20:00Z",
         ("2026-03-29T02:15:00+01:00", "2026-03-29T02:30:00+01:00", 0.25)),
        # Months: London calendar months, October 2026 has 31 days and one extra hour.
        ("1mo", "2026-10-31T23:59:59Z",
         ("2026-10-01T00:00:00+01:00", "2026-11-01T00:00:00+00:00", 31 * 24 + 1)),
        ("1mo", "2026-12-31T23:59:59Z",
         ("2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00", 31 * 24)),
        ("1mo", "2026-03-31T22:59:59Z",  # 23:59:59 BST on 31 March
         ("2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+01:00", 31 * 24 - 1)),
    ],
)
def test_london_buckets(interval: str, at: str, bucket: tuple[str, str, float]) -> None:
    assert _bucket(interval, at) == bucket


def test_london_year_and_split() -> None:
    assert london_year(_ms("2024-12-31T23:59:59Z")) == 2024
    assert london_year(_ms("2025-01-01T00:00:00Z")) == 2025
    window = TimeWindow(parse_time("s", "2024-12-31T12:00:00Z"),
                        parse_time("e", "2026-01-01T00:00:01Z"))
    assert [(format_ns(p.start_ns), format_ns(p.end_ns)) for p in split_years(window)] == [
        ("2024-12-31T12:00:00Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"),
    ]


def test_group_by() -> None:
    assert parse_group_by(None) == ()
    assert parse_group_by(" site , domain,site,") == ("site", "domain")
    with pytest.raises(ParamError, match="unknown"):
        parse_group_by("domain;drop")


def test_format() -> None:
    assert format_ns(T0) == "2025-11-26T10:00:00Z"
    assert format_ns(T0 + 250_000_000) == "2025-11-26T10:00:00.25Z"
    assert format_ms(T0 // 1_000_000 + 1) == "2025-11-26T10:00:00.001Z"
    assert format_london_ns(T0 + 250_000_000) == "2025-11-26T10:00:00.25+00:00"
    assert format_london_ns(parse_time("t", "2025-06-01T10:00:00Z")) == "2025-06-01T11:00:00+01:00"
