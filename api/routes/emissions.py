"""``GET /api/v1/emissions`` and ``GET /api/v1/factors`` (contract section 6)."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import FactorsDep, SettingsDep, StoreDep
from api.grid_emissions import fetch_grid_intensity
from api.indicators import (
    GRID_INTENSITY_ID,
    Activity,
    EmissionRow,
    EmissionsSummary,
    EnergyActivity,
    TransportActivity,
    rebucket,
    summarise,
)
from api.params import (
    NS_PER_MS,
    Interval,
    ParamError,
    TimeWindow,
    as_validation_error,
    format_london_ns,
    format_ms,
    format_ns,
    london_year,
    parse_group_by,
    parse_interval,
    parse_window,
)
from api.queries import fetch_activity
from api.rollups import ActivityRead, Source, read_activity
from api.schemas import EmissionsOut, FactorOut, FactorsOut, FastJSONResponse
from api.store import InfluxStore
from sensors.factors import EmissionFactor, FactorTable
from sensors.grid import SLOT_MS, region_slug
from sensors.readings import Carrier

router = APIRouter(tags=["carbon"])

CSV_MEDIA_TYPE = "text/csv"
Method = Literal["annual", "grid_intensity"]
GRID_SOURCE = "NESO Carbon Intensity API, regional forecast (CC BY 4.0)"
GRID_URL = "https://carbonintensity.org.uk"
_GRID_CARRIERS = (Carrier.ELECTRICITY, Carrier.EV_CHARGING)
_FIRST_MISSING = 10
_ACTIVITY_COLUMNS = ("energy_kwh", "generated_kwh", "vehicle_km", "counts",
                     "unattributed_counts")


def factor_out(factor: EmissionFactor) -> FactorOut:
    """The public shape of a factor."""
    return FactorOut(
        id=factor.id, value=factor.value, unit=factor.unit, source=factor.source,
        year=factor.year, scope=factor.scope, url=factor.url, notes=factor.notes,
        origin=factor.origin,
    )


@router.get("/factors", response_model=FactorsOut, summary="The emission factors in force")
async def factors(table: FactorsDep) -> FactorsOut:
    """Every factor row (one per id and year) with value, unit, scope, source, URL, origin."""
    return FactorsOut(
        title=table.title, note=table.note, factors=[factor_out(f) for f in table.factors]
    )


def _activity(activity: Activity) -> dict[str, Any]:
    return {
        "energy_kwh": activity.energy_kwh, "generated_kwh": activity.generated_kwh,
        "vehicle_km": activity.vehicle_km, "counts": activity.counts,
        "unattributed_counts": activity.unattributed_counts,
    }


def _row(row: EmissionRow, window: TimeWindow, interval: Interval | None) -> dict[str, Any]:
    body: dict[str, Any] = dict(row.keys)
    if interval is not None and row.bucket_ms is not None:
        # Buckets follow the London clock; the first and last are clamped to the window,
        # so they say exactly which time the figures cover.
        end_ns = interval.bucket_end_ms(row.bucket_ms) * NS_PER_MS
        body["bucket_start"] = format_london_ns(max(row.bucket_ms * NS_PER_MS, window.start_ns))
        body["bucket_end"] = format_london_ns(min(end_ns, window.end_ns))
    body["kgco2e"] = row.kgco2e
    body["avoided_kgco2e"] = row.avoided_kgco2e
    body["activity"] = _activity(row.activity)
    body["factors"] = [f"{factor_id}@{year}" for factor_id, year in row.factors]
    return body


def window_years(window: TimeWindow) -> set[int]:
    """The London calendar years the window touches."""
    first = london_year(window.start_ns // NS_PER_MS)
    last = london_year((window.end_ns - 1) // NS_PER_MS)
    return set(range(first, last + 1))


def emissions_body(
    summary: EmissionsSummary, window: TimeWindow, group_by: tuple[str, ...],
    interval: Interval | None, table: FactorTable, source: Source,
    rollup_span: tuple[int, int] | None, method: Method = "annual",
    grid: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON answer (shape: :class:`api.schemas.EmissionsOut`)."""
    span = [format_ns(ms * NS_PER_MS) for ms in rollup_span] if rollup_span else [None, None]
    factors = [
        {**factor_out(factor).model_dump(),
         "applied": (factor.id, factor.year) in summary.applied}
        for factor in table.in_force(window_years(window))
    ]
    if grid is not None and grid["mean_gco2_kwh"] is not None:
        factors.append(grid_factor(summary, window, grid))
    return {
        "unit": "kgCO2e",
        "start": format_ns(window.start_ns),
        "end": format_ns(window.end_ns),
        "group_by": list(group_by),
        "interval": interval.text if interval else None,
        "total_kgco2e": summary.total_kgco2e,
        "avoided_kgco2e": summary.avoided_kgco2e,
        "net_kgco2e": summary.net_kgco2e,
        "activity": _activity(summary.activity),
        "rows": [_row(row, window, interval) for row in summary.rows],
        "factors": factors,
        "source": {"requested": source, "rollup_start": span[0], "rollup_end": span[1]},
        "method": method,
        **({"grid_intensity": grid["block"]} if grid is not None else {}),
    }


def grid_factor(summary: EmissionsSummary, window: TimeWindow,
                grid: dict[str, Any]) -> dict[str, Any]:
    """The ``electricity.grid_intensity`` entry: the kWh-weighted mean over ``grid_kwh``.

    Listed only when some kWh was priced at the intensity (a factor's value is a number);
    with none, the ``grid_intensity`` block says so (``grid_kwh`` 0, every slot missing).
    """
    return {
        "id": GRID_INTENSITY_ID, "value": grid["mean_gco2_kwh"], "unit": "gCO2/kWh",
        "source": GRID_SOURCE, "year": london_year((window.end_ns - 1) // NS_PER_MS),
        "scope": "Scope 2 (generation CO2 only; electricity.td added on top)",
        "url": GRID_URL,
        "notes": "kWh-weighted mean of the half-hourly regional intensities applied in "
                 "this answer; per slot: kWh x (gCO2/kWh / 1000 + "
                 "electricity.td)",
        "origin": "packaged",
        "applied": any(factor_id == GRID_INTENSITY_ID for factor_id, _ in summary.applied),
    }


async def read_grid_activity(
    store: InfluxStore, window: TimeWindow, region_id: int
) -> tuple[list[EnergyActivity], list[TransportActivity], dict[str, Any]]:
    """Raw activity per half-hour slot, electricity and EV charging carrying the intensity.

    Slots are ``GROUP BY time(30m)`` buckets: a reading is in the slot containing its
    timestamp, as in the annual method's buckets (:func:`api.queries.fetch_activity`).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    energy, transport = await fetch_activity(store, window, SLOT_MS // 1000)
    intensity = await fetch_grid_intensity(store, window, region_id)
    priced: list[EnergyActivity] = []
    grid_kwh: list[float] = []
    fallback_kwh: list[float] = []
    weighted: list[float] = []
    used: set[int] = set()
    missing: set[int] = set()
    for meter in energy:
        slot = meter.bucket_ms
        if meter.carrier not in _GRID_CARRIERS or slot is None:
            priced.append(meter)
            continue
        gco2 = intensity.get(slot)
        if gco2 is None:
            fallback_kwh.append(meter.energy_kwh)
            missing.add(slot)
            priced.append(meter)
        else:
            grid_kwh.append(meter.energy_kwh)
            weighted.append(meter.energy_kwh * gco2)
            used.add(slot)
            priced.append(replace(meter, gco2_kwh=gco2))
    grid_total = math.fsum(grid_kwh)
    block = {
        "region_id": region_id, "region": region_slug(region_id), "unit": "gCO2/kWh",
        "source": GRID_SOURCE, "grid_kwh": grid_total,
        "fallback_kwh": math.fsum(fallback_kwh), "slots_used": len(used),
        "missing_slots": len(missing),
        "first_missing": [format_ms(slot) for slot in sorted(missing)[:_FIRST_MISSING]],
    }
    mean = math.fsum(weighted) / grid_total if grid_total else None
    return priced, transport, {"block": block, "mean_gco2_kwh": mean}


def _unbucketed(energy: Sequence[EnergyActivity], transport: Sequence[TransportActivity]
                ) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    return ([replace(meter, bucket_ms=None) for meter in energy],
            [replace(traffic, bucket_ms=None) for traffic in transport])


def _cell(value: Any) -> Any:
    # A text cell starting with = + - @ is a formula to Excel: quote it (numbers stay numbers).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def emissions_csv(body: dict[str, Any]) -> str:
    """The rows as CSV: a header, then one line per row; no total line (see methodology)."""
    keys = list(body["group_by"])
    bucket = ["bucket_start", "bucket_end"] if body["interval"] else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*keys, *bucket, "kgco2e", "avoided_kgco2e", *_ACTIVITY_COLUMNS, "factors"])
    for row in body["rows"]:
        # csv writes floats with repr(): the shortest text that reads back exactly.
        writer.writerow([*(_cell(row[key]) for key in keys), *(row[b] for b in bucket),
                         row["kgco2e"], row["avoided_kgco2e"],
                         *(row["activity"][name] for name in _ACTIVITY_COLUMNS),
                         " ".join(row["factors"])])
    return out.getvalue()


def _wants_csv(request: Request, output: str | None) -> bool:
    if output is not None:
        return output == "csv"
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept


@router.get(
    "/emissions", response_model=EmissionsOut, response_class=FastJSONResponse,
    summary="Gross, avoided and net emissions over a window, grouped and bucketed",
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
async def emissions(
    request: Request,
    store: StoreDep,
    table: FactorsDep,
    settings: SettingsDep,
    start: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: 24 hours before end)")] = None,
    end: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset, exclusive (default: now)")] = None,
    group_by: Annotated[str | None, Query(
        max_length=200,
        description="comma-separated: domain, site, sensor, carrier, vehicle_class")] = None,
    interval: Annotated[str | None, Query(
        max_length=16, description="15m, 30m, 1h (fixed length); 2h, 3h, 6h, 12h (London "
        "clock); 1d (London day); 1mo (London month); default: one bucket")] = None,
    source: Annotated[Source, Query(
        description="auto: rollups for windows over 2 days; raw; rollup")] = "auto",
    output: Annotated[Literal["json", "csv"] | None, Query(
        alias="format", description="csv or json (default: from Accept)")] = None,
    method: Annotated[Method, Query(
        description="annual: DESNZ annual factors; grid_intensity: grid electricity and EV "
        "charging per half-hour at the stored regional intensity (+ T&D), annual factor "
        "where a slot has none; raw data only, interval a multiple of 30m")] = "annual",
) -> Response:
    """Emissions in [start, end); the total equals the sum of the rows (no rounding)."""
    now_ns = time.time_ns() // NS_PER_MS * NS_PER_MS
    try:
        window = parse_window(start, end, now_ns)
        bucket = parse_interval(interval, window)
        keys = parse_group_by(group_by)
        if source == "rollup" and bucket is not None and bucket.query_s < 3600:
            raise ParamError("source", "rollups are hourly: use an interval of 1h or more, "
                             "or source=raw", source)
        if method == "grid_intensity":
            if source == "rollup":
                raise ParamError("source", "method=grid_intensity reads raw data", source)
            if bucket is not None and bucket.kind == "fixed" and bucket.seconds % 1800:
                raise ParamError("interval", "method=grid_intensity prices half-hours: use "
                                 "a multiple of 30m (30m, 1h, 2h...1mo) or no interval",
                                 interval)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    grid: dict[str, Any] | None = None
    rollup_span: tuple[int, int] | None = None
    if method == "grid_intensity":
        energy, transport, grid = await read_grid_activity(store, window,
                                                           settings.grid_region_id)
        if bucket is None:
            energy, transport = _unbucketed(energy, transport)
    else:
        read: ActivityRead = await read_activity(store, window, bucket, source, keys)
        energy, transport, rollup_span = read.energy, read.transport, read.rollup_span
    if bucket is not None:
        energy, transport = rebucket(energy, transport, bucket.bucket_start_ms)
    summary = summarise(energy, transport, keys, table)
    body = emissions_body(summary, window, keys, bucket, table, source, rollup_span,
                          method, grid)
    if _wants_csv(request, output):
        suffix = "" if method == "annual" else f"_{method}"
        name = f"emissions_{body['start']}_{body['end']}{suffix}.csv".replace(":", "")
        return Response(emissions_csv(body), media_type=CSV_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Total-kgCO2e": repr(summary.total_kgco2e),
            "X-Avoided-kgCO2e": repr(summary.avoided_kgco2e),
            "X-Method": method,
        })
    return FastJSONResponse(body)
