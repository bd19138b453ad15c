"""Emissions pricing: activity at the finest grain in, grouped emission rows out. No I/O.

Every formula and factor is in docs/methodology.md ("What is counted", "Factors",
"Scopes and gases"). Each activity is priced into parts (:mod:`api.carbon.parts`) with
the factor rows of its own London calendar year (or one forced set), so a row whose
bucket spans New Year may combine two years' factors. Totals are ``math.fsum`` of the
rows, so ``total_kgco2e`` equals the sum of the rows by construction; nothing is rounded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from api.activity.model import EnergyActivity, TransportActivity
from api.carbon.parts import (
    GRID_INTENSITY_ID,
    SCOPES,
    TRANSPORT,
    FactorKey,
    Part,
    Priced,
    Pricer,
    PricingOptions,
    is_car,
)
from sensors.factors import FactorTable
from sensors.readings import Carrier

__all__ = ["GRID_INTENSITY_ID", "GROUP_KEYS", "Activity", "EmissionRow", "EmissionsSummary",
           "FactorKey", "PricingOptions", "check_group_by", "rebucket", "summarise"]

GROUP_KEYS = ("domain", "site", "sensor", "carrier", "vehicle_class", "scope")
EV_DOUBLE_COUNT = "ev_double_count"

KeyValues = tuple[str | None, ...]


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
    kgco2: float | None = 0.0  # CO2 only; None when a row applied has no CO2 part
    memo_kgco2e: float = 0.0  # EV charging reported beside the total (ev_charging=memo)
    avoided_td_kgco2e: float = 0.0


@dataclass(frozen=True, slots=True)
class EmissionsSummary:
    """Grouped rows, their totals and the factors applied to non-zero activity."""

    rows: tuple[EmissionRow, ...]
    total_kgco2e: float
    avoided_kgco2e: float
    net_kgco2e: float
    activity: Activity
    applied: frozenset[FactorKey] = frozenset()  # (id, year) of every row applied
    scopes: dict[str, float] = field(default_factory=dict)  # kgCO2e by scope (in the total)
    wtt_kgco2e: float = 0.0  # the well-to-tank part of the total (0 without wtt)
    kgco2_known: float = 0.0  # CO2 of the parts whose rows give a CO2 part
    co2_missing: tuple[FactorKey, ...] = ()  # rows applied without a CO2 part
    memo_kgco2e: float = 0.0
    avoided_td_kgco2e: float = 0.0
    ev_charging_kwh: float = 0.0
    car_vehicle_km: float = 0.0
    disclosures: tuple[str, ...] = ()  # codes, worded by the answers (EV_DOUBLE_COUNT)

    @property
    def total_kgco2(self) -> float | None:
        """CO2-only total of the parts in the total; None when some row lacks a CO2 part."""
        return None if self.co2_missing else self.kgco2_known


@dataclass(slots=True, eq=False)  # identity: accumulators are told apart by who they are
class _Accumulator:
    kgco2e: list[float] = field(default_factory=list)
    kgco2: list[float] = field(default_factory=list)
    co2_missing: set[FactorKey] = field(default_factory=set)
    memo: list[float] = field(default_factory=list)
    avoided: list[float] = field(default_factory=list)
    avoided_td: list[float] = field(default_factory=list)
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

    def add_part(self, part: Part, amount: float) -> None:
        if amount:
            self.factors.update(part.factors)
        if part.memo:
            self.memo.append(part.kgco2e)
            return
        self.kgco2e.append(part.kgco2e)
        if part.kgco2 is not None:
            self.kgco2.append(part.kgco2)
        elif amount:
            self.co2_missing.update(part.factors)

    def add_avoided(self, priced: Priced, kwh: float) -> None:
        self.avoided.append(priced.avoided_kgco2e)
        self.avoided_td.append(priced.avoided_td_kgco2e)
        if kwh:
            self.factors.update(priced.avoided_factors)


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
    options: PricingOptions | None = None,
) -> EmissionsSummary:
    """Apply the factors and aggregate to the requested keys (and buckets).

    With ``scope`` among the keys, an activity priced in several scopes (a grid kWh:
    generation in Scope 2, T&D in Scope 3) adds to each of those rows, with its activity
    in each; the answer's ``activity`` counts it once.

    Raises:
        ValueError: unknown group_by key.
        KeyError: the factor table lacks a factor the activity needs.
    """
    keys = check_group_by(group_by)
    pricer = Pricer(factors, options or PricingOptions())
    groups: dict[tuple[int | None, KeyValues], _Accumulator] = defaultdict(_Accumulator)
    whole = _Accumulator()  # every activity once, and every part once, for the totals
    by_scope: dict[str, list[float]] = {scope: [] for scope in SCOPES}
    wtt: list[float] = []
    ev_kwh: list[float] = []
    car_vkm: list[float] = []

    def targets(bucket: int | None, base: dict[str, str | None], priced: Priced,
                fallback_scope: str | None) -> list[tuple[_Accumulator, Part | None]]:
        if "scope" not in keys:
            acc = groups[(bucket, tuple(base[key] for key in keys))]
            return [(acc, part) for part in priced.parts] or [(acc, None)]
        scoped: list[tuple[str | None, Part | None]] = [
            (part.scope, part) for part in priced.parts] or [(fallback_scope, None)]
        return [(groups[(bucket, tuple(scope if key == "scope" else base[key]
                                       for key in keys))], part) for scope, part in scoped]

    def book(priced: Priced) -> None:
        for part in priced.parts:
            if not part.memo:
                by_scope[part.scope].append(part.kgco2e)
                if part.wtt:
                    wtt.append(part.kgco2e)

    for meter in energy:
        base = {"domain": "energy", "site": meter.site, "sensor": meter.sensor,
                "carrier": meter.carrier.value, "vehicle_class": None}
        priced = pricer.energy(meter)
        book(priced)
        solar = meter.carrier is Carrier.SOLAR_PV
        if meter.carrier is Carrier.EV_CHARGING:
            ev_kwh.append(meter.energy_kwh)
        for acc in _spread(targets(meter.bucket_ms, base, priced, None), whole,
                           meter.energy_kwh):
            (acc.generated_kwh if solar else acc.energy_kwh).append(meter.energy_kwh)
            if solar:
                acc.add_avoided(priced, meter.energy_kwh)

    for traffic in transport:
        base = {"domain": "transport", "site": traffic.site, "sensor": traffic.sensor,
                "carrier": None, "vehicle_class": traffic.vehicle_class.value}
        priced = pricer.transport(traffic)
        book(priced)
        if is_car(traffic):
            car_vkm.append(traffic.vehicle_km)
        for acc in _spread(targets(traffic.bucket_ms, base, priced, TRANSPORT), whole,
                           traffic.vehicle_km):
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
            kgco2=None if acc.co2_missing else math.fsum(acc.kgco2),
            memo_kgco2e=math.fsum(acc.memo),
            avoided_td_kgco2e=math.fsum(acc.avoided_td),
        )
        for (bucket, values), acc in sorted(groups.items(), key=_order)
    )
    total = math.fsum(row.kgco2e for row in rows)
    avoided = math.fsum(row.avoided_kgco2e for row in rows)
    ev, cars = math.fsum(ev_kwh), math.fsum(car_vkm)
    return EmissionsSummary(
        rows=rows, total_kgco2e=total, avoided_kgco2e=avoided, net_kgco2e=total - avoided,
        activity=whole.activity(),
        applied=frozenset(key for row in rows for key in row.factors),
        scopes={scope: math.fsum(parts) for scope, parts in by_scope.items()},
        wtt_kgco2e=math.fsum(wtt), kgco2_known=math.fsum(whole.kgco2),
        co2_missing=tuple(sorted(whole.co2_missing)), memo_kgco2e=math.fsum(whole.memo),
        avoided_td_kgco2e=math.fsum(whole.avoided_td),
        ev_charging_kwh=ev, car_vehicle_km=cars,
        disclosures=(EV_DOUBLE_COUNT,) if ev > 0 and cars > 0 else (),
    )


def _spread(targets: list[tuple[_Accumulator, Part | None]], whole: _Accumulator,
            amount: float) -> list[_Accumulator]:
    """Add each part to its group and to the whole; the groups (and the whole) touched,
    each once, for the activity to be added to."""
    touched: list[_Accumulator] = []
    for acc, part in [*targets, (whole, None)]:
        if part is not None:
            acc.add_part(part, amount)
            whole.add_part(part, amount)
        if acc not in touched:
            touched.append(acc)
    return touched


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
