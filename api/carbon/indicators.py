"""The ``GET /api/v1/indicators`` answer: carbon by domain, shares, intensities, completeness.

Every formula is in ``docs/methodology.md`` (section "Indicators"). The carbon itself
comes from :func:`api.carbon.pricing.summarise`, regrouped and divided by
:mod:`api.carbon.period_figures`; :func:`indicators` reads both periods (the comparison
period of :mod:`api.carbon.comparison`) and assembles the answer. A ratio whose
denominator is zero is ``None`` (JSON ``null``): a report must be able to say "no data"
rather than "0 %".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from api.activity.completeness import completeness
from api.activity.received import fetch_received
from api.activity.rollups import Source, read_activity
from api.carbon.comparison import (
    COMPLETENESS_WARNING_BELOW,
    Compare,
    comparison,
    completeness_warnings,
    has_data,
    period_summary,
)
from api.carbon.disclosures import summary_disclosures
from api.carbon.factors import factors_in_force
from api.carbon.parts import PricingOptions
from api.carbon.period_figures import (
    GROUP_BY,
    PeriodActivity,
    active_travel_share,
    change,
    energy_intensity_g_per_kwh,
    period_activity,
    period_activity_body,
    solar_share,
    totals_tco2e,
    vehicle_class_share,
)
from api.carbon.pricing import EmissionsSummary, FactorKey, summarise
from api.clock import Period, TimeWindow, format_ns, window_years
from api.influx import InfluxStore
from sensors.factors import FactorTable
from sensors.registry import Registry
from sensors.timestamps import NS_PER_MS


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """One period's activity, the rows applied, where it was read from and the summary."""

    activity: PeriodActivity
    applied: frozenset[FactorKey]
    rollup_span: tuple[int, int] | None
    summary: EmissionsSummary


async def _period(store: InfluxStore, window: TimeWindow, table: FactorTable, source: Source,
                  options: PricingOptions) -> PeriodFigures:
    read = await read_activity(store, window, None, source, GROUP_BY)
    summary = summarise(read.energy, read.transport, GROUP_BY, table, options)
    return PeriodFigures(period_activity(summary), summary.applied, read.rollup_span, summary)


@dataclass(frozen=True, slots=True)
class IndicatorsQuery:
    """A checked ``/indicators`` request."""

    window: TimeWindow
    source: Source = "raw"
    period: Period | None = None
    compare: Compare = "previous"
    factor_year: int | None = None  # the request's override of the DESNZ set
    options: PricingOptions = field(default_factory=PricingOptions)


def indicators_body(
    query: IndicatorsQuery, previous: TimeWindow, current: PeriodFigures,
    before: PeriodFigures, factors: list[dict[str, Any]],
    completeness_body: dict[str, Any], previous_completeness: dict[str, Any],
    factor_years: tuple[int | None, int | None],
) -> dict[str, Any]:
    """The JSON answer (:class:`api.schemas.IndicatorsOut`)."""
    window, span = query.window, current.rollup_span
    totals = totals_tco2e(current.activity)
    compared = has_data(previous_completeness)
    previous_totals = totals_tco2e(before.activity) if compared else None
    avoided = current.activity.avoided_kgco2e / 1000.0
    previous_avoided = before.activity.avoided_kgco2e / 1000.0 if compared else None
    periods = [period_summary("current", window, query.period, totals, completeness_body,
                              factor_years[0]),
               period_summary("comparison", previous, None, previous_totals,
                              previous_completeness, factor_years[1])]
    return {
        "unit": "tCO2e",
        "start": format_ns(window.start_ns),
        "end": format_ns(window.end_ns),
        "previous": {"start": format_ns(previous.start_ns), "end": format_ns(previous.end_ns)},
        "compare": query.compare,
        "totals_tco2e": totals,
        "previous_totals_tco2e": previous_totals,
        "change": change(totals, previous_totals),
        "avoided_tco2e": avoided,
        "net_tco2e": totals["total"] - avoided,
        "previous_avoided_tco2e": previous_avoided,
        "previous_net_tco2e": (None if previous_totals is None or previous_avoided is None
                               else previous_totals["total"] - previous_avoided),
        "vehicle_class_share": vehicle_class_share(current.activity),
        "active_travel_share": active_travel_share(current.activity),
        "energy_intensity_gco2e_per_kwh": energy_intensity_g_per_kwh(current.activity),
        "solar_share": solar_share(current.activity),
        "completeness": completeness_body,
        "previous_completeness": previous_completeness,
        "periods": periods,
        "completeness_warning_below": COMPLETENESS_WARNING_BELOW,
        "warnings": completeness_warnings(periods),
        "disclosures": summary_disclosures(current.summary, query.options.ev_memo),
        "activity": period_activity_body(current.activity),
        "previous_activity": period_activity_body(before.activity),
        "factors": factors,
        "source": {"requested": query.source,
                   "rollup_start": format_ns(span[0] * NS_PER_MS) if span else None,
                   "rollup_end": format_ns(span[1] * NS_PER_MS) if span else None},
    }


async def indicators(store: InfluxStore, table: FactorTable, registry: Registry,
                     query: IndicatorsQuery) -> dict[str, Any]:
    """Indicators for the window and its comparison period; nothing is rounded.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    window = query.window
    compared = comparison(window, query.period, query.compare, query.factor_year)
    previous = compared.window
    now_options = replace(query.options, factor_year=compared.factor_year)
    before_options = replace(query.options, factor_year=compared.previous_factor_year)
    current, before, received, received_before = await asyncio.gather(
        _period(store, window, table, query.source, now_options),
        _period(store, previous, table, query.source, before_options),
        fetch_received(store, window, query.source),
        fetch_received(store, previous, query.source),
    )
    years_now = ({compared.factor_year} if compared.factor_year is not None
                 else window_years(window))
    years_before = ({compared.previous_factor_year}
                    if compared.previous_factor_year is not None else window_years(previous))
    return indicators_body(
        query, previous, current, before,
        factors_in_force(table, years_now | years_before, current.applied | before.applied),
        completeness(registry, received, window.seconds),
        completeness(registry, received_before, previous.seconds),
        (compared.factor_year, compared.previous_factor_year),
    )
