"""``GET /api/v1/reports/{period}``: a council-ready report in HTML, PDF or CSV.

The report is :mod:`api.reports.report`, the same as ``smartplace report``; what it holds
and how it is made is in docs/methodology.md, "Reports".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.carbon.emissions import EvCharging
from api.carbon.parts import PricingOptions
from api.deps import FactorsDep, RegistryDep, SettingsDep, StoreDep
from api.errors import ParamError, ReportError
from api.params import FactorYearQuery, as_validation_error, parse_period
from api.render import wants_csv
from api.reports.report import MEDIA_TYPES, ReportFormat, make_report
from api.schemas.errors import error_responses
from api.schemas.example_data import example_text
from sensors.version import smartplace_version

router = APIRouter(tags=["reports"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {
        MEDIA_TYPES["html"]: {"schema": {"type": "string"},
                              "example": "<!doctype html><html lang=\"en\">...</html>"},
        MEDIA_TYPES["pdf"]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_TYPES["csv"]: {"schema": {"type": "string"},
                             "example": example_text("report.csv")}},
          "description": "the report: HTML (default), PDF, or CSV (format=csv, or "
          "Accept: text/csv without format): section, item, value, unit, query"},
    **error_responses(503, e503="InfluxDB unavailable, or PDF asked for without Chromium"),
}


@router.get("/reports/{period}", response_class=Response, responses=_RESPONSES,
            summary="A council report of a period: totals by scope and source, trend, "
            "completeness, DAQI days, factors, method and reproducibility")
async def report(
    request: Request,
    store: StoreDep, table: FactorsDep, registry: RegistryDep, settings: SettingsDep,
    period: Annotated[str, PathParam(max_length=16, description="fy2025, 2025 or 2025-11")],
    output: Annotated[ReportFormat | None, Query(
        alias="format", description="html, pdf or csv (default: csv for Accept: text/csv "
        "without text/html, else html)")] = None,
    factor_year: FactorYearQuery = None,
    wtt: Annotated[bool, Query(description="include well-to-tank (Scope 3)")] = False,
    ev_charging: Annotated[EvCharging, Query()] = "included",
) -> Response:
    """The report as an attachment (HTML shown inline)."""
    if output is None:
        output = "csv" if wants_csv(request, None, also_not="text/html") else "html"
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
