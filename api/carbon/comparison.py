"""Which period an indicator is compared with, and whether the comparison means anything.

``compare=previous`` (the period of equal length just before, or the previous named
period: fy2024 before fy2025), ``previous_week`` (the same London clock times seven days
earlier) or ``previous_year`` (the same London dates and times a year earlier). A
comparison period with no readings has ``null`` totals and changes, never 0; a period
whose data completeness is below :data:`COMPLETENESS_WARNING_BELOW` gets a warning.
docs/methodology.md, "Indicators", says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from api.carbon.disclosures import LOW_COMPLETENESS, disclosure
from api.clock import Period, TimeWindow, format_ns, shift_london

Compare = Literal["previous", "previous_week", "previous_year"]
COMPLETENESS_WARNING_BELOW = 0.9  # share of expected readings received; documented
COMPARE_DAYS = {"previous_week": 7}


@dataclass(frozen=True, slots=True)
class Comparison:
    """The comparison period and the DESNZ set each period is priced with."""

    compare: Compare
    window: TimeWindow
    period: Period | None
    factor_year: int | None  # the current period's set (None: each activity's own year)
    previous_factor_year: int | None


def previous_window(window: TimeWindow) -> TimeWindow:
    """[start - (end - start), start): the period of equal length just before."""
    return TimeWindow(2 * window.start_ns - window.end_ns, window.start_ns)


def comparison(window: TimeWindow, period: Period | None, compare: Compare,
               factor_year: int | None) -> Comparison:
    """The comparison for ``window`` (or ``period``) under ``compare``.

    ``factor_year`` (the request's override) prices both periods when given; otherwise a
    named period and a named comparison period each use their own DESNZ set, and a
    comparison that is not a named period uses the current period's set.
    """
    current_year = factor_year if factor_year is not None else (
        period.factor_year if period else None)
    other: Period | None = None
    if compare == "previous":
        other = period.previous() if period else None
        before = other.window if other else previous_window(window)
    elif compare == "previous_year":
        other = period.previous_year() if period else None
        before = other.window if other else TimeWindow(
            shift_london(window.start_ns, years=-1), shift_london(window.end_ns, years=-1))
    else:
        days = -COMPARE_DAYS[compare]
        before = TimeWindow(shift_london(window.start_ns, days=days),
                            shift_london(window.end_ns, days=days))
    previous_year: int | None = current_year
    if factor_year is not None:
        previous_year = factor_year
    elif other is not None:
        previous_year = other.factor_year
    return Comparison(compare, before, other, current_year, previous_year)


def has_data(completeness_body: dict[str, Any]) -> bool:
    """Whether any energy or transport reading was stored in the period."""
    domains = completeness_body["by_domain"]
    return bool(domains["energy"]["received"] or domains["transport"]["received"])


def period_summary(role: str, window: TimeWindow, period: Period | None,
                   totals: dict[str, float] | None, completeness_body: dict[str, Any],
                   factor_year: int | None) -> dict[str, Any]:
    """One period beside the other: its window, totals and completeness in one place."""
    return {
        "role": role, "start": format_ns(window.start_ns), "end": format_ns(window.end_ns),
        "name": period.text if period else None, "factor_year": factor_year,
        "totals_tco2e": totals, "completeness_share": completeness_body["share"],
        "readings": completeness_body["received"],
        "has_data": has_data(completeness_body),
    }


def completeness_warnings(periods: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A warning per period whose completeness is below the threshold (or unknown)."""
    out = []
    for one in periods:
        share = one["completeness_share"]
        if share is None or share < COMPLETENESS_WARNING_BELOW:
            shown = "unknown" if share is None else f"{100 * share:.1f} %"
            out.append(disclosure(
                LOW_COMPLETENESS, f"The {one['role']} period [{one['start']}, {one['end']}) "
                f"has data completeness {shown}, below "
                f"{100 * COMPLETENESS_WARNING_BELOW:.0f} %: its totals understate emissions "
                "and a change against it is not a change in activity alone."))
    return out
