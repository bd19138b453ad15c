"""Named periods and comparison windows, by hand: London midnights, the previous period of
a kind, the same clock times a week or a year earlier, and the DESNZ set of each period."""

from __future__ import annotations

import pytest

from api.carbon.comparison import COMPLETENESS_WARNING_BELOW, comparison, completeness_warnings
from api.clock import Period, TimeWindow, format_ns
from api.errors import ParamError
from api.params import parse_period, parse_period_window, parse_time


def _window(start: str, end: str) -> TimeWindow:
    return TimeWindow(parse_time("start", start), parse_time("end", end))


def _texts(window: TimeWindow) -> tuple[str, str]:
    return format_ns(window.start_ns), format_ns(window.end_ns)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("fy2025", "2025-03-31T23:00:00Z", "2026-03-31T23:00:00Z"),  # BST midnights
     ("FY2024", "2024-03-31T23:00:00Z", "2025-03-31T23:00:00Z"),
     ("2025", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),  # GMT midnights
     ("2025-11", "2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"),
     ("2025-12", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"),
     ("2026-03", "2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z")],  # ends in BST
)
def test_named_periods_are_london_midnights(text: str, start: str, end: str) -> None:
    assert _texts(parse_period(text).window) == (start, end)


@pytest.mark.parametrize("text", ["fy25", "2025-13", "1999", "fy2101", "2025-1-1", "last"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(ParamError):
        parse_period(text)


def test_a_period_and_start_are_not_both_allowed() -> None:
    with pytest.raises(ParamError, match="not both"):
        parse_period_window("fy2025", "2025-04-01T00:00:00Z", None, 0)


@pytest.mark.parametrize(
    ("period", "previous", "year_before"),
    [(Period("financial_year", 2025), "fy2024", "fy2024"),
     (Period("month", 2025, 1), "2024-12", "2024-01"),
     (Period("month", 2025, 11), "2025-10", "2024-11"),
     (Period("year", 2026), "2025", "2025")],
)
def test_previous_periods_of_a_kind(period: Period, previous: str, year_before: str) -> None:
    assert (period.previous().text, period.previous_year().text) == (previous, year_before)


def test_a_named_period_is_compared_with_the_one_before_at_its_own_set() -> None:
    fy = Period("financial_year", 2025)
    found = comparison(fy.window, fy, "previous", None)
    assert _texts(found.window) == ("2024-03-31T23:00:00Z", "2025-03-31T23:00:00Z")
    assert (found.factor_year, found.previous_factor_year) == (2025, 2024)
    forced = comparison(fy.window, fy, "previous", 2025)  # factor_year prices both
    assert (forced.factor_year, forced.previous_factor_year) == (2025, 2025)


def test_previous_is_the_window_of_equal_length_just_before() -> None:
    found = comparison(_window("2025-06-02T10:00:00Z", "2025-06-03T16:00:00Z"), None,
                       "previous", None)
    assert _texts(found.window) == ("2025-06-01T04:00:00Z", "2025-06-02T10:00:00Z")
    assert (found.factor_year, found.previous_factor_year) == (None, None)


def test_previous_week_keeps_london_clock_times_across_a_clock_change() -> None:
    # Monday 30 March 2026 09:00 BST (08:00Z) to 10:00 BST: a week earlier is Monday
    # 23 March 09:00 GMT (09:00Z), 167 hours back, not 168.
    found = comparison(_window("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"), None,
                       "previous_week", None)
    assert _texts(found.window) == ("2026-03-23T09:00:00Z", "2026-03-23T10:00:00Z")
    # After the October change: Monday 26 October 2026 09:00 GMT back to 19 October
    # 09:00 BST (08:00Z), 169 hours.
    autumn = comparison(_window("2026-10-26T09:00:00Z", "2026-10-26T10:00:00Z"), None,
                        "previous_week", None)
    assert _texts(autumn.window) == ("2026-10-19T08:00:00Z", "2026-10-19T09:00:00Z")


def test_previous_year_keeps_dates_and_moves_29_february_to_the_28th() -> None:
    found = comparison(_window("2024-02-29T12:00:00Z", "2024-03-01T12:00:00Z"), None,
                       "previous_year", None)
    assert _texts(found.window) == ("2023-02-28T12:00:00Z", "2023-03-01T12:00:00Z")
    # 1 July 2025 00:00 BST (30 June 23:00Z) a year back is 1 July 2024 00:00 BST.
    summer = comparison(_window("2025-06-30T23:00:00Z", "2025-07-01T23:00:00Z"), None,
                        "previous_year", None)
    assert _texts(summer.window) == ("2024-06-30T23:00:00Z", "2024-07-01T23:00:00Z")


@pytest.mark.parametrize(("share", "warned"), [
    (None, True), (0.0, True), (COMPLETENESS_WARNING_BELOW - 1e-9, True),
    (COMPLETENESS_WARNING_BELOW, False), (1.0, False),
])
def test_low_completeness_warning_threshold(share: float | None, warned: bool) -> None:
    period = {"role": "previous", "start": "2025-10-01T00:00:00Z",
              "end": "2025-11-01T00:00:00Z", "completeness_share": share}
    warnings = completeness_warnings([period])
    assert [w["code"] for w in warnings] == (["low_completeness"] if warned else [])
    if share == 0.0:
        assert "0.0 %" in warnings[0]["message"]
        assert "below 90 %" in warnings[0]["message"]
