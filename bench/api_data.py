"""A month of synthetic minute readings for the API benchmark, written straight to InfluxDB.

The lines are the ones the ingestor writes (checked against
``sensors.lineprotocol.reading_line`` on a sample), built from small tables of
pre-formatted text so that generating 13 million of them is string concatenation, and
written by two concurrent processes in 5,000-line gzip batches.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import httpx

from sensors.lineprotocol import reading_line
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import load_registry
from sensors.topics import Domain, Topic

DATABASE = "bench_api"
BATCH_LINES = 5_000
WRITERS = 2
MINUTE_MS = 60_000

_CARRIERS = (Carrier.ELECTRICITY, Carrier.ELECTRICITY, Carrier.GAS, Carrier.SOLAR_PV,
             Carrier.EV_CHARGING)
_LINK_KM = (0.18, 0.22, 0.28, 0.3, 0.35, 0.4, 0.45, 0.62)
_CLASSES = tuple(VehicleClass)
# Values come from small tables of pre-formatted text, so that building a line is string
# concatenation only (the shortest repr of each float, as ``reading_line`` writes it).
_KWH = [repr(round(0.05 + (i * 37 % 400) / 100, 2)) for i in range(97)]
_KW = [repr(round(3.0 + (i * 53 % 2400) / 10, 1)) for i in range(89)]
_COUNT = [str(i * 7 % 23) for i in range(101)]
_NO2 = [repr(round(5.0 + (i * 29 % 850) / 10, 1)) for i in range(83)]
_PM25 = [repr(round(1.0 + (i * 31 % 390) / 10, 1)) for i in range(79)]
_PM10 = [repr(round(2.0 + (i * 41 % 580) / 10, 1)) for i in range(73)]


@dataclass(frozen=True)
class BenchSensor:
    """One synthetic sensor."""

    index: int
    domain: Domain
    site: str
    sensor: str
    carrier: Carrier | None = None
    link_km: float | None = None


def bench_sensors(count: int) -> list[BenchSensor]:
    """``count`` sensors, a third per domain, spread over the registry's sites."""
    sites = [site.id for site in load_registry().sites]
    domains = (Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY)
    out = []
    for i in range(count):
        domain = domains[i * 3 // count] if count >= 3 else domains[i % 3]
        site = sites[i % len(sites)]
        if domain is Domain.ENERGY:
            out.append(BenchSensor(i, domain, site, f"bench-energy-{i:04d}",
                                   carrier=_CARRIERS[i % len(_CARRIERS)]))
        elif domain is Domain.TRANSPORT:
            out.append(BenchSensor(i, domain, site, f"bench-transport-{i:04d}",
                                   link_km=_LINK_KM[i % len(_LINK_KM)]))
        else:
            out.append(BenchSensor(i, domain, site, f"bench-aq-{i:04d}"))
    return out


def line_maker(sensor: BenchSensor, start_ms: int) -> Callable[[int], str]:
    """A function of the minute number k giving the sensor's line (ingestor format)."""
    i = sensor.index
    if sensor.domain is Domain.ENERGY:
        assert sensor.carrier is not None
        head = (f"energy,site={sensor.site},sensor={sensor.sensor},"
                f"carrier={sensor.carrier.value} energy_kwh=")

        def energy(k: int) -> str:
            return (f"{head}{_KWH[(k + i) % 97]},interval_s=60i,power_kw={_KW[(k * 3 + i) % 89]}"
                    f",seq={k}i {(start_ms + k * MINUTE_MS) * 1_000_000}")
        return energy
    if sensor.domain is Domain.TRANSPORT:
        head = f"transport,site={sensor.site},sensor={sensor.sensor} "
        link = f",interval_s=60i,link_km={sensor.link_km!r},seq="
        names = [f"count_{vc.value}=" for vc in _CLASSES]

        def transport(k: int) -> str:
            counts = ",".join(f"{name}{_COUNT[(k + i + n * 13) % 101]}i"
                              for n, name in enumerate(names))
            return f"{head}{counts}{link}{k}i {(start_ms + k * MINUTE_MS) * 1_000_000}"
        return transport
    head = f"air_quality,site={sensor.site},sensor={sensor.sensor} no2_ugm3="

    def air(k: int) -> str:
        return (f"{head}{_NO2[(k + i) % 83]},pm25_ugm3={_PM25[(k + 2 * i) % 79]},"
                f"pm10_ugm3={_PM10[(k + 3 * i) % 73]},seq={k}i "
                f"{(start_ms + k * MINUTE_MS) * 1_000_000}")
    return air


def model_line(sensor: BenchSensor, start_ms: int, k: int) -> str:
    """The same point built the ingestor's way: a validated reading and ``reading_line``."""
    i = sensor.index
    ts = start_ms + k * MINUTE_MS
    topic = Topic(sensor.domain, sensor.site, sensor.sensor)
    reading: Reading
    if sensor.domain is Domain.ENERGY:
        assert sensor.carrier is not None
        reading = EnergyReading(ts=ts, seq=k, carrier=sensor.carrier, interval_s=60,
                                energy_kwh=float(_KWH[(k + i) % 97]),
                                power_kw=float(_KW[(k * 3 + i) % 89]))
    elif sensor.domain is Domain.TRANSPORT:
        counts = {vc: int(_COUNT[(k + i + n * 13) % 101]) for n, vc in enumerate(_CLASSES)}
        reading = TransportReading(ts=ts, seq=k, interval_s=60, counts=counts,
                                   link_km=sensor.link_km)
    else:
        reading = AirQualityReading(ts=ts, seq=k, no2_ugm3=float(_NO2[(k + i) % 83]),
                                    pm25_ugm3=float(_PM25[(k + 2 * i) % 79]),
                                    pm10_ugm3=float(_PM10[(k + 3 * i) % 73]))
    return reading_line(topic, reading)


def check_lines(sensors: Sequence[BenchSensor], start_ms: int, minutes: int) -> int:
    """Compare the fast lines with ``reading_line`` on a sample; the number compared.

    Raises:
        SystemExit: a line differs.
    """
    checked = 0
    for sensor in [*sensors[:: max(1, len(sensors) // 30)], *sensors[-3:]]:
        make = line_maker(sensor, start_ms)
        for k in {0, 1, 59, 997, minutes // 2, minutes - 1}:
            if 0 <= k < minutes:
                fast, model = make(k), model_line(sensor, start_ms, k)
                if fast != model:
                    raise SystemExit(f"benchmark: line mismatch\n fast:  {fast}\n model: {model}")
                checked += 1
    return checked


def _write_share(url: str, sensors: list[BenchSensor], start_ms: int, minutes: int) -> int:
    """One writer process: every line of its sensors, in gzip batches; the points written."""
    written = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        for sensor in sensors:
            make = line_maker(sensor, start_ms)
            for first in range(0, minutes, BATCH_LINES):
                body = "\n".join([make(k) for k in range(first, min(first + BATCH_LINES,
                                                                       minutes))])
                response = client.post(
                    "/write", params={"db": DATABASE, "precision": "ns"},
                    content=gzip.compress(body.encode(), compresslevel=1),
                    headers={"Content-Encoding": "gzip"},
                )
                if response.status_code != 204:
                    raise RuntimeError(f"write failed: {response.status_code} {response.text}")
                written += min(first + BATCH_LINES, minutes) - first
    return written


def write_all(url: str, sensors: list[BenchSensor], start_ms: int, minutes: int
              ) -> tuple[int, float]:
    """Write everything with two concurrent writer processes; (points, seconds)."""
    shares = [sensors[n::WRITERS] for n in range(WRITERS)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WRITERS) as pool:
        futures = [pool.submit(_write_share, url, share, start_ms, minutes) for share in shares]
        points = sum(future.result() for future in futures)
    return points, time.perf_counter() - started


