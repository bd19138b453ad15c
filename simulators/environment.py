"""The town's rhythm and weather: pure, seeded functions of time (no I/O, no wall clock).

Everything here depends only on a timestamp (through :class:`Moment`, in Europe/London
local time) and, for the weather, on the simulation seed: cloud, temperature and wind
are smooth value noise keyed by ``(seed, name, time)``, shared by every sensor. The
hashes are blake2b, never ``hash()``, which is salted per process.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
# Stockport is at 2.16 degrees west: the sun is highest about 9 minutes after 12:00 UTC.
_SOLAR_NOON_UTC_H = 12.15
_YEAR_DAYS = 365.25


def _unit_hash(*parts: object) -> float:
    """A stable uniform value in [0, 1) for the given key."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def smooth_noise(seed: int, key: str, t_hours: float, period_h: float) -> float:
    """Value noise in [0, 1): random at every ``period_h``, smoothly interpolated between."""
    step = math.floor(t_hours / period_h)
    frac = t_hours / period_h - step
    frac = frac * frac * (3 - 2 * frac)
    a, b = _unit_hash(seed, key, step), _unit_hash(seed, key, step + 1)
    return a + (b - a) * frac


def bump(x: float, centre: float, width: float) -> float:
    """A Gaussian bump: 1 at ``centre``, about 0.6 one ``width`` away."""
    return math.exp(-0.5 * ((x - centre) / width) ** 2)


def between(hour: float, start: float, end: float, edge: float = 0.4) -> float:
    """About 1 between ``start`` and ``end`` (local hours), about 0 outside, smooth edges."""
    return 1 / ((1 + math.exp((start - hour) / edge)) * (1 + math.exp((hour - end) / edge)))


@dataclass(frozen=True, slots=True)
class Moment:
    """What the shapes need to know about a timestamp."""

    hour: float
    """Local (Europe/London) hour of day, 0 to 24."""
    weekend: bool
    day_of_year: int
    utc_hours: float
    """Hours since the epoch, for the weather's smooth noise and the sun."""

    @classmethod
    def at(cls, ts_ms: int) -> Moment:
        """The moment of an epoch-milliseconds timestamp."""
        local = datetime.fromtimestamp(ts_ms / 1000, tz=LONDON)
        hour = local.hour + local.minute / 60 + local.second / 3600
        return cls(hour, local.weekday() >= 5, local.timetuple().tm_yday, ts_ms / 3_600_000)

    @property
    def winter(self) -> float:
        """1 in mid-January, 0 in mid-July."""
        return (1 + math.cos(2 * math.pi * (self.day_of_year - 15) / _YEAR_DAYS)) / 2


def traffic_index(m: Moment) -> float:
    """Motor traffic relative to a weekday peak hour (about 1.0 at 08:00 and 17:15)."""
    h = m.hour
    if m.weekend:
        return 0.05 + 0.55 * between(h, 8.5, 19.5, 0.8) + 0.2 * bump(h, 13.0, 2.5)
    return (0.05 + 0.5 * between(h, 6.5, 20.0, 0.7)
            + 0.5 * bump(h, 8.0, 0.9) + 0.5 * bump(h, 17.25, 1.1))


def footfall_index(m: Moment) -> float:
    """Pedestrians relative to the busiest shopping hour (Saturday early afternoon)."""
    h = m.hour
    if m.weekend:
        return 0.02 + between(h, 10.0, 17.5, 0.5) * (0.8 + 0.2 * bump(h, 13.5, 2.0))
    return (0.02 + 0.8 * between(h, 9.0, 17.5, 0.5) * (0.75 + 0.25 * bump(h, 13.0, 2.0))
            + 0.2 * bump(h, 8.3, 0.7) + 0.15 * bump(h, 17.5, 0.8))


def sunlight(m: Moment, seed: int) -> float:
    """Share of the rated solar output available now (0 at night, cloud included)."""
    day_length = 12 + 4.6 * math.sin(2 * math.pi * (m.day_of_year - 80) / _YEAR_DAYS)
    since_sunrise = (m.utc_hours % 24) - (_SOLAR_NOON_UTC_H - day_length / 2)
    if not 0 < since_sunrise < day_length:
        return 0.0
    season = 0.35 + 0.5 * (day_length - 7.4) / 9.2
    clear = 1 - 0.75 * smooth_noise(seed, "cloud", m.utc_hours, 3.0)
    height = math.sin(math.pi * since_sunrise / day_length)
    return season * height * math.sqrt(height) * clear


def outdoor_temperature(m: Moment, seed: int) -> float:
    """Air temperature in Stockport (°C): season, afternoon warmth and passing weather."""
    seasonal = 10.5 - 6 * math.cos(2 * math.pi * (m.day_of_year - 15) / _YEAR_DAYS)
    diurnal = (3 + 1.5 * (1 - m.winter)) * math.cos(2 * math.pi * (m.hour - 15) / 24)
    weather = 8 * (smooth_noise(seed, "temperature", m.utc_hours, 12.0) - 0.5)
    return seasonal + diurnal + weather
