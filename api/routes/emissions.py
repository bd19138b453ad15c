"""``GET /api/v1/emissions`` and ``GET /api/v1/factors`` (contract section 6).

The answers are :mod:`api.carbon.emissions` and the factor table; the method is in
docs/methodology.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.activity.rollups import Source
from api.activity.scope import scoped
from api.carbon.emissions import EmissionsQuery, EvCharging, Method, emissions_table
from api.carbon.emissions import emissions as emissions_answer
from api.carbon.factors import factor_body, factors_table
from api.carbon.parts import PricingOptions
from api.deps import AnswersDep, FactorsDep, FlagCacheDep, SettingsDep, StoreDep
from api.errors import ParamError
from api.params import (
    FactorYearQuery,
    FormatQuery,
    PeriodQuery,
    as_validation_error,
    parse_group_by,
    parse_interval,
    parse_period_window,
    time_query,
)
from api.render import FastJSONResponse, csv_response, table_responses, wants_csv
from api.schemas import EmissionsOut, FactorOut, FactorsOut
from api.schemas.errors import error_responses
from sensors.timestamps import NS_PER_MS, now_ms

router = APIRouter(tags=["carbon"])


@router.get("/factors", response_model=FactorsOut, summary="The emission factors in force",
            responses=table_responses("one line per factor row"))
async def factors(request: Request, table: FactorsDep, output: FormatQuery = None) -> Response:
    """Every factor row (one per id and year) with value, unit, scope, source, URL, origin."""
    if wants_csv(request, output):
        return csv_response(*factors_table(table), "factors.csv")
    body = FactorsOut(title=table.title, note=table.note,
                      factors=[FactorOut.model_validate(factor_body(f)) for f in table.factors])
    return FastJSONResponse(body.model_dump(mode="json"))


@router.get(
    "/emissions", response_model=EmissionsOut, response_class=FastJSONResponse,
    summary="Gross, avoided and net emissions over a window, grouped and bucketed",
    responses={**table_responses("one line per row; the totals are in the X-Total-* "
                                 "headers"), **error_responses(503)},
)
async def emissions(
    request: Request,
    store: StoreDep,
    table: FactorsDep,
    settings: SettingsDep,
    answers: AnswersDep,
    flags: FlagCacheDep,
    start: Annotated[str | None, time_query("inclusive (default: 24 hours before end)")] = None,
    end: Annotated[str | None, time_query("exclusive (default: now)")] = None,
    group_by: Annotated[str | None, Query(
        max_length=200,
        description="comma-separated: domain, site, sensor, carrier, vehicle_class, "
        "scope")] = None,
    interval: Annotated[str | None, Query(
        max_length=16, description="15m, 30m, 1h (fixed length); 2h, 3h, 6h, 12h (London "
        "clock); 1d (London day); 1mo (London month); default: one bucket")] = None,
    source: Annotated[Source, Query(
        description="auto: rollups for the whole hours they cover, raw for the rest; "
        "rollup: the same, and no buckets under an hour; raw: raw readings only")] = "auto",
    output: FormatQuery = None,
    include_simulated: Annotated[bool, Query(
        description="also count sensors registered as simulated (smartplace simulate "
        "--sensors); default: left out")] = False,
    method: Annotated[Method, Query(
        description="annual: DESNZ annual factors; grid_intensity: grid electricity and EV "
        "charging per half-hour at the stored regional intensity (+ T&D), annual factor "
        "where a slot has none; raw data only, interval a multiple of 30m")] = "annual",
    period: PeriodQuery = None,
    factor_year: FactorYearQuery = None,
    wtt: Annotated[bool, Query(
        description="add well-to-tank (upstream fuel) emissions, Scope 3, to the total")] = False,
    ev_charging: Annotated[EvCharging, Query(
        description="included: EV charging in the total (default); memo: reported beside "
        "the total in memo_kgco2e")] = "included",
) -> Response:
    """Emissions in [start, end); kilograms to 3 decimals, tonnes to 6 (a gram), and the
    total is the sum of the (rounded) rows."""
    try:
        window, named = parse_period_window(period, start, end, now_ms() * NS_PER_MS)
        options = PricingOptions(
            wtt=wtt, ev_memo=ev_charging == "memo", fleet_mix=settings.fleet_mix,
            factor_year=factor_year if factor_year is not None else (
                named.factor_year if named else None))
        query = EmissionsQuery(window, parse_interval(interval, window),
                               parse_group_by(group_by), source, method, options,
                               named).check()
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    scope = (await flags.get(store)).scope(include_simulated)
    cached = await answers.get(
        answers.key(request.url.path, request.query_params.multi_items(), scope),
        lambda: scoped(scope, emissions_answer(store, table, query, settings.grid_region_id)))
    body, _ = cached.value
    if not wants_csv(request, output):
        return FastJSONResponse(body, headers=cached.headers())
    suffix = "" if method == "annual" else f"_{method}"
    header, rows = emissions_table(body)
    co2 = body["total_kgco2"]
    return csv_response(header, rows, f"emissions_{body['start']}_{body['end']}{suffix}.csv", {
        "X-Total-kgCO2e": repr(body["total_kgco2e"]),
        "X-Total-tCO2e": repr(body["total_tco2e"]),
        "X-Total-kgCO2": repr(co2) if co2 is not None else "",
        "X-Avoided-kgCO2e": repr(body["avoided_kgco2e"]),
        "X-Method": method, **cached.headers(),
    })
