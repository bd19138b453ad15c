"""Pure, seeded generators of plausible town-centre readings (no I/O, no wall clock).

A reading is a function of ``(seed, sensor, k, ts)``: the daily and seasonal shape and
the weather come from :mod:`simulators.environment`, and the per-reading noise comes
from a ``random.Random`` seeded with a stable hash of ``(seed, sensor id, k)``. The same
seed therefore gives the same series in every process (``hash()`` is salted per process,
so it is never used).
"""

from __future__ import annotations

import hashlib
import math
import random

from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import Registry, Sensor, load_registry
from sensors.topics import Domain
from simulators.environment import (
    Moment,
    between,
    bump,
    footfall_index,
    outdoor_temperature,
    smooth_noise,
    sunlight,
    traffic_index,
)

# Share of motor traffic per class on a town-centre link (DfT road traffic statistics
# for urban A roads are of this order; bicycles ride with the traffic, not the footfall).
_VEHICLE_SHARES = (
    (VehicleClass.CAR, 0.77),
    (VehicleClass.VAN, 0.12),
    (VehicleClass.HGV, 0.03),
    (VehicleClass.BUS, 0.03),
    (VehicleClass.MOTORCYCLE, 0.01),
    (VehicleClass.BICYCLE, 0.02),
)


def reading_rng(seed: int, sensor_id: str, k: int) -> random.Random:
    """The random source of the ``k``-th reading of a sensor, stable across processes.

    Args:
        seed: the simulation seed.
        sensor_id: the sensor's id.
        k: the reading index (0-based) within the sensor's series.

    Returns:
        A generator seeded from a blake2b hash of the three values.
    """
    digest = hashlib.blake2b(f"{seed}:{sensor_id}:{k}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _energy(seed: int, sensor: Sensor, m: Moment, rng: random.Random) -> float:
    """Power in kW for an energy meter."""
    rated = sensor.rated_kw or 100.0
    h = m.hour
    if sensor.carrier is Carrier.SOLAR_PV:
        share = sunlight(m, seed) * rng.uniform(0.95, 1.0)
    elif sensor.carrier is Carrier.GAS:
        # Heating follows the cold, with a boost as the boilers bring buildings up to
        # temperature before opening; a little gas always goes to hot water.
        need = min(1.2, max(0.0, (15.5 - outdoor_temperature(m, seed)) / 15))
        schedule = 0.15 + 0.45 * between(h, 7.0, 18.5) + 0.8 * bump(h, 7.0, 1.0)
        share = (0.04 + need * schedule * 0.7) * rng.gauss(1, 0.05)
    elif sensor.carrier is Carrier.EV_CHARGING:
        daytime = 0.35 * bump(h, 12.5, 2.2) * (1.3 if m.weekend else 1.0)
        share = (0.02 + daytime + 0.45 * bump(h, 18.8, 1.6) + 0.1 * bump(h, 8.5, 1.0))
        share *= rng.uniform(0.7, 1.3)
    else:
        opening = between(h, 9.5, 17.5) if m.weekend else between(h, 8.0, 19.5)
        dark = 0.08 * m.winter * between(h, 16.0, 20.0)
        share = (0.22 + 0.6 * opening + dark) * rng.gauss(1, 0.04)
    return rated * min(1.0, max(0.0, share))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    # Knuth's method: exact and fast enough for the small means of a one-minute count.
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _transport(sensor: Sensor, m: Moment, interval_s: int,
               rng: random.Random) -> tuple[dict[VehicleClass, int], float | None]:
    """Counts per class over the interval and the average speed (None without vehicles)."""
    per_interval = (sensor.peak_flow_per_hour or 300.0) * interval_s / 3600
    footfall = footfall_index(m)
    counts: dict[VehicleClass, int] = {}
    if sensor.link_km is None:
        # A footfall counter on a pedestrian route: walkers and a few pushed bicycles.
        counts[VehicleClass.PEDESTRIAN] = _poisson(rng, per_interval * footfall)
        counts[VehicleClass.BICYCLE] = _poisson(rng, per_interval * 0.04 * footfall)
        return counts, None
    traffic = traffic_index(m)
    for vehicle_class, share in _VEHICLE_SHARES:
        counts[vehicle_class] = _poisson(rng, per_interval * traffic * share)
    counts[VehicleClass.PEDESTRIAN] = _poisson(rng, per_interval * 0.35 * footfall)
    if not any(n for c, n in counts.items() if c is not VehicleClass.PEDESTRIAN):
        return counts, None
    free_flow = 40 + 20 * min(1.0, (sensor.peak_flow_per_hour or 0) / 1500)
    speed = free_flow * (1 - 0.45 * min(1.1, traffic)) * rng.gauss(1, 0.06)
    return counts, round(min(200.0, max(3.0, speed)), 1)


def _air_quality(seed: int, sensor: Sensor, m: Moment, rng: random.Random) -> dict[str, float]:
    roadside = sensor.setting != "background"
    traffic = traffic_index(m)
    # Calm air disperses pollution slowly; a windy spell cleans it out.
    dispersion = 0.6 + 0.8 * (1 - smooth_noise(seed, "wind", m.utc_hours, 8.0))
    no2 = (14 + 42 * traffic if roadside else 9 + 14 * traffic) * (1 + 0.25 * m.winter)
    no2 *= dispersion * rng.gauss(1, 0.08)
    # Evening wood burning adds fine particles in winter, everywhere.
    pm25 = (5 + (5 if roadside else 2) * traffic + 5 * m.winter * bump(m.hour, 20.0, 2.5))
    pm25 *= dispersion * rng.gauss(1, 0.1)
    pm10 = pm25 * 1.55 + (3 + 4 * traffic if roadside else 3) * rng.gauss(1, 0.1)
    # Ozone is made in sunlight and titrated by NO: high when NO2 is low, and vice versa.
    o3 = (68 - 0.7 * no2 + 25 * sunlight(m, seed)) * (1 - 0.3 * m.winter) * rng.gauss(1, 0.08)
    temperature = outdoor_temperature(m, seed) + rng.gauss(0, 0.3)
    # Relative humidity falls as the air warms in the afternoon and is lower in summer.
    warmth = (1 + math.cos(2 * math.pi * (m.hour - 15) / 24)) / 2
    humidity = 86 - 20 * warmth - 6 * (1 - m.winter) + rng.gauss(0, 1.5)
    humidity += 14 * (smooth_noise(seed, "humidity", m.utc_hours, 10.0) - 0.5)
    return {
        "no2_ugm3": round(max(0.0, no2), 1),
        "pm25_ugm3": round(max(0.0, pm25), 1),
        "pm10_ugm3": round(max(0.0, pm10), 1),
        "o3_ugm3": round(max(2.0, o3), 1),
        "so2_ugm3": round(rng.uniform(1.0, 3.5), 1),
        "co2_ppm": round(415 + (35 if roadside else 12) * traffic + rng.gauss(0, 4), 1),
        "temperature_c": round(min(70.0, max(-60.0, temperature)), 1),
        "humidity_pct": round(min(100.0, max(20.0, humidity)), 1),
    }


def generate_reading(seed: int, sensor: Sensor, k: int, ts_ms: int,
                     interval_s: int | None = None) -> Reading:
    """The ``k``-th reading of ``sensor``, for the interval ending at ``ts_ms``.

    The reading's ``seq`` is ``k``.

    Args:
        seed: the simulation seed; the same seed gives the same series.
        sensor: the sensor (its domain and attributes select and scale the shape).
        k: the reading index (>= 0) within the sensor's series.
        ts_ms: end of the interval, epoch milliseconds.
        interval_s: the interval; defaults to ``sensor.interval_s``.

    Returns:
        A validated reading model of the sensor's domain.
    """
    interval = interval_s or sensor.interval_s
    rng = reading_rng(seed, sensor.id, k)
    moment = Moment.at(ts_ms)
    if sensor.domain is Domain.ENERGY:
        power = round(_energy(seed, sensor, moment, rng), 3)
        return EnergyReading(
            ts=ts_ms, seq=k, carrier=sensor.carrier or Carrier.ELECTRICITY,
            energy_kwh=round(power * interval / 3600, 6), interval_s=interval, power_kw=power,
        )
    if sensor.domain is Domain.TRANSPORT:
        counts, speed = _transport(sensor, moment, interval, rng)
        return TransportReading(ts=ts_ms, seq=k, interval_s=interval, counts=counts,
                                link_km=sensor.link_km, avg_speed_kph=speed)
    return AirQualityReading.model_validate(
        {"ts": ts_ms, "seq": k, **_air_quality(seed, sensor, moment, rng)}
    )


_DOMAIN_ORDER = (Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY)


def synthetic_sensors(count: int, registry: Registry | None = None) -> tuple[Sensor, ...]:
    """``count`` made-up sensors spread over the registry's sites and the three domains.

    Sensor ``i`` (from 1) has domain ``i % 3`` in the order energy, transport, air
    quality and id ``sim-<domain>-<i:04d>``; every triple shares a site, cycling
    through the registry's sites. Attributes cycle through fixed tables, so the
    result depends only on ``count``.

    Args:
        count: how many sensors (>= 1).
        registry: whose sites to use; the shipped registry by default.

    Returns:
        Sensors with unique slug ids, reporting every 60 s.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    sites = (registry or load_registry()).sites
    made: list[Sensor] = []
    for i in range(1, count + 1):
        domain, j = _DOMAIN_ORDER[(i - 1) % 3], (i - 1) // 3
        fields: dict[str, object] = {
            "id": f"sim-{domain.value.replace('_', '-')}-{i:04d}",
            "site": sites[j % len(sites)].id, "domain": domain, "interval_s": 60,
        }
        if domain is Domain.ENERGY:
            fields |= {"carrier": list(Carrier)[j % 4],
                       "rated_kw": (40.0, 90.0, 160.0, 250.0, 420.0)[j % 5]}
        elif domain is Domain.TRANSPORT:
            # Every fifth counter is a footfall counter with no road link.
            footfall = j % 5 == 4
            fields |= {
                "link_name": f"simulated link {i}",
                "link_km": None if footfall else (0.2, 0.3, 0.45, 0.6, 0.8)[j % 5],
                "peak_flow_per_hour": 150.0 if footfall else (300.0, 600.0, 900.0, 1400.0)[j % 4],
            }
        else:
            fields["setting"] = ("roadside", "background")[j % 2]
        made.append(Sensor.model_validate(fields))
    return tuple(made)
