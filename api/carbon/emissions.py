"""The ``GET /api/v1/emissions`` answer: read activity, price it, shape the rows.

Shape: :class:`api.schemas.EmissionsOut`; formulas: :mod:`api.carbon.pricing` and
docs/methodology.md. The answer is built as plain dicts and rendered with orjson
(:class:`api.render.FastJSONResponse`), not returned as the pydantic model: for 30 days
of hourly rows of 33 sensors (23,760 rows), validating and dumping through the model took
570 ms against 10 ms for orjson alone (2026-12-01, 2 cores); the route tests validate
answers against the model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.rollups import Source, read_activity
from api.carbon.disclosures import summary_disclosures
from api.carbon.factors import factors_in_force
from api.carbon.grid import grid_factor, read_grid_activity
from api.carbon.parts import SCOPES, PricingOptions
from api.carbon.pricing import Activity, EmissionRow, EmissionsSummary, rebucket, summarise
from api.clock import Interval, Period, TimeWindow, format_london_ns, format_ns, window_years
from api.errors import ParamError
from api.influx import InfluxStore
from sensors.factors import FactorTable
from sensors.timestamps import NS_PER_MS

Method = Literal["annual", "grid_intensity"]
EvCharging = Literal["included", "memo"]
ACTIVITY_COLUMNS = ("energy_kwh", "generated_kwh", "vehicle_km", "counts",
                    "unattributed_counts")
FACTOR_YEAR_RULE = (
    "DESNZ, conversion factors 2025, Introduction: factors labelled 2024 are for data of "
    "calendar year 2024; for an April to March year, the set of the year it starts in "
    "(\"the 2024 factors should be applied to data in reporting year 01/04/24 - "
    "31/03/25\"). Without a period or factor_year, each activity uses its own London "
    "calendar year's set.")
CO2_NOTE = ("CO2 only (the CO2 parts DESNZ publishes of each factor; the regional grid "
            "intensity is CO2 already); well-to-tank has no published split and is never in "
            "it. Tyndall Centre carbon budgets are CO2 only.")


@dataclass(frozen=True, slots=True)
class EmissionsQuery:
    """A checked ``/emissions`` request."""

    window: TimeWindow
    interval: Interval | None
    group_by: tuple[str, ...]
    source: Source = "auto"
    method: Method = "annual"
    options: PricingOptions = field(default_factory=PricingOptions)
    period: Period | None = None

    def check(self) -> EmissionsQuery:
        """This query, if its parameters fit together.

        Raises:
            ParamError: rollups asked for below an hour; ``method=grid_intensity`` with
                rollups or with buckets that do not tile half-hours.
        """
        bucket = self.interval
        if self.source == "rollup" and bucket is not None and bucket.query_s < 3600:
            raise ParamError("source", "rollups are hourly: use an interval of 1h or more, "
                             "or source=raw", self.source)
        if self.method == "grid_intensity":
            if self.source == "rollup":
                raise ParamError("source", "method=grid_intensity reads raw data", self.source)
            if bucket is not None and bucket.kind == "fixed" and bucket.seconds % 1800:
                raise ParamError("interval", "method=grid_intensity prices half-hours: use "
                                 "a multiple of 30m (30m, 1h, 2h...1mo) or no interval",
                                 bucket.text)
        return self


def activity_body(activity: Activity) -> dict[str, Any]:
    """The activity behind a figure (:class:`api.schemas.ActivityOut`)."""
    return {name: getattr(activity, name) for name in ACTIVITY_COLUMNS}


def row_body(row: EmissionRow, window: TimeWindow, interval: Interval | None) -> dict[str, Any]:
    """One row (:class:`api.schemas.EmissionRowOut`)."""
    body: dict[str, Any] = dict(row.keys)
    if interval is not None and row.bucket_ms is not None:
        # Buckets follow the London clock; the first and last are clamped to the window,
        # so they say exactly which time the figures cover.
        end_ns = interval.bucket_end_ms(row.bucket_ms) * NS_PER_MS
        body["bucket_start"] = format_london_ns(max(row.bucket_ms * NS_PER_MS, window.start_ns))
        body["bucket_end"] = format_london_ns(min(end_ns, window.end_ns))
    body["kgco2e"] = row.kgco2e
    body["avoided_kgco2e"] = row.avoided_kgco2e
    body["activity"] = activity_body(row.activity)
    body["factors"] = [f"{factor_id}@{year}" for factor_id, year in row.factors]
    body["kgco2"] = row.kgco2
    body["memo_kgco2e"] = row.memo_kgco2e
    body["avoided_td_kgco2e"] = row.avoided_td_kgco2e
    return body


def method_body(summary: EmissionsSummary, options: PricingOptions,
                period: Period | None) -> dict[str, Any]:
    """The parts of an answer that say how it was priced: scopes, gases, WTT, EV, set."""
    return {
        "scopes": {scope: summary.scopes.get(scope, 0.0) for scope in SCOPES},
        "total_kgco2": summary.total_kgco2,
        "co2": {"known_kgco2": summary.kgco2_known, "complete": not summary.co2_missing,
                "missing": [f"{fid}@{year}" for fid, year in summary.co2_missing],
                "note": CO2_NOTE},
        "wtt": {"included": options.wtt, "kgco2e": summary.wtt_kgco2e},
        "ev_charging": {"treatment": "memo" if options.ev_memo else "included",
                        "kwh": summary.ev_charging_kwh, "memo_kgco2e": summary.memo_kgco2e},
        "memo_kgco2e": summary.memo_kgco2e,
        "avoided_td_kgco2e": summary.avoided_td_kgco2e,
        "fleet_mix": options.fleet_mix.text() if options.fleet_mix else None,
        "factor_set": {"year": options.factor_year, "rule": FACTOR_YEAR_RULE},
        "period": None if period is None else {
            "name": period.text, "kind": period.kind, "factor_year": period.factor_year},
        "disclosures": summary_disclosures(summary, options.ev_memo),
    }


def emissions_body(summary: EmissionsSummary, query: EmissionsQuery, table: FactorTable,
                   rollup_span: tuple[int, int] | None, grid: dict[str, Any] | None = None,
                   grid_factor_entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON answer (shape: :class:`api.schemas.EmissionsOut`)."""
    window, interval = query.window, query.interval
    span = [format_ns(ms * NS_PER_MS) for ms in rollup_span] if rollup_span else [None, None]
    forced = query.options.factor_year
    years = {forced} if forced is not None else window_years(window)
    factors = factors_in_force(table, years, summary.applied)
    if grid_factor_entry is not None:
        factors.append(grid_factor_entry)
    return {
        "unit": "kgCO2e",
        "start": format_ns(window.start_ns),
        "end": format_ns(window.end_ns),
        "group_by": list(query.group_by),
        "interval": interval.text if interval else None,
        "total_kgco2e": summary.total_kgco2e,
        "avoided_kgco2e": summary.avoided_kgco2e,
        "net_kgco2e": summary.net_kgco2e,
        "activity": activity_body(summary.activity),
        "rows": [row_body(row, window, interval) for row in summary.rows],
        "factors": factors,
        "source": {"requested": query.source, "rollup_start": span[0], "rollup_end": span[1]},
        "method": query.method,
        **({"grid_intensity": grid} if grid is not None else {}),
        **method_body(summary, query.options, query.period),
    }


def _unbucketed(energy: list[EnergyActivity], transport: list[TransportActivity]
                ) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    return ([replace(meter, bucket_ms=None) for meter in energy],
            [replace(traffic, bucket_ms=None) for traffic in transport])


async def emissions(store: InfluxStore, table: FactorTable, query: EmissionsQuery,
                    region_id: int) -> tuple[dict[str, Any], EmissionsSummary]:
    """The answer to ``query``, and the summary it was built from (for CSV headers).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    bucket = query.interval
    if query.method == "grid_intensity":
        grid = await read_grid_activity(store, query.window, region_id)
        energy, transport = grid.energy, grid.transport
        if bucket is None:
            energy, transport = _unbucketed(energy, transport)
        summary = _price(energy, transport, query, table)
        entry = (grid_factor(summary, query.window, grid.mean_gco2_kwh)
                 if grid.mean_gco2_kwh is not None else None)
        return emissions_body(summary, query, table, None, grid.block, entry), summary
    read = await read_activity(store, query.window, bucket, query.source, query.group_by)
    summary = _price(read.energy, read.transport, query, table)
    return emissions_body(summary, query, table, read.rollup_span), summary


def _price(energy: list[EnergyActivity], transport: list[TransportActivity],
           query: EmissionsQuery, table: FactorTable) -> EmissionsSummary:
    if query.interval is not None:
        energy, transport = rebucket(energy, transport, query.interval.bucket_start_ms)
    return summarise(energy, transport, query.group_by, table, query.options)


def emissions_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The rows as a table (header, rows) for CSV; no total line (see the methodology)."""
    keys = list(body["group_by"])
    bucket = ["bucket_start", "bucket_end"] if body["interval"] else []
    extra = ("kgco2", "memo_kgco2e", "avoided_td_kgco2e")  # appended: old columns keep place
    header = [*keys, *bucket, "kgco2e", "avoided_kgco2e", *ACTIVITY_COLUMNS, "factors", *extra]
    rows = [[*(row[key] for key in keys), *(row[b] for b in bucket),
             row["kgco2e"], row["avoided_kgco2e"],
             *(row["activity"][name] for name in ACTIVITY_COLUMNS), " ".join(row["factors"]),
             *(row[name] for name in extra)]
            for row in body["rows"]]
    return header, rows
