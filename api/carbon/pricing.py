"""Emissions pricing: activity at the finest grain in, grouped emission rows out. No I/O.

Every formula and factor is in docs/methodology.md ("What is counted", "Factors"). Each
activity is priced with the factor rows of its own London calendar year, so a row whose
bucket spans New Year may combine two years' factors. Totals are ``math.fsum`` of the
rows, so ``total_kgco2e`` equals the sum of the rows by construction; nothing is rounded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from api.activity.model import EnergyActivity, TransportActivity
from sensors.factors import (
    CARRIER_FACTORS,
    ELECTRICITY_TD,
    FactorTable,
    vehicle_factor_id,
)
from sensors.readings import Carrier

GRID_INTENSITY_ID = "electricity.grid_intensity"  # the regional feed, in row factor lists
GROUP_KEYS = ("domain", "site", "sensor", "carrier", "vehicle_class")

KeyValues = tuple[str | None, ...]
FactorKey = tuple[str, int]  # factor id, year of its row


@dataclass(frozen=True, slots=True)
class Activity:
    """The activity behind a row: consumed and generated kWh, vehicle-km, counts."""

    energy_kwh: float = 0.0
    generated_kwh: float = 0.0
    vehicle_km: float = 0.0
    counts: int = 0
    unattributed_counts: int = 0


@dataclass(frozen=True, slots=True)
class EmissionRow:
    """Emissions of one group (and bucket)."""

    bucket_ms: int | None
    keys: dict[str, str | None]
    kgco2e: float
    avoided_kgco2e: float
    activity: Activity
    factors: tuple[FactorKey, ...] = ()  # the factor rows applied to non-zero activity


@dataclass(frozen=True, slots=True)
class EmissionsSummary:
    """Grouped rows, their totals and the factors applied to non-zero activity."""

    rows: tuple[EmissionRow, ...]
    total_kgco2e: float
    avoided_kgco2e: float
    net_kgco2e: float
    activity: Activity
    applied: frozenset[FactorKey] = frozenset()  # (id, year) of every row applied


@dataclass(slots=True)
class _Accumulator:
    kgco2e: list[float] = field(default_factory=list)
    avoided: list[float] = field(default_factory=list)
    energy_kwh: list[float] = field(default_factory=list)
    generated_kwh: list[float] = field(default_factory=list)
    vehicle_km: list[float] = field(default_factory=list)
    counts: int = 0
    unattributed: int = 0
    factors: set[FactorKey] = field(default_factory=set)

    def activity(self) -> Activity:
        return Activity(
            energy_kwh=math.fsum(self.energy_kwh),
            generated_kwh=math.fsum(self.generated_kwh),
            vehicle_km=math.fsum(self.vehicle_km),
            counts=self.counts,
            unattributed_counts=self.unattributed,
        )


def check_group_by(group_by: Sequence[str]) -> tuple[str, ...]:
    """Validate grouping keys; drop repeats, keep order.

    Raises:
        ValueError: a key is not one of :data:`GROUP_KEYS`.
    """
    unknown = [key for key in group_by if key not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"unknown group_by key(s) {unknown}; allowed: {list(GROUP_KEYS)}")
    return tuple(dict.fromkeys(group_by))


def summarise(
    energy: Iterable[EnergyActivity],
    transport: Iterable[TransportActivity],
    group_by: Sequence[str],
    factors: FactorTable,
) -> EmissionsSummary:
    """Apply the factors and aggregate to the requested keys (and buckets).

    Raises:
        ValueError: unknown group_by key.
        KeyError: the factor table lacks a factor the activity needs.
    """
    keys = check_group_by(group_by)
    groups: dict[tuple[int | None, KeyValues], _Accumulator] = defaultdict(_Accumulator)
    rows_of: dict[tuple[str, int | None], tuple[float, FactorKey]] = {}

    def factor(factor_id: str, year: int | None) -> tuple[float, FactorKey]:
        # Resolved once per (id, year): a year of hourly activity has ~10^5 entries.
        if (factor_id, year) not in rows_of:
            row = factors.factor(factor_id, year)
            rows_of[(factor_id, year)] = (row.value, (row.id, row.year))
        return rows_of[(factor_id, year)]

    for meter in energy:
        all_keys = {"domain": "energy", "site": meter.site, "sensor": meter.sensor,
                    "carrier": meter.carrier.value, "vehicle_class": None}
        acc = groups[(meter.bucket_ms, tuple(all_keys[key] for key in keys))]
        if meter.gco2_kwh is not None and meter.carrier in (Carrier.ELECTRICITY,
                                                            Carrier.EV_CHARGING):
            td, td_key = factor(ELECTRICITY_TD, meter.year)
            if meter.energy_kwh:
                acc.factors.update({td_key, (GRID_INTENSITY_ID, td_key[1])})
            acc.kgco2e.append(meter.energy_kwh * (meter.gco2_kwh / 1000 + td))
            acc.energy_kwh.append(meter.energy_kwh)
            continue
        resolved = [factor(factor_id, meter.year) for factor_id in CARRIER_FACTORS[meter.carrier]]
        if meter.energy_kwh:
            acc.factors.update(key for _, key in resolved)
        if meter.carrier is Carrier.SOLAR_PV:
            (generation, _), = resolved
            acc.avoided.append(meter.energy_kwh * generation)
            acc.generated_kwh.append(meter.energy_kwh)
        else:
            per_kwh = math.fsum(value for value, _ in resolved)
            acc.kgco2e.append(meter.energy_kwh * per_kwh)
            acc.energy_kwh.append(meter.energy_kwh)

    for traffic in transport:
        all_keys = {"domain": "transport", "site": traffic.site, "sensor": traffic.sensor,
                    "carrier": None, "vehicle_class": traffic.vehicle_class.value}
        acc = groups[(traffic.bucket_ms, tuple(all_keys[key] for key in keys))]
        factor_id = vehicle_factor_id(traffic.vehicle_class)
        if factor_id is not None:
            value, factor_key = factor(factor_id, traffic.year)
            if traffic.vehicle_km:
                acc.factors.add(factor_key)
            acc.kgco2e.append(traffic.vehicle_km * value)
        acc.vehicle_km.append(traffic.vehicle_km)
        acc.counts += traffic.counts
        acc.unattributed += traffic.unattributed_counts

    rows = tuple(
        EmissionRow(
            bucket_ms=bucket,
            keys=dict(zip(keys, values, strict=True)),
            kgco2e=math.fsum(acc.kgco2e),
            avoided_kgco2e=math.fsum(acc.avoided),
            activity=acc.activity(),
            factors=tuple(sorted(acc.factors)),
        )
        for (bucket, values), acc in sorted(groups.items(), key=_order)
    )
    total = math.fsum(row.kgco2e for row in rows)
    avoided = math.fsum(row.avoided_kgco2e for row in rows)
    applied = frozenset(key for row in rows for key in row.factors)
    return EmissionsSummary(
        rows=rows,
        total_kgco2e=total,
        avoided_kgco2e=avoided,
        net_kgco2e=total - avoided,
        activity=Activity(
            energy_kwh=math.fsum(row.activity.energy_kwh for row in rows),
            generated_kwh=math.fsum(row.activity.generated_kwh for row in rows),
            vehicle_km=math.fsum(row.activity.vehicle_km for row in rows),
            counts=sum(row.activity.counts for row in rows),
            unattributed_counts=sum(row.activity.unattributed_counts for row in rows),
        ),
        applied=applied,
    )


def rebucket(
    energy: Iterable[EnergyActivity], transport: Iterable[TransportActivity],
    bucket_of: Callable[[int], int],
) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    """Activity moved from its query bucket to the output bucket ``bucket_of(bucket_ms)``.

    Activity without a bucket stays without one. ``bucket_of`` is called once per
    distinct bucket.
    """
    cache: dict[int, int] = {}

    def new(bucket: int | None) -> int | None:
        if bucket is None:
            return None
        if bucket not in cache:
            cache[bucket] = bucket_of(bucket)
        return cache[bucket]

    return ([replace(meter, bucket_ms=new(meter.bucket_ms)) for meter in energy],
            [replace(traffic, bucket_ms=new(traffic.bucket_ms)) for traffic in transport])


def _order(item: tuple[tuple[int | None, KeyValues], _Accumulator]) -> tuple[object, ...]:
    (bucket, values), _ = item
    # None (a key that does not apply) sorts after every real value.
    first = bucket if bucket is not None else -1
    return (first, *((value is None, value or "") for value in values))
