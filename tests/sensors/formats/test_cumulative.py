"""Register arithmetic: the increase since the previous reading, resets, intervals."""

from __future__ import annotations

import pytest

from sensors.formats.cumulative import RegisterReading, increase

T = 1_795_687_200_000


@pytest.mark.parametrize(("previous", "current", "energy", "interval"), [
    ((T, 100.0), (T + 60_000, 100.25), 0.25, 60),
    ((T, 100.0), (T + 60_000, 100.0), 0.0, 60),
    # A decrease is a reset: the register restarted from zero, so it counted 3.5 since.
    ((T, 4210.5), (T + 900_000, 3.5), 3.5, 900),
    # Whole seconds, at least one.
    ((T, 1.0), (T + 1_499, 1.1), 0.1, 1),
    ((T, 1.0), (T + 200, 1.0), 0.0, 1),
    ((T, 1.0), (T + 2_500, 1.0), 0.0, 2),
    # Float noise below 1e-9 kWh is not data: 4210.77342 - 4210.76871 is 0.00471.
    ((T, 4210.76871), (T + 60_000, 4210.77342), 0.00471, 60),
])
def test_increase(previous: tuple[int, float], current: tuple[int, float], energy: float,
                  interval: int) -> None:
    assert increase(RegisterReading(*previous), RegisterReading(*current)) == (energy, interval)
