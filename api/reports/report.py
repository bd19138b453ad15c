"""A council report of a period in HTML, PDF or CSV: one entry point for the CLI and the API.

``GET /api/v1/reports/{period}`` and ``smartplace report --period`` both call
:func:`make_report`. The CSV edition holds every figure at the API's precision
(:mod:`api.precision`: tonnes to 6 decimals, a gram), one per line, with the API query
that gives it; the HTML and PDF editions round further for reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from api.activity.scope import scoped
from api.carbon.parts import PricingOptions
from api.clock import Period
from api.influx import InfluxStore
from api.network.flags import fetch_flags
from api.precision import kg, tonnes, tonnes_or_none
from api.render import csv_text
from api.reports.figures import ReportFigures, gather_figures
from api.reports.html import period_label, render_html
from api.reports.pdf import find_chromium, html_to_pdf
from sensors.factors import FactorTable
from sensors.registry import Registry
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS, now_ms

ReportFormat = Literal["html", "pdf", "csv"]
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "csv": "text/csv; charset=utf-8"}
CSV_HEADER = ("section", "item", "value", "unit", "query")


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report."""

    content: bytes
    media_type: str
    filename: str
    figures: ReportFigures


def csv_rows(figures: ReportFigures) -> list[list[Any]]:
    """Every figure of the report at the API's precision, each with its query."""
    q = figures.queries
    summary, ind = figures.summary, figures.indicators
    rows: list[list[Any]] = [
        ["period", "name", figures.period.text, "", ""],
        ["period", "label", period_label(figures.period), "", ""],
        ["period", "comparison", figures.previous.text, "", ""],
        ["period", "factor_year", figures.options.factor_year, "", ""],
        ["totals", "total", tonnes(summary.total_kgco2e), "tCO2e", q[0]],
        ["totals", "total_co2", tonnes_or_none(summary.total_kgco2), "tCO2", q[0]],
        ["totals", "co2_known", tonnes(summary.kgco2_known), "tCO2", q[0]],
        ["totals", "avoided_solar", tonnes(summary.avoided_kgco2e), "tCO2e", q[1]],
        ["totals", "memo_ev_charging", tonnes(summary.memo_kgco2e), "tCO2e", q[1]],
    ]
    rows += [["scope", scope, tonnes(kgs), "tCO2e", q[0]]
             for scope, kgs in figures.scopes.items()]
    for row in summary.rows:
        key = row.keys["carrier"] or row.keys["vehicle_class"]
        rows.append(["source", f"{row.keys['domain']}.{key}", tonnes(row.kgco2e), "tCO2e",
                     q[1]])
        activity = row.activity
        amount, unit = ((activity.generated_kwh or activity.energy_kwh, "kWh")
                        if row.keys["domain"] == "energy" else (activity.vehicle_km, "vehicle-km"))
        rows.append(["activity", f"{row.keys['domain']}.{key}", kg(amount), unit, q[1]])
    for name, trend, query in (("trend", figures.trend, q[2]),
                               ("trend_previous", figures.previous_trend, q[3])):
        for one in trend:
            for domain in ("energy", "transport"):
                rows.append([name, f"{one['start']} {domain}", tonnes(one[domain]), "tCO2e",
                             query])
    previous = ind["previous_totals_tco2e"]
    rows += [["comparison", "previous_total", None if previous is None else previous["total"],
              "tCO2e", q[4]],
             ["comparison", "change_abs", ind["change"]["total"]["abs_tco2e"], "tCO2e", q[4]],
             ["comparison", "change_pct", ind["change"]["total"]["pct"], "%", q[4]],
             ["completeness", "current", ind["completeness"]["share"], "share", q[4]],
             ["completeness", "previous", (ind["previous_completeness"] or {}).get("share"),
              "share", q[4]]]
    for site, bands in figures.daily["days_by_band"].items():
        rows += [["daqi_days", f"{site} {band}", n, "days", q[5]] for band, n in bands.items()]
    rows += [["factor", f"{f['id']}@{f['year']}", f["value"], f["unit"], q[6]]
             for f in figures.factors if f["applied"]]
    rows += [["disclosure", d["code"], d["message"], "", ""] for d in figures.disclosures]
    rows.append(["reproducibility", "inputs_sha256", figures.inputs_sha256, "", ""])
    return rows


async def make_report(store: InfluxStore, table: FactorTable, registry: Registry,
                      settings: Settings, period: Period, output: ReportFormat,
                      options: PricingOptions, version: str) -> Report:
    """Gather and render a report.

    Raises:
        StoreError: InfluxDB could not answer.
        ReportError: PDF without a working Chromium.
    """
    chromium = find_chromium(settings.chromium_path) if output == "pdf" else None
    # Council figures: simulated sensors left out (api/activity/scope.py).
    flags = await fetch_flags(store, registry)
    figures = await scoped(flags.scope(), gather_figures(store, table, registry, period,
                                                         options, now_ms() * NS_PER_MS))
    name = f"smartplace-report-{period.text}.{output}"
    if output == "csv":
        content = csv_text(CSV_HEADER, csv_rows(figures)).encode("utf-8")
    else:
        html = render_html(figures, version)
        content = (html.encode("utf-8") if chromium is None
                   else await html_to_pdf(html, chromium))
    return Report(content, MEDIA_TYPES[output], name, figures)
