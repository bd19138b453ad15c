"""``GET /api/v1/reports/{period}``: a council-ready report in HTML, PDF or CSV.

The report is :mod:`api.reports.report`, the same as ``smartplace report``; what it holds
and how it is made is in docs/methodology.md, "Reports".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.carbon.emissions import EvCharging
from api.carbon.parts import PricingOptions
from api.deps import FactorsDep, RegistryDep, SettingsDep, StoreDep
from api.errors import ParamError, ReportError
from api.params import FactorYearQuery, as_validation_error, parse_period
from api.reports.report import MEDIA_TYPES, ReportFormat, make_report
from sensors.version import smartplace_version

router = APIRouter(tags=["reports"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in MEDIA_TYPES.values()},
          "description": "the report"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "description": "InfluxDB unavailable, or PDF asked for without Chromium"},
}


@router.get("/reports/{period}", response_class=Response, responses=_RESPONSES,
            summary="A council report of a period: totals by scope and source, trend, "
            "completeness, DAQI days, factors, method and reproducibility")
async def report(
    store: StoreDep, table: FactorsDep, registry: RegistryDep, settings: SettingsDep,
    period: Annotated[str, PathParam(max_length=16, description="fy2025, 2025 or 2025-11")],
    output: Annotated[ReportFormat, Query(alias="format")] = "html",
    factor_year: FactorYearQuery = None,
    wtt: Annotated[bool, Query(description="include well-to-tank (Scope 3)")] = False,
    ev_charging: Annotated[EvCharging, Query()] = "included",
) -> Response:
    """The report as an attachment (HTML shown inline)."""
    try:
        named = parse_period(period)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    options = PricingOptions(wtt, ev_charging == "memo", settings.fleet_mix, factor_year)
    try:
        made = await make_report(store, table, registry, settings, named, output, options,
                                 smartplace_version())
    except ReportError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.message) from exc
    disposition = "inline" if output == "html" else "attachment"
    return Response(made.content, media_type=made.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{made.filename}"',
        "X-Inputs-SHA256": made.figures.inputs_sha256})
