"""Meter registers (contract 7.1, ``cumulative: true``): the arithmetic, pure.

The stored ``energy_kwh`` of a reading is its register's increase since the same device's
previous reading *by time*; ``interval_s`` is the time between the two, in whole seconds
(at least 1). A register that went down was reset (a new meter, a firmware reset): the
increase over that interval is the new value itself, never negative energy. A device's
first reading only sets the starting point. Increases are rounded to 1e-9 kWh, below any
meter's resolution, so that float noise (123.45678 - 123.45667) is not stored as data.
"""

from __future__ import annotations

from dataclasses import dataclass

ROUND_KWH = 9


@dataclass(frozen=True, slots=True)
class RegisterReading:
    """One register reading of a device: when, and the register's value (kWh)."""

    ts_ms: int
    value_kwh: float


def increase(previous: RegisterReading, current: RegisterReading) -> tuple[float, int]:
    """``(energy_kwh, interval_s)`` of ``current`` after ``previous`` (earlier in time)."""
    delta = current.value_kwh - previous.value_kwh
    energy = current.value_kwh if delta < 0 else delta
    interval_s = max(1, round((current.ts_ms - previous.ts_ms) / 1000))
    return round(energy, ROUND_KWH), interval_s
