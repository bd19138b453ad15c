"""The precision of every figure the API gives (docs/methodology.md, "Precision").

Figures are computed unrounded (``math.fsum``) and rounded once, where an answer puts
them in its body, to a fixed number of decimals in their own unit:

- kilograms (kgCO2e, kgCO2), kWh and vehicle-km: 3 decimals (a gram, a watt-hour, a
  metre driven), :func:`kg`;
- tonnes: 6 decimals, the same gram, so that a tonne figure is exactly its kilogram
  figure / 1000 (:func:`tonnes`);
- kilotonnes (the DESNZ inventory, the carbon budget): 6 decimals, a kilogram
  (:func:`kt`, :func:`kilotonnes`);
- shares (0 to 1) and ratios such as implied factors: 6 decimals; percentages: 4
  decimals (:func:`share`, :func:`percent`);
- concentrations (µg/m³), intensities (gCO2e/kWh), seconds: 3 decimals.

A total is the sum of its rounded rows (:func:`total`): a sum of numbers with three
decimals has three decimals, so a total equals the sum of its rows exactly (in decimal;
within 1e-9 kg summed as binary floats), and may differ from the unrounded total by at
most 0.0005 kg per row. Rounding is to the nearest (Python's ``round`` of the binary
value); ``-0.0`` is written as ``0.0``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

KG_DECIMALS = 3
TONNE_DECIMALS = KG_DECIMALS + 3
KILOTONNE_DECIMALS = 6
SHARE_DECIMALS = 6
PERCENT_DECIMALS = SHARE_DECIMALS - 2
KG_PER_TONNE = 1000.0


def kg(value: float) -> float:
    """Kilograms, kWh, vehicle-km (and µg/m³, g/kWh, seconds): 3 decimals."""
    return round(value, KG_DECIMALS) + 0.0


def kg_or_none(value: float | None) -> float | None:
    """:func:`kg`, keeping None."""
    return None if value is None else kg(value)


def total(values: Iterable[float]) -> float:
    """The sum of already rounded kilogram figures, exact to their 3 decimals."""
    return kg(math.fsum(values))


def tonnes(kilograms: float) -> float:
    """Tonnes from kilograms: the kilograms rounded to 3 decimals, / 1000 (6 decimals)."""
    return round(kg(kilograms) / KG_PER_TONNE, TONNE_DECIMALS) + 0.0


def tonnes_or_none(kilograms: float | None) -> float | None:
    """:func:`tonnes`, keeping None."""
    return None if kilograms is None else tonnes(kilograms)


def kt(kilotonnes_value: float) -> float:
    """Kilotonnes: 6 decimals (a kilogram)."""
    return round(kilotonnes_value, KILOTONNE_DECIMALS) + 0.0


def kilotonnes(kilograms: float) -> float:
    """Kilotonnes from kilograms: 6 decimals."""
    return kt(kilograms / 1e6)


def share(value: float | None) -> float | None:
    """A share (0 to 1): 6 decimals; None stays None."""
    return None if value is None else round(value, SHARE_DECIMALS) + 0.0


def percent(value: float | None) -> float | None:
    """A percentage: 4 decimals; None stays None."""
    return None if value is None else round(value, PERCENT_DECIMALS) + 0.0
