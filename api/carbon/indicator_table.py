"""The ``/indicators`` answer as one table, for CSV: one line per figure, both periods.

Columns: ``indicator, unit, current, comparison, change, change_pct``. Carbon is given in
tonnes and in kilograms (the unit of ``/emissions``), each line with its unit; a figure
the answer gives for the current period only leaves ``comparison`` empty. Changes are
current - comparison; ``change_pct`` only where the answer gives one.
"""

from __future__ import annotations

from typing import Any

from api.carbon.period_figures import CARRIERS, CLASSES
from api.precision import KG_PER_TONNE, kg, tonnes

HEADER = ["indicator", "unit", "current", "comparison", "change", "change_pct"]
_DOMAINS = ("total", "energy", "transport")


def _line(name: str, unit: str, current: Any, comparison: Any = None,
          change: Any = None, pct: Any = None) -> list[Any]:
    return [name, unit, current, comparison, change, pct]


def _diff_kg(current: float, previous: float | None) -> float | None:
    return None if previous is None else kg(current - previous)


def indicators_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The answer's figures as (header, rows)."""
    prev_t, prev_kg = body["previous_totals_tco2e"] or {}, body["previous_totals_kgco2e"] or {}
    rows = [["period", "", f"{body['start']}/{body['end']}",
             f"{body['previous']['start']}/{body['previous']['end']}", None, None]]
    for domain in _DOMAINS:
        change = body["change"][domain]
        rows.append(_line(f"{domain}_tco2e", "tCO2e", body["totals_tco2e"][domain],
                          prev_t.get(domain), change["abs_tco2e"], change["pct"]))
        rows.append(_line(f"{domain}_kgco2e", "kgCO2e", body["totals_kgco2e"][domain],
                          prev_kg.get(domain),
                          _diff_kg(body["totals_kgco2e"][domain], prev_kg.get(domain)),
                          change["pct"]))
    for name in ("avoided", "net"):
        now_kg, before_t = body[f"{name}_kgco2e"], body[f"previous_{name}_tco2e"]
        before_kg = None if before_t is None else kg(before_t * KG_PER_TONNE)
        change_kg = _diff_kg(now_kg, before_kg)
        rows.append(_line(f"{name}_tco2e", "tCO2e", body[f"{name}_tco2e"], before_t,
                          None if change_kg is None else tonnes(change_kg)))
        rows.append(_line(f"{name}_kgco2e", "kgCO2e", now_kg, before_kg, change_kg))
    rows.append(_line("completeness_share", "share", body["completeness"]["share"],
                      (body["previous_completeness"] or {}).get("share")))
    rows += [_line("active_travel_share", "share", body["active_travel_share"]),
             _line("energy_intensity", "gCO2e/kWh", body["energy_intensity_gco2e_per_kwh"]),
             _line("solar_share", "share", body["solar_share"])]
    now, before = body["activity"], body["previous_activity"]
    for carrier in CARRIERS:
        rows.append(_line(f"energy_kwh.{carrier}", "kWh", now["energy_kwh"][carrier],
                          before["energy_kwh"][carrier]))
        rows.append(_line(f"energy_kgco2e.{carrier}", "kgCO2e", now["energy_kgco2e"][carrier],
                          before["energy_kgco2e"][carrier]))
    for vc in CLASSES:
        share = body["vehicle_class_share"][vc]
        rows.append(_line(f"vehicle_km.{vc}", "vehicle-km", now["vehicle_km"][vc],
                          before["vehicle_km"][vc]))
        rows.append(_line(f"transport_kgco2e.{vc}", "kgCO2e", now["transport_kgco2e"][vc],
                          before["transport_kgco2e"][vc]))
        rows.append(_line(f"counts.{vc}", "count", now["counts"][vc], before["counts"][vc]))
        rows.append(_line(f"share_of_vehicle_km.{vc}", "share", share["share_of_vehicle_km"]))
    return HEADER, rows
