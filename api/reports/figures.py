"""Every figure of a council report, gathered once: the same functions the API answers with.

A report covers a named period (``fy2025``, ``2025``, ``2025-11``) priced with the DESNZ
set DESNZ's rule names, against the previous period of the same kind. Its figures are those
of ``/emissions`` (by scope and domain, and month by month), ``/indicators`` (change and
completeness of both periods) and ``/air-quality/daqi/daily`` (days by band); the
reproducibility block lists those queries and a SHA-256 of the inputs (activity as read and
the factor rows applied), so a published figure can be recomputed and checked.
docs/methodology.md, "Reports".
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.rollups import read_activity
from api.air.answers import daqi_daily
from api.air.sites import air_quality_sites
from api.carbon.disclosures import summary_disclosures
from api.carbon.factors import factors_in_force
from api.carbon.indicators import IndicatorsQuery, indicators
from api.carbon.parts import SCOPES, PricingOptions
from api.carbon.pricing import EmissionsSummary, rebucket, summarise
from api.clock import INTERVALS, Period, format_london_ns, format_ns
from api.influx import InfluxStore
from sensors.factors import FactorTable
from sensors.registry import Registry
from sensors.timestamps import NS_PER_MS

DOMAINS = ("energy", "transport")


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What a report shows; every figure also in an API answer named in ``queries``."""

    period: Period
    previous: Period
    generated_at: str
    scopes: dict[str, float]  # kgCO2e
    summary: EmissionsSummary  # the whole period, grouped by domain, carrier, class
    trend: list[dict[str, Any]]  # per bucket: label, energy and transport kgCO2e
    previous_trend: list[dict[str, Any]]
    indicators: dict[str, Any]
    daily: dict[str, Any]
    factors: list[dict[str, Any]]
    disclosures: list[dict[str, str]]
    queries: list[str]
    inputs_sha256: str
    options: PricingOptions
    source_note: str = field(default="")


def activity_digest(energy: list[EnergyActivity], transport: list[TransportActivity],
                    factors: list[dict[str, Any]], options: PricingOptions,
                    period: Period) -> str:
    """SHA-256 of the inputs: activity at its read grain (kWh and vehicle-km to 9
    significant figures, counts exact), the factor rows applied, and the options."""
    records = sorted(
        [("e", m.bucket_ms or 0, m.site, m.sensor, m.carrier.value, f"{m.energy_kwh:.9g}")
         for m in energy if m.energy_kwh]
        + [("t", t.bucket_ms or 0, t.site, t.sensor, t.vehicle_class.value,
            f"{t.vehicle_km:.9g}", t.counts, t.unattributed_counts)
           for t in transport if t.vehicle_km or t.counts or t.unattributed_counts])
    applied = sorted((f["id"], f["year"], repr(f["value"])) for f in factors if f["applied"])
    payload = {"period": period.text, "activity": records, "factors": applied,
               "options": {"wtt": options.wtt, "ev_memo": options.ev_memo,
                           "fleet_mix": options.fleet_mix.text() if options.fleet_mix else None,
                           "factor_year": options.factor_year}}
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()


def _trend(energy: list[EnergyActivity], transport: list[TransportActivity],
           table: FactorTable, options: PricingOptions, interval_text: str
           ) -> list[dict[str, Any]]:
    interval = INTERVALS[interval_text]
    moved = rebucket(energy, transport, interval.bucket_start_ms)
    summary = summarise(*moved, ("domain",), table, options)
    buckets: dict[int, dict[str, float]] = {}
    for row in summary.rows:
        bucket = row.bucket_ms or 0
        buckets.setdefault(bucket, dict.fromkeys(DOMAINS, 0.0))[str(row.keys["domain"])] = \
            row.kgco2e
    return [{"start": format_london_ns(bucket * NS_PER_MS), "bucket_ms": bucket, **values}
            for bucket, values in sorted(buckets.items())]


async def _read(store: InfluxStore, period: Period, interval_text: str
                ) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    # Hourly grain from rollups where complete (source=auto); buckets are rebucketed below.
    read = await read_activity(store, period.window, INTERVALS[interval_text], "auto")
    return read.energy, read.transport


async def gather_figures(store: InfluxStore, table: FactorTable, registry: Registry,
                         period: Period, options: PricingOptions, now_ns: int
                         ) -> ReportFigures:
    """Read and price everything a report of ``period`` shows.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    interval = "1d" if period.kind == "month" else "1mo"
    previous = period.previous()
    priced = PricingOptions(options.wtt, options.ev_memo, options.fleet_mix,
                            options.factor_year or period.factor_year)
    before = PricingOptions(options.wtt, options.ev_memo, options.fleet_mix,
                            options.factor_year or previous.factor_year)
    sites = await air_quality_sites(store, registry)
    (energy, transport), (old_energy, old_transport), figures, daily = await asyncio.gather(
        _read(store, period, interval), _read(store, previous, interval),
        indicators(store, table, registry, IndicatorsQuery(
            period.window, "auto", period, "previous", options.factor_year, options)),
        daqi_daily(store, registry, sites, period.window, None))
    # One bucket for the whole period; each activity keeps its London year.
    flat = ([replace(m, bucket_ms=None) for m in energy],
            [replace(t, bucket_ms=None) for t in transport])
    summary = summarise(*flat, ("domain", "carrier", "vehicle_class"), table, priced)
    factors = factors_in_force(table, {priced.factor_year or period.year}, summary.applied)
    query = f"period={period.text}" + _option_query(options)
    return ReportFigures(
        period=period, previous=previous, generated_at=format_ns(now_ns),
        scopes={scope: summary.scopes.get(scope, 0.0) for scope in SCOPES},
        summary=summary,
        trend=_trend(energy, transport, table, priced, interval),
        previous_trend=_trend(old_energy, old_transport, table, before, interval),
        indicators=figures, daily=daily, factors=factors,
        disclosures=summary_disclosures(summary, options.ev_memo) + figures["warnings"],
        queries=[f"/api/v1/emissions?{query}&group_by=scope",
                 f"/api/v1/emissions?{query}&group_by=domain,carrier,vehicle_class",
                 f"/api/v1/emissions?{query}&group_by=domain&interval={interval}",
                 f"/api/v1/emissions?period={previous.text}{_option_query(options)}"
                 f"&group_by=domain&interval={interval}",
                 f"/api/v1/indicators?{query}&compare=previous",
                 f"/api/v1/air-quality/daqi/daily?period={period.text}",
                 "/api/v1/factors",
                 f"/api/v1/reports/{period.text}?format=csv{_option_query(options)}"],
        inputs_sha256=activity_digest(*flat, factors, priced, period),
        options=priced,
    )


def _option_query(options: PricingOptions) -> str:
    parts = []
    if options.wtt:
        parts.append("wtt=true")
    if options.ev_memo:
        parts.append("ev_charging=memo")
    if options.factor_year is not None:
        parts.append(f"factor_year={options.factor_year}")
    return "".join(f"&{part}" for part in parts)


def tonnes(kg: float | None) -> float | None:
    """kg to tonnes (None stays None)."""
    return None if kg is None else kg / 1000


def share(part: float, whole: float) -> float | None:
    """part / whole, None when the whole is 0."""
    return part / whole if whole else None

