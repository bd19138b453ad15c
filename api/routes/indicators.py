"""``GET /api/v1/indicators``: the climate team's headline figures for a window.

Totals by domain in tCO2e and their change against the previous period of equal
length, vehicle-class shares, active-travel share, energy carbon intensity, solar share
and data completeness. Formulas: ``api/kpis.py`` and ``docs/methodology.md``
("Indicators"). Every ratio comes with the activity it was computed from.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import FactorsDep, RegistryDep, StoreDep
from api.indicator_queries import fetch_received
from api.indicators import FactorKey, summarise
from api.kpis import (
    PeriodActivity,
    active_travel_share,
    activity_body,
    change,
    completeness,
    energy_intensity_g_per_kwh,
    period_activity,
    solar_share,
    totals_tco2e,
    vehicle_class_share,
)
from api.params import (
    NS_PER_MS,
    ParamError,
    TimeWindow,
    as_validation_error,
    format_ns,
    london_year,
    parse_time,
    parse_window,
)
from api.rollups import Source, read_activity
from api.schemas import FastJSONResponse
from api.store import InfluxStore
from sensors.factors import FactorTable
from sensors.timestamps import NS_PER_S

router = APIRouter(tags=["indicators"])

DEFAULT_INDICATOR_RANGE_S = 7 * 86_400
# summarise's grouping that keeps carriers and vehicle classes apart.
_GROUP_BY = ("domain", "carrier", "vehicle_class")


def indicator_window(start: str | None, end: str | None, now_ns: int) -> TimeWindow:
    """[start, end): end defaults to now, start to 7 days before end; at most 366 days.

    Raises:
        ParamError: as :func:`api.params.parse_window`.
    """
    if start is None:
        end_ns = parse_time("end", end) if end else now_ns
        start = format_ns(max(0, end_ns - DEFAULT_INDICATOR_RANGE_S * NS_PER_S))
    return parse_window(start, end, now_ns)


def previous_window(window: TimeWindow) -> TimeWindow:
    """[start - (end - start), start): the period of equal length just before."""
    return TimeWindow(2 * window.start_ns - window.end_ns, window.start_ns)


async def _period(store: InfluxStore, window: TimeWindow, table: FactorTable, source: Source
                  ) -> tuple[PeriodActivity, frozenset[FactorKey], tuple[int, int] | None]:
    read = await read_activity(store, window, None, source, _GROUP_BY)
    summary = summarise(read.energy, read.transport, _GROUP_BY, table)
    return period_activity(summary), summary.applied, read.rollup_span


def _years(*windows: TimeWindow) -> set[int]:
    """Every Europe/London calendar year the windows touch (factor rows are per year)."""
    years: set[int] = set()
    for window in windows:
        first = london_year(window.start_ns // NS_PER_MS)
        last = london_year((window.end_ns - 1) // NS_PER_MS)
        years.update(range(first, last + 1))
    return years


def factors_body(table: FactorTable, years: set[int],
                 applied: frozenset[FactorKey]) -> list[dict[str, Any]]:
    """The factor rows in force for these years; ``applied`` when one multiplied activity."""
    return [
        {"id": factor.id, "value": factor.value, "unit": factor.unit,
         "source": factor.source, "year": factor.year, "scope": factor.scope,
         "url": factor.url, "origin": factor.origin,
         "applied": (factor.id, factor.year) in applied}
        for factor in table.in_force(years)
    ]


def indicators_body(
    window: TimeWindow, previous: TimeWindow, current: PeriodActivity,
    before: PeriodActivity, factors: list[dict[str, Any]],
    completeness_body: dict[str, Any], source: Source = "raw",
    rollup_span: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The JSON answer."""
    totals, previous_totals = totals_tco2e(current), totals_tco2e(before)
    avoided = current.avoided_kgco2e / 1000.0
    previous_avoided = before.avoided_kgco2e / 1000.0
    return {
        "unit": "tCO2e",
        "start": format_ns(window.start_ns),
        "end": format_ns(window.end_ns),
        "previous": {"start": format_ns(previous.start_ns), "end": format_ns(previous.end_ns)},
        "totals_tco2e": totals,
        "previous_totals_tco2e": previous_totals,
        "change": change(totals, previous_totals),
        "avoided_tco2e": avoided,
        "net_tco2e": totals["total"] - avoided,
        "previous_avoided_tco2e": previous_avoided,
        "previous_net_tco2e": previous_totals["total"] - previous_avoided,
        "vehicle_class_share": vehicle_class_share(current),
        "active_travel_share": active_travel_share(current),
        "energy_intensity_gco2e_per_kwh": energy_intensity_g_per_kwh(current),
        "solar_share": solar_share(current),
        "completeness": completeness_body,
        "activity": activity_body(current),
        "previous_activity": activity_body(before),
        "factors": factors,
        "source": {"requested": source,
                   "rollup_start": format_ns(rollup_span[0] * NS_PER_MS) if rollup_span else None,
                   "rollup_end": format_ns(rollup_span[1] * NS_PER_MS) if rollup_span else None},
    }


@router.get(
    "/indicators", response_class=FastJSONResponse,
    summary="Headline carbon indicators over a window, against the previous period",
)
async def indicators(
    store: StoreDep,
    table: FactorsDep,
    registry: RegistryDep,
    start: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: 7 days before end)")] = None,
    end: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset, exclusive (default: now)")] = None,
    source: Annotated[Source, Query(
        description="auto: rollups for windows over 2 days; raw; rollup")] = "auto",
) -> FastJSONResponse:
    """Indicators for [start, end) and the equal period before it; nothing is rounded."""
    now_ns = time.time_ns() // NS_PER_MS * NS_PER_MS
    try:
        window = indicator_window(start, end, now_ns)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    previous = previous_window(window)
    (current, applied_now, span), (before, applied_before, _), received = await asyncio.gather(
        _period(store, window, table, source), _period(store, previous, table, source),
        fetch_received(store, window, source),
    )
    window_s = (window.end_ns - window.start_ns) / NS_PER_S
    return FastJSONResponse(indicators_body(
        window, previous, current, before,
        factors_body(table, _years(previous, window), applied_now | applied_before),
        completeness(registry, received, window_s), source, span,
    ))
