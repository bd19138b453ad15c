"""A plausible, seeded half-hourly carbon intensity for North West England (``--grid``).

Shape: gCO2/kWh mostly between 100 and 250, lowest in the small hours, highest around the
early-evening peak, and pulled down for hours to days at a time by windy weather (a
slowly varying wind index made of a few seeded sinusoids with periods of 1 to 7 days).
Each slot's value depends only on the seed and the slot's start, so a slot is the same in
every feed message that carries it (live forecasts, backfill) and in every run.

The ``index`` band follows NESO's five names. NESO tightens its band boundaries year by
year (see its Carbon Intensity methodology); the boundaries below are this simulator's
approximation for the mid-2020s, **to be checked** against the methodology's table
before they are relied on. The ingestor never recomputes the index: it stores what the
feed says, so real feeds are unaffected by this table.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterable
from typing import Any

import orjson

from sensors.grid import REGION_SLUGS, SLOT_MS, IntensityIndex, format_slot_time, grid_topic
from simulators.publisher import MqttPublisher

NORTH_WEST_ENGLAND = 3
FORECAST_SLOTS = 48  # a live message forecasts the next 24 hours
GRID_TAG = "grid"
_DAY_MS = 86_400_000
# Upper bounds (inclusive, gCO2/kWh) of very low, low, moderate and high; above: very high.
INDEX_BOUNDS: tuple[tuple[int, IntensityIndex], ...] = (
    (59, "very low"), (99, "low"), (159, "moderate"), (219, "high"),
)
_DNO = {NORTH_WEST_ENGLAND: "Electricity North West"}


def intensity_index(gco2_kwh: float) -> IntensityIndex:
    """The NESO-style band of an intensity (boundaries: see the module docstring)."""
    for bound, name in INDEX_BOUNDS:
        if gco2_kwh <= bound:
            return name
    return "very high"


def _wind(seed: int, start_ms: int) -> float:
    """A wind index in [0, 1] that drifts over hours to days."""
    rng = random.Random(zlib.crc32(f"{seed}:grid-wind".encode()))
    days = start_ms / _DAY_MS
    total = 0.5
    for period_days, amplitude in ((1.3, 0.2), (3.1, 0.25), (6.7, 0.1)):
        total += amplitude * math.sin(2 * math.pi * days / period_days + rng.uniform(0, 6.3))
    return min(1.0, max(0.0, total))


def slot_intensity(seed: int, start_ms: int) -> tuple[int, float, float]:
    """``(gCO2/kWh, wind index, solar index)`` of the half-hour starting at ``start_ms``."""
    hour = (start_ms % _DAY_MS) / 3_600_000  # UTC: within an hour of Stockport time
    demand = 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4) / 24)  # 0 at 04:00, 1 at 16:00
    evening = math.exp(-(((hour - 17.5) / 1.5) ** 2))
    solar = max(0.0, math.sin(math.pi * (hour - 6) / 12))  # 06:00-18:00, peak at noon
    wind = _wind(seed, start_ms)
    noise = random.Random(zlib.crc32(f"{seed}:grid:{start_ms}".encode())).uniform(-8, 8)
    value = 95 + 75 * demand + 30 * evening + 85 * (1 - wind) - 25 * solar + noise
    return round(min(350.0, max(40.0, value))), wind, solar


def _mix(wind: float, solar: float) -> list[dict[str, Any]]:
    # Shares are illustrative: gas fills what wind, solar, nuclear and the rest leave.
    shares = {"biomass": 6.0, "coal": 0.0, "imports": 8.0, "nuclear": 14.0, "other": 0.5,
              "hydro": 0.5, "solar": round(9 * solar, 1), "wind": round(10 + 45 * wind, 1)}
    shares["gas"] = max(0.0, 100 - sum(shares.values()))
    return [{"fuel": fuel, "perc": round(perc, 1)} for fuel, perc in shares.items()]


def slot_payload(seed: int, start_ms: int) -> dict[str, Any]:
    """One slot in NESO's regional shape."""
    value, wind, solar = slot_intensity(seed, start_ms)
    return {
        "from": format_slot_time(start_ms), "to": format_slot_time(start_ms + SLOT_MS),
        "intensity": {"forecast": value, "index": intensity_index(value)},
        "generationmix": _mix(wind, solar),
    }


def feed_message(seed: int, slot_starts: Iterable[int],
                 region_id: int = NORTH_WEST_ENGLAND) -> bytes:
    """A feed message shaped like ``/regional/intensity/{from}/fw24h/regionid/{id}``."""
    slug = REGION_SLUGS.get(region_id, f"region-{region_id}")
    return orjson.dumps({"data": {
        "regionid": region_id, "dnoregion": _DNO.get(region_id, slug),
        "shortname": slug.replace("-", " ").title(),
        "data": [slot_payload(seed, start) for start in slot_starts],
    }})


def slot_start(ms: int) -> int:
    """The start of the half-hour containing ``ms``."""
    return ms - ms % SLOT_MS


class GridFeedSimulator:
    """Publishes one feed message each time simulated time enters a new half-hour.

    Live: the message forecasts the next 48 slots from the current one (as NESO's
    ``fw24h`` does). Backfill: it carries the slot just entered and any skipped since the
    previous message (sparse sensors), so the slots published cover the backfill window.
    """

    def __init__(self, prefix: str, seed: int, *, live: bool,
                 region_id: int = NORTH_WEST_ENGLAND) -> None:
        self.topic = grid_topic(prefix, region_id)
        self._seed = seed
        self._live = live
        self._region_id = region_id
        self._last_slot: int | None = None
        self.sent = 0

    def tick(self, now_ms: int, publisher: MqttPublisher) -> None:
        """Publish if ``now_ms`` (wall clock live, reading time in backfill) is in a new slot."""
        start = slot_start(now_ms)
        last = self._last_slot
        if last is not None and start <= last:
            return  # same slot (or a reading a little behind the clock)
        self._last_slot = start
        if self._live:
            slots = range(start, start + FORECAST_SLOTS * SLOT_MS, SLOT_MS)
        else:
            first = start if last is None else max(last + SLOT_MS, start - 95 * SLOT_MS)
            slots = range(first, start + SLOT_MS, SLOT_MS)
        publisher.publish(self.topic, feed_message(self._seed, slots, self._region_id),
                          GRID_TAG)
        self.sent += 1
