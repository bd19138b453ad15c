"""What an answer must say about itself: the notes a reader of a figure needs beside it.

Each disclosure is ``{"code", "message"}``; the codes are stable, the messages are for
people. docs/methodology.md explains each one.
"""

from __future__ import annotations

from typing import Any

from api.carbon.pricing import EV_DOUBLE_COUNT, EmissionsSummary

SOLAR_NOT_NETTED = "solar_not_netted"
LOW_COMPLETENESS = "low_completeness"
CO2_INCOMPLETE = "co2_incomplete"

_EV_INCLUDED = (
    "EV charging kWh are priced as grid electricity and counted cars are priced per "
    "vehicle-km with DESNZ car factors that include the electricity of battery-electric and "
    "plug-in hybrid cars: an electric car charged at a metered town-centre charger and "
    "counted on a link is counted twice. The overlap cannot be measured from these "
    "sensors; ev_charging=memo reports EV charging beside the total instead.")
_EV_MEMO = (
    "EV charging is reported beside the total (memo_kgco2e), not in it. Counted cars are "
    "priced with DESNZ car factors that include the electricity of electric cars, so the "
    "memo figure and the car figure overlap for cars charged here: do not add them.")


def disclosure(code: str, message: str) -> dict[str, str]:
    """One disclosure entry (:class:`api.schemas.DisclosureOut`)."""
    return {"code": code, "message": message}


def summary_disclosures(summary: EmissionsSummary, ev_memo: bool) -> list[dict[str, Any]]:
    """The disclosures an emissions figure carries (EV double count, CO2 gaps, solar)."""
    out: list[dict[str, Any]] = []
    if EV_DOUBLE_COUNT in summary.disclosures:
        out.append(disclosure(EV_DOUBLE_COUNT, _EV_MEMO if ev_memo else _EV_INCLUDED))
    if summary.co2_missing:
        missing = ", ".join(f"{factor_id}@{year}" for factor_id, year in summary.co2_missing)
        out.append(disclosure(
            CO2_INCOMPLETE, f"total_kgco2 is null: no checked CO2 part for {missing}; "
            "co2.known_kgco2 is the CO2 of the other activity only."))
    if summary.avoided_kgco2e:
        out.append(disclosure(
            SOLAR_NOT_NETTED, "Solar generation is not subtracted from total_kgco2e (GHG "
            "Protocol: on-site generation does not reduce Scope 2); avoided_kgco2e and "
            "net_kgco2e are shown beside the gross total, never instead of it."))
    return out
