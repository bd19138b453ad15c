"""``GET /api/v1/reconciliation``: the town centre's measured figures beside the borough's.

The borough figures are DESNZ's local-authority statistics (imported with ``smartplace
reconcile import``), by sector and gas; the town-centre figures are this API's for the same
calendar year. Three groups can be set side by side, because both sides count them:
electricity (DESNZ sub-sectors "... Electricity"; here grid electricity and EV charging),
gas ("... Gas"; metered gas) and road transport ("Road Transport (...)"; counted links).
docs/methodology.md, "Reconciliation with the official inventory", explains each ratio.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from api.activity.completeness import completeness, ratio
from api.activity.received import fetch_received
from api.activity.rollups import read_activity
from api.activity.scope import scoped
from api.carbon.parts import PricingOptions
from api.carbon.pricing import EmissionsSummary, summarise
from api.clock import TimeWindow, format_ns, london_midnight_ns
from api.influx import InfluxStore
from api.network.flags import fetch_flags
from api.precision import kg, kilotonnes, kt, share
from api.reconciliation.inventory import InventoryRow, fetch_editions, fetch_rows
from sensors.factors import FactorTable
from sensors.registry import Registry

CAVEAT = (
    "A measured town-centre subset is not a modelled borough inventory. DESNZ estimates "
    "every source in the borough from national datasets (meter-point energy statistics, "
    "modelled traffic, the national inventory) on an end-user basis; the town centre "
    "counts only its metered buildings and counted road links. A coverage ratio says what "
    "share of a borough sector the sensors see, not that the rest is missing from the "
    "borough figure. DESNZ prices electricity with its own grid emission factor for the "
    "year and revises past years in every edition: compare within one edition.")
GROUPS = ("electricity", "gas", "road_transport")
GROUP_LABELS = {"electricity": "Electricity (all '... Electricity' sub-sectors)",
                "gas": "Gas (all '... Gas' sub-sectors)",
                "road_transport": "Road transport (A roads, motorways, minor roads)"}
_GROUP_BY = ("domain", "carrier", "vehicle_class")


def group_of(row: InventoryRow) -> str | None:
    """Which comparable group a DESNZ sub-sector belongs to (None: not measured here)."""
    name = row.subsector.strip()
    if name.endswith("Electricity"):
        return "electricity"
    if name.endswith(" Gas") or name == "Gas":
        return "gas"
    if name.startswith("Road Transport"):
        return "road_transport"
    return None


def _kt(values: Sequence[float | None]) -> float:
    return kt(math.fsum(value for value in values if value is not None))


def borough_body(rows: Sequence[InventoryRow]) -> dict[str, Any]:
    """The borough by sector and sub-sector, CO2e (all gases) and CO2 alone, kt."""
    sectors: dict[str, dict[str, list[InventoryRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        sectors[row.sector][row.subsector].append(row)
    total = _kt([row.territorial_kt for row in rows])
    population = next((row.population_k for row in rows if row.population_k), None)
    area = next((row.area_km2 for row in rows if row.area_km2), None)
    return {
        "total_kt_co2e": total,
        "total_kt_co2": _kt([row.territorial_kt for row in rows if row.gas == "CO2"]),
        "population_k": population, "area_km2": area,
        "per_capita_t_co2e": share(ratio(total, population)) if population else None,
        "per_km2_kt_co2e": share(ratio(total, area)) if area else None,
        "sectors": [{
            "sector": sector,
            "kt_co2e": _kt([r.territorial_kt for subs in sectors[sector].values() for r in subs]),
            "subsectors": [{
                "subsector": sub, "group": group_of(parts[0]),
                "kt_co2e": _kt([r.territorial_kt for r in parts]),
                "kt_co2": _kt([r.territorial_kt for r in parts if r.gas == "CO2"]),
                "within_scope_kt": (_kt([r.within_scope_kt for r in parts])
                                    if any(r.within_scope_kt is not None for r in parts)
                                    else None),
            } for sub, parts in sorted(sectors[sector].items())],
        } for sector in sorted(sectors)],
    }


def town_groups(summary: EmissionsSummary) -> dict[str, dict[str, float]]:
    """kgCO2e, known kgCO2 and activity of the comparable groups in the town centre."""
    figures = ("kgco2e", "kgco2", "activity")
    parts: dict[str, dict[str, list[float]]] = {g: {f: [] for f in figures} for g in GROUPS}
    for row in summary.rows:
        carrier, domain = row.keys.get("carrier"), row.keys.get("domain")
        group = ("electricity" if carrier in ("electricity", "ev_charging") else
                 "gas" if carrier == "gas" else "road_transport" if domain == "transport"
                 else None)
        if group is None:
            continue
        parts[group]["kgco2e"].append(row.kgco2e)
        parts[group]["kgco2"].append(row.kgco2 or 0.0)
        parts[group]["activity"].append(row.activity.vehicle_km if group == "road_transport"
                                        else row.activity.energy_kwh)
    return {group: {name: math.fsum(parts[group][name]) for name in figures}
            for group in GROUPS}


def comparison_rows(rows: Sequence[InventoryRow],
                    town: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Per comparable group: both figures, the coverage ratio and the implied factors."""
    out = []
    for group in GROUPS:
        borough = [row for row in rows if group_of(row) == group]
        borough_kt = _kt([row.territorial_kt for row in borough])
        mine = town[group]
        town_kt = kilotonnes(mine["kgco2e"])
        unit = "vehicle-km" if group == "road_transport" else "kWh"
        activity = kg(mine["activity"])
        out.append({
            "group": group, "label": GROUP_LABELS[group],
            "borough_subsectors": sorted({row.subsector for row in borough}),
            "borough_kt_co2e": borough_kt, "town_centre_kt_co2e": town_kt,
            "coverage_ratio": share(ratio(town_kt, borough_kt)),
            "town_centre_activity": {"amount": activity, "unit": unit},
            "town_centre_implied_factor": {
                "value": share(ratio(mine["kgco2e"], activity)), "unit": f"kgCO2e/{unit}"},
        })
    return out


def year_window(year: int) -> TimeWindow:
    """The London calendar year (DESNZ's statistics are calendar years)."""
    return TimeWindow(london_midnight_ns(year, 1, 1), london_midnight_ns(year + 1, 1, 1))


async def reconciliation(store: InfluxStore, table: FactorTable, registry: Registry,
                         la: str, year: int | None, edition: str | None,
                         options: PricingOptions) -> dict[str, Any] | None:
    """The answer; None when no edition holds the authority (and year).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    editions = await fetch_editions(store)
    if not editions:
        return None
    chosen = next((e for e in editions if e["edition"] == edition), None) if edition \
        else editions[-1]
    if chosen is None:
        return None
    first, last = int(chosen.get("first_year") or 0), int(chosen.get("last_year") or 0)
    wanted = year if year is not None else last
    rows = await fetch_rows(store, la, chosen["edition"], [wanted])
    if not rows:
        return None
    window = year_window(wanted)
    # The town centre's figures leave simulated sensors out (api/activity/scope.py).
    scope = (await fetch_flags(store, registry)).scope()
    read, received = await scoped(scope, asyncio.gather(
        read_activity(store, window, None, "auto", _GROUP_BY),
        fetch_received(store, window, "auto")))
    summary = summarise(read.energy, read.transport, _GROUP_BY, table, options)
    groups = town_groups(summary)
    borough = borough_body(rows)
    compared = comparison_rows(rows, groups)
    measured = math.fsum(one["borough_kt_co2e"] for one in compared)
    return {
        "la": la, "la_name": rows[0].la_name, "year": wanted,
        "edition": chosen, "editions": [e["edition"] for e in editions],
        "edition_years": [first, last], "caveat": CAVEAT,
        "borough": borough,
        "town_centre": {
            "start": format_ns(window.start_ns), "end": format_ns(window.end_ns),
            "total_kt_co2e": kilotonnes(summary.total_kgco2e),
            "completeness_share": completeness(registry, received, window.seconds)["share"],
            "priced_with": "DESNZ conversion factors of the same year (annual method)",
        },
        "comparison": compared,
        "borough_not_comparable_kt_co2e": kt(borough["total_kt_co2e"] - measured),
        "town_centre_share_of_borough": share(ratio(kilotonnes(summary.total_kgco2e),
                                                    borough["total_kt_co2e"])),
        "queries": [f"/api/v1/emissions?start={format_ns(window.start_ns)}"
                    f"&end={format_ns(window.end_ns)}&group_by=domain,carrier",
                    f"/api/v1/reconciliation?la={la}&year={wanted}"
                    f"&edition={chosen['edition']}"],
    }


COMPARISON_COLUMNS = ["group", "label", "borough_kt_co2e", "town_centre_kt_co2e",
                      "coverage_ratio", "town_centre_activity", "activity_unit",
                      "implied_factor", "implied_factor_unit", "borough_subsectors"]


def reconciliation_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The comparison as a table for CSV: one line per sector group, then the totals."""
    rows: list[list[Any]] = [
        [one["group"], one["label"], one["borough_kt_co2e"], one["town_centre_kt_co2e"],
         one["coverage_ratio"], one["town_centre_activity"]["amount"],
         one["town_centre_activity"]["unit"], one["town_centre_implied_factor"]["value"],
         one["town_centre_implied_factor"]["unit"], " ".join(one["borough_subsectors"])]
        for one in body["comparison"]]
    rows.append(["all", f"{body['la_name']} {body['year']} (every sector)",
                 body["borough"]["total_kt_co2e"], body["town_centre"]["total_kt_co2e"],
                 body["town_centre_share_of_borough"], None, None, None, None, None])
    return COMPARISON_COLUMNS, rows
