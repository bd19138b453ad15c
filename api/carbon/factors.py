"""Emission factors as answers list them: every row in force, and whether it was applied."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.carbon.parts import FactorKey
from sensors.factors import EmissionFactor, FactorTable


def factor_body(factor: EmissionFactor) -> dict[str, Any]:
    """The public shape of a factor row (:class:`api.schemas.FactorOut`)."""
    return {"id": factor.id, "value": factor.value, "co2_value": factor.co2_value,
            "unit": factor.unit,
            "source": factor.source, "year": factor.year, "scope": factor.scope,
            "url": factor.url, "notes": factor.notes, "origin": factor.origin}


def factors_in_force(table: FactorTable, years: Iterable[int],
                     applied: frozenset[FactorKey]) -> list[dict[str, Any]]:
    """The rows in force for activity of these years (:class:`api.schemas.AppliedFactorOut`);
    ``applied`` when a row multiplied some activity of the answer."""
    return [{**factor_body(factor), "applied": (factor.id, factor.year) in applied}
            for factor in table.in_force(years)]
