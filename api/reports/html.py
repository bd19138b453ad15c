"""A report as HTML: the figures in words, tables and SVG charts, ready to print.

Rendered with Jinja2 (autoescaped: site names and factor notes are data, not markup) from
``templates/report.html``; the PDF is this page printed by headless Chromium
(:mod:`api.reports.pdf`).
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, select_autoescape

from api.air.daqi import BANDS
from api.carbon.comparison import COMPLETENESS_WARNING_BELOW
from api.clock import LONDON, Period
from api.reports.figures import ReportFigures, share
from api.reports.svg import ENERGY, TRANSPORT, band_days, stacked_bars
from sensors.timestamps import NS_PER_MS

PLACE = "Stockport town centre"
SCOPE_LABELS = {
    "scope_1": ("Scope 1", "Gas burned in metered buildings"),
    "scope_2_location": ("Scope 2 (location-based)",
                         "Grid electricity and EV charging: generation"),
    "scope_3": ("Scope 3", "Grid transmission and distribution losses"),
    "territorial_transport": ("Road transport (territorial)",
                              "Vehicles counted on road links, per vehicle-km"),
}
CARRIER_LABELS = {"electricity": "Grid electricity", "ev_charging": "EV charging",
                  "gas": "Gas", "solar_pv": "Solar generated on site (avoided, not in total)"}
CLASS_LABELS = {"car": "Cars", "bus": "Buses", "van": "Vans", "hgv": "HGVs",
                "motorcycle": "Motorcycles", "bicycle": "Bicycles", "pedestrian": "Pedestrians"}
CARRIER_ORDER = ("electricity", "ev_charging", "gas", "solar_pv")
PEOPLE = ("bicycle", "pedestrian")  # counted per person: person-km, not vehicle-km
DOMAIN_LABELS = {"energy": "Energy", "transport": "Transport", "air_quality": "Air quality"}
# The answers' disclosures name API fields; a report says the same in words.
REPORT_NOTES = {
    "ev_double_count": "EV charging is priced as grid electricity, and counted cars with DESNZ "
                       "car factors that include the electricity of electric cars: an electric "
                       "car charged at a metered town-centre charger and counted on a road link "
                       "is counted twice. The overlap cannot be measured from these sensors; "
                       "the report can be made with EV charging as a memo item beside the "
                       "total instead (smartplace report --ev-memo).",
    "co2_incomplete": "The CO2-only figure is incomplete: no checked CO2 part of the factor "
                      "for {missing} was found, so only the CO2 of the other activity is "
                      "known (section 1).",
    "solar_not_netted": "Solar generation is not subtracted from the gross total (GHG "
                        "Protocol: on-site generation does not reduce Scope 2); the emissions "
                        "it avoided are shown beside it.",
}
COUNTED = [
    "Grid electricity imported by metered buildings, and EV charging at metered chargers, at "
    "the DESNZ UK generation factor (Scope 2, location-based) plus transmission and "
    "distribution losses (Scope 3).",
    "Gas burned in metered buildings (Scope 1, gross calorific value).",
    "Road traffic on counted links: vehicles x link length x the DESNZ per-vehicle-km factor "
    "of each class; walking and cycling are counted, at zero emissions.",
    "Solar generation on site, as emissions avoided: beside the total, never subtracted.",
]
NOT_COUNTED = [
    "Buildings without a meter on the network, and roads without a counter.",
    "Counts on links of unknown length: shown as counts, with no vehicle-km or emissions.",
    "Other fuels (oil, LPG, biomass), rail, aviation, waste, water, refrigerant (F-gas) "
    "leaks and land use.",
    "Consumption-based emissions (goods and services bought in the town centre).",
    "Well-to-tank (upstream fuel) emissions, unless the report was made with wtt=true.",
    "Readings missing from the store (see data completeness).",
]


def period_label(period: Period) -> str:
    """``Financial year 2025/26 (1 April 2025 to 31 March 2026)``, ``Calendar year 2025``..."""
    if period.kind == "financial_year":
        return (f"financial year {period.year}/{(period.year + 1) % 100:02d} "
                f"(1 April {period.year} to 31 March {period.year + 1})")
    if period.kind == "year":
        return f"calendar year {period.year}"
    return datetime(period.year, period.month, 1).strftime("%B %Y")


def number(value: float | None, digits: int = 1) -> str:
    """Thousands separated, ``digits`` decimals; a dash for no value."""
    return "–" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal; ``no data`` for None."""
    return "no data" if value is None else f"{100 * value:.1f} %"


def _tonnes(kg: float | None) -> str:
    if kg is None:
        return "–"
    return number(kg / 1000, 2 if abs(kg) < 100_000 else 1)


def _when(rfc3339: str) -> str:
    moment = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(LONDON)
    return f"{moment.day} {moment:%B %Y, %H:%M} ({moment:%Z})"


def _order(row: Any) -> tuple[int, int]:
    carrier, vc = row.keys["carrier"], row.keys["vehicle_class"]
    if carrier in CARRIER_ORDER:
        return 0, CARRIER_ORDER.index(carrier)
    return 1, list(CLASS_LABELS).index(vc) if vc in CLASS_LABELS else 99


def _source_rows(figures: ReportFigures) -> list[dict[str, str]]:
    total = figures.summary.total_kgco2e
    rows = []
    for row in sorted(figures.summary.rows, key=_order):
        domain, carrier, vc = row.keys["domain"], row.keys["carrier"], row.keys["vehicle_class"]
        if domain == "energy" and carrier:
            solar = carrier == "solar_pv"
            kg = row.avoided_kgco2e if solar else row.kgco2e + row.memo_kgco2e
            label = CARRIER_LABELS.get(carrier, carrier)
            if row.memo_kgco2e:
                label += " (memo: not in the total)"
            kwh = row.activity.generated_kwh if solar else row.activity.energy_kwh
            rows.append({"label": label, "activity": f"{number(kwh, 0)} kWh", "t": _tonnes(kg),
                         "share": "–" if solar or row.memo_kgco2e else
                         percent(share(row.kgco2e, total))})
        elif domain == "transport" and vc:
            unit = "person-km" if vc in PEOPLE else "vehicle-km"
            rows.append({"label": CLASS_LABELS.get(vc, vc),
                         "activity": f"{number(row.activity.vehicle_km, 0)} {unit}",
                         "t": _tonnes(row.kgco2e), "share": percent(share(row.kgco2e, total))})
    return rows


def _trend_chart(figures: ReportFigures) -> str:
    month = figures.period.kind != "month"
    labels = [_bucket_label(one["bucket_ms"], month) for one in figures.trend]
    previous = {index: one for index, one in enumerate(figures.previous_trend)}
    reference = [((previous[i]["energy"] + previous[i]["transport"]) / 1000
                  if i in previous else None) for i in range(len(labels))]
    return stacked_bars(
        labels, [("energy", ENERGY, [one["energy"] / 1000 for one in figures.trend]),
                 ("transport", TRANSPORT, [one["transport"] / 1000 for one in figures.trend])],
        reference, "tCO2e", f"Emissions by {'month' if month else 'day'}",
        f"{period_label(figures.previous)}, same {'month' if month else 'day'}")


def _bucket_label(bucket_ms: int, month: bool) -> str:
    local = datetime.fromtimestamp(bucket_ms * NS_PER_MS / 1e9, LONDON)
    return local.strftime("%b %y") if month else local.strftime("%d")


def context(figures: ReportFigures, version: str) -> dict[str, Any]:
    """Everything the template shows, formatted."""
    summary, ind = figures.summary, figures.indicators
    total = summary.total_kgco2e
    previous = ind["previous_totals_tco2e"]
    change = ind["change"]["total"]
    completeness, before = ind["completeness"], ind["previous_completeness"]
    warnings = [_note(w, summary) for w in figures.disclosures
                if w["code"] in ("low_completeness", "ev_double_count")]
    counts = figures.daily["days_by_band"]
    sites = [site for site in figures.daily["sites"] if sum(counts[site].values())]
    return {
        "title": f"Emissions and air quality: {PLACE}",
        "place": PLACE, "period_label": period_label(figures.period).capitalize(),
        "previous_label": period_label(figures.previous),
        "period_short": figures.period.text, "previous_short": figures.previous.text,
        "generated_at": _when(figures.generated_at), "version": version,
        "factor_year": figures.options.factor_year,
        "total_t": _tonnes(total),
        "previous_total_t": "no data" if previous is None else
        f"{_tonnes(previous['total'] * 1000)} tCO2e",
        "change_text": "no data" if change["abs_tco2e"] is None else
        f"{change['abs_tco2e']:+,.2f} t",
        "change_note": "no comparison: no readings in that period" if change["pct"] is None
        else f"{change['pct']:+.1f} % (activity and factor changes together)",
        "completeness_text": percent(completeness["share"]),
        "previous_completeness_text": percent(before["share"] if before else None),
        "warnings": warnings,
        "avoided_t": _tonnes(summary.avoided_kgco2e),
        "scope_rows": [{"label": SCOPE_LABELS[s][0], "counts": SCOPE_LABELS[s][1]
                        + (", and well-to-tank of every fuel" if s == "scope_3" and
                           figures.options.wtt else ""),
                        "t": _tonnes(kg), "share": percent(share(kg, total))}
                       for s, kg in figures.scopes.items()],
        "co2_text": (f"{_tonnes(summary.total_kgco2)} tCO2" if summary.total_kgco2 is not None
                     else f"incomplete: {_tonnes(summary.kgco2_known)} tCO2 known; no checked "
                     "CO2 part of the factor for "
                     f"{', '.join(f'{i} ({y})' for i, y in summary.co2_missing)}"),
        "source_rows": _source_rows(figures),
        "trend_svg": _trend_chart(figures),
        "bucket_word": "month" if figures.period.kind != "month" else "day",
        "completeness_rows": [
            {"domain": DOMAIN_LABELS[domain],
             "sensors": completeness["by_domain"][domain]["sensors"],
             "current": percent(completeness["by_domain"][domain]["share"]),
             "previous": percent(before["by_domain"][domain]["share"] if before else None)}
            for domain in ("energy", "transport", "air_quality")],
        "threshold": f"{100 * COMPLETENESS_WARNING_BELOW:.0f} %",
        "bands": BANDS,
        "daqi_rows": [{"site": site, "counts": [counts[site][b] for b in (*BANDS, "none")]}
                      for site in sites],
        "daqi_svg": band_days(sites, counts, "Days by DAQI band per site") if sites else "",
        "factors": [{**f, "value": f"{f['value']:.10g}"} for f in figures.factors
                    if f["applied"]],
        "counted": COUNTED, "not_counted": NOT_COUNTED,
        "notes": [_note(d, summary) for d in figures.disclosures
                  if d["code"] not in ("low_completeness", "ev_double_count")],
        "queries": figures.queries, "inputs_sha256": figures.inputs_sha256,
    }


def _note(disclosure: dict[str, str], summary: Any) -> str:
    text = REPORT_NOTES.get(disclosure["code"])
    memo = disclosure["code"] == "ev_double_count" and summary.memo_kgco2e
    if text is None or memo:  # with the EV memo, the answer's own wording fits
        return disclosure["message"]
    return text.format(missing=", ".join(f"{i} ({y})" for i, y in summary.co2_missing))


_ENV = Environment(autoescape=select_autoescape(default=True), trim_blocks=True,
                   lstrip_blocks=True)


def render_html(figures: ReportFigures, version: str) -> str:
    """The report page."""
    template = files("api.reports").joinpath("templates/report.html").read_text("utf-8")
    return _ENV.from_string(template).render(**context(figures, version))
