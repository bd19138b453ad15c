"""``GET /api/v1/indicators``: the climate team's headline figures for a window.

The answer is :func:`api.carbon.indicators.indicators`; formulas in docs/methodology.md
("Indicators"). Every ratio comes with the activity it was computed from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.activity.rollups import Source
from api.activity.scope import scoped
from api.carbon.comparison import Compare
from api.carbon.indicator_table import indicators_table
from api.carbon.indicators import IndicatorsQuery
from api.carbon.indicators import indicators as indicators_answer
from api.carbon.parts import PricingOptions
from api.deps import AnswersDep, FactorsDep, FlagCacheDep, RegistryDep, SettingsDep, StoreDep
from api.errors import ParamError
from api.params import (
    DAY_S,
    FactorYearQuery,
    FormatQuery,
    PeriodQuery,
    as_validation_error,
    parse_period_window,
    time_query,
)
from api.render import FastJSONResponse, csv_response, table_responses, wants_csv
from api.schemas import IndicatorsOut
from api.schemas.errors import error_responses
from sensors.timestamps import NS_PER_MS, now_ms

router = APIRouter(tags=["indicators"])

DEFAULT_INDICATOR_RANGE_S = 7 * DAY_S


@router.get(
    "/indicators", response_model=IndicatorsOut, response_class=FastJSONResponse,
    summary="Headline carbon indicators over a window, against the previous period",
    responses={**table_responses("one line per figure: indicator, unit, current, "
                                 "comparison, change, change_pct"), **error_responses(503)},
)
async def indicators(
    request: Request,
    answers: AnswersDep,
    store: StoreDep,
    table: FactorsDep,
    registry: RegistryDep,
    settings: SettingsDep,
    flags: FlagCacheDep,
    start: Annotated[str | None, time_query("inclusive (default: 7 days before end)")] = None,
    end: Annotated[str | None, time_query("exclusive (default: now)")] = None,
    source: Annotated[Source, Query(
        description="auto: rollups for the whole hours they cover, raw for the rest; "
        "rollup: the same, and no buckets under an hour; raw: raw readings only")] = "auto",
    include_simulated: Annotated[bool, Query(
        description="also count sensors registered as simulated (smartplace simulate "
        "--sensors); default: left out")] = False,
    period: PeriodQuery = None,
    compare: Annotated[Compare, Query(
        description="previous: the equal period just before (or the previous named "
        "period); previous_week: the same London clock times 7 days earlier; "
        "previous_year: the same dates a year earlier")] = "previous",
    factor_year: FactorYearQuery = None,
    output: FormatQuery = None,
) -> Response:
    """Indicators for [start, end) (or a period) against its comparison: carbon in tonnes
    (6 decimals) and kilograms (3 decimals, as ``/emissions``), shares to 6 decimals."""
    try:
        window, named = parse_period_window(period, start, end, now_ms() * NS_PER_MS,
                                            default_s=DEFAULT_INDICATOR_RANGE_S)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    query = IndicatorsQuery(window, source, named, compare, factor_year,
                            PricingOptions(fleet_mix=settings.fleet_mix))
    scope = (await flags.get(store)).scope(include_simulated)
    cached = await answers.get(
        answers.key(request.url.path, request.query_params.multi_items(), scope),
        lambda: scoped(scope, indicators_answer(store, table, registry, query)))
    body = cached.value
    if wants_csv(request, output):
        return csv_response(*indicators_table(body),
                            f"indicators_{body['start']}_{body['end']}.csv", cached.headers())
    return FastJSONResponse(body, headers=cached.headers())
