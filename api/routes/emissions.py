"""``GET /api/v1/emissions`` and ``GET /api/v1/factors`` (contract section 6)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import FactorsDep, StoreDep
from api.indicators import Activity, EmissionRow, EmissionsSummary, summarise
from api.params import (
    NS_PER_MS,
    ParamError,
    TimeWindow,
    as_validation_error,
    format_ns,
    parse_group_by,
    parse_interval,
    parse_window,
)
from api.queries import fetch_activity
from api.schemas import EmissionsOut, FactorOut, FactorsOut, FastJSONResponse
from sensors.factors import EmissionFactor, FactorTable
from sensors.timestamps import NS_PER_S

router = APIRouter(tags=["carbon"])


def factor_out(factor: EmissionFactor) -> FactorOut:
    """The public shape of a factor."""
    return FactorOut(
        id=factor.id, value=factor.value, unit=factor.unit, source=factor.source,
        year=factor.year, scope=factor.scope, url=factor.url, notes=factor.notes,
    )


@router.get("/factors", response_model=FactorsOut, summary="The emission factors in force")
async def factors(table: FactorsDep) -> FactorsOut:
    """Every factor with its value, unit, scope, source, year and URL."""
    return FactorsOut(
        title=table.title, note=table.note, factors=[factor_out(f) for f in table.factors]
    )


def _activity(activity: Activity) -> dict[str, Any]:
    return {
        "energy_kwh": activity.energy_kwh, "generated_kwh": activity.generated_kwh,
        "vehicle_km": activity.vehicle_km, "counts": activity.counts,
        "unattributed_counts": activity.unattributed_counts,
    }


def _row(row: EmissionRow, window: TimeWindow, interval_s: int | None) -> dict[str, Any]:
    body: dict[str, Any] = dict(row.keys)
    if interval_s is not None and row.bucket_ms is not None:
        # Buckets align to UTC multiples of the interval; the first and last are clamped
        # to the window, so they say exactly which time the figures cover.
        bucket_ns = row.bucket_ms * NS_PER_MS
        body["bucket_start"] = format_ns(max(bucket_ns, window.start_ns))
        body["bucket_end"] = format_ns(min(bucket_ns + interval_s * NS_PER_S, window.end_ns))
    body["kgco2e"] = row.kgco2e
    body["avoided_kgco2e"] = row.avoided_kgco2e
    body["activity"] = _activity(row.activity)
    return body


def emissions_body(
    summary: EmissionsSummary, window: TimeWindow, group_by: tuple[str, ...],
    interval: str | None, interval_s: int | None, table: FactorTable,
) -> dict[str, Any]:
    """The JSON answer (shape: :class:`api.schemas.EmissionsOut`)."""
    applied = set(summary.factor_ids)
    return {
        "unit": "kgCO2e",
        "start": format_ns(window.start_ns),
        "end": format_ns(window.end_ns),
        "group_by": list(group_by),
        "interval": interval or None,
        "total_kgco2e": summary.total_kgco2e,
        "avoided_kgco2e": summary.avoided_kgco2e,
        "net_kgco2e": summary.net_kgco2e,
        "activity": _activity(summary.activity),
        "rows": [_row(row, window, interval_s) for row in summary.rows],
        "factors": [
            {**factor_out(factor).model_dump(), "applied": factor.id in applied}
            for factor in table.factors
        ],
    }


@router.get(
    "/emissions", response_model=EmissionsOut, response_class=FastJSONResponse,
    summary="Gross, avoided and net emissions over a window, grouped and bucketed",
)
async def emissions(
    store: StoreDep,
    table: FactorsDep,
    start: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: 24 hours before end)")] = None,
    end: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset, exclusive (default: now)")] = None,
    group_by: Annotated[str | None, Query(
        max_length=200,
        description="comma-separated: domain, site, sensor, carrier, vehicle_class")] = None,
    interval: Annotated[str | None, Query(
        max_length=16, description="bucket length, e.g. 15m, 1h, 1d (default: one bucket)")] = None,
) -> FastJSONResponse:
    """Emissions in [start, end); the total equals the sum of the rows (no rounding)."""
    now_ns = time.time_ns() // NS_PER_MS * NS_PER_MS
    try:
        window = parse_window(start, end, now_ns)
        interval_s = parse_interval(interval, window)
        keys = parse_group_by(group_by)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    energy, transport = await fetch_activity(store, window, interval_s)
    summary = summarise(energy, transport, keys, table)
    return FastJSONResponse(emissions_body(summary, window, keys, interval, interval_s, table))
