"""What the public page shows, computed with the API's own answers (no figures of its own).

Only what the operator publishes (``SMARTPLACE_PUBLIC_SITES``, ``SMARTPLACE_PUBLIC_CARBON``)
and only sensors in service (registered, not retired, not simulated):

- air quality now at each public site: :func:`api.air.answers.daqi_at`, with the band's
  health advice (:mod:`api.public.advice`);
- the town centre's carbon this month so far against the same days last year:
  :func:`api.carbon.emissions.emissions` (gross kgCO2e, simulated sensors left out);
- what the sensors at the public sites are, from the registry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.activity.scope import sensor_scope
from api.air.answers import daqi_at
from api.carbon.emissions import EmissionsQuery, emissions
from api.clock import LONDON, TimeWindow
from api.influx import InfluxStore
from api.network.flags import SensorFlags
from api.public.advice import BandAdvice, advice_for
from sensors.factors import FactorTable
from sensors.registry import Registry, Sensor
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain

POLLUTANT_NAMES = {"no2": "nitrogen dioxide (NO₂)", "pm25": "fine particles (PM2.5)",
                   "pm10": "particles (PM10)", "o3": "ozone (O₃)", "so2": "sulphur dioxide (SO₂)"}
CARRIER_WORDS = {"electricity": "electricity drawn from the grid", "gas": "gas",
                 "solar_pv": "electricity from solar panels",
                 "ev_charging": "electric-vehicle charging"}


@dataclass(frozen=True, slots=True)
class SiteAir:
    """One public site's index now."""

    site: str
    name: str
    index: int | None
    band: str | None
    pollutants: list[str]
    advice: BandAdvice | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class MonthCarbon:
    """Gross tonnes CO2e this month so far, and over the same days a year before."""

    month: str
    days: str
    tonnes: float
    energy_tonnes: float
    transport_tonnes: float
    last_year_tonnes: float | None
    change_pct: float | None


@dataclass(frozen=True, slots=True)
class SensorLine:
    """One sensor, described for a resident."""

    what: str
    every: str


@dataclass(frozen=True, slots=True)
class PublicPage:
    """Everything the template shows."""

    at_ms: int
    air: list[SiteAir] = field(default_factory=list)
    carbon: MonthCarbon | None = None
    carbon_published: bool = False
    sensors: dict[str, list[SensorLine]] = field(default_factory=dict)
    unavailable: bool = False

    @property
    def published(self) -> bool:
        """Whether the operator publishes anything at all."""
        return bool(self.air) or self.carbon_published or self.unavailable


def _in_service(registry: Registry, flags: SensorFlags, site: str) -> list[Sensor]:
    return [sensor for sensor in registry.sensors if sensor.site == site
            and not sensor.retired and not flags.quiet(sensor.id)]


def public_sites(settings: Settings, registry: Registry, flags: SensorFlags) -> list[str]:
    """The published sites that have an air-quality monitor in service."""
    with_monitor = [site.id for site in registry.sites if any(
        sensor.domain is Domain.AIR_QUALITY for sensor in _in_service(registry, flags, site.id))]
    return settings.public_site_ids(with_monitor)


def describe(sensor: Sensor) -> SensorLine:
    """A sensor in plain words: what it measures and how often."""
    if sensor.domain is Domain.ENERGY:
        carrier = sensor.carrier.value if sensor.carrier else ""
        what = f"an energy meter ({CARRIER_WORDS.get(carrier, 'energy')})"
    elif sensor.domain is Domain.TRANSPORT:
        where = f": {sensor.link_name}" if sensor.link_name else ""
        what = f"a traffic counter{where} (vehicles, bicycles and people on foot)"
    else:
        setting = f"{sensor.setting} " if sensor.setting else ""
        what = f"a {setting}air-quality monitor"
    minutes = sensor.interval_s / 60
    if sensor.interval_s == 60:
        every = "every minute"
    elif sensor.interval_s < 120:
        every = f"every {sensor.interval_s} seconds"
    else:
        every = f"every {minutes:g} minutes"
    return SensorLine(what, every)


def month_windows(now_ms: int) -> tuple[TimeWindow, TimeWindow, str, str]:
    """This London month so far, the same span a year before, and their labels."""
    local = datetime.fromtimestamp(now_ms / 1000, LONDON)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    before_start = start.replace(year=start.year - 1)
    try:
        before_end = local.replace(year=local.year - 1)
    except ValueError:  # 29 February: the same days end with the 28th's
        before_end = local.replace(year=local.year - 1, day=28)

    def ns(moment: datetime) -> int:
        # Rebuilt on the London clock: the offset a year before may differ (GMT/BST).
        aware = moment.replace(tzinfo=None).replace(tzinfo=LONDON)
        return round(aware.astimezone(UTC).timestamp() * 1000) * NS_PER_MS

    this = TimeWindow(ns(start), now_ms * NS_PER_MS)
    last = TimeWindow(ns(before_start), max(ns(before_end), ns(before_start) + NS_PER_MS))
    return this, last, f"{local:%B %Y}", f"1 to {local.day} {local:%B}"


def _tonnes(body: dict[str, Any], domain: str | None = None) -> float:
    if domain is None:
        return float(body["total_kgco2e"]) / 1000
    return sum(float(row["kgco2e"]) for row in body["rows"] if row.get("domain") == domain
               ) / 1000


def _measured(body: dict[str, Any]) -> bool:
    activity = body["activity"]
    return bool(activity["energy_kwh"] or activity["vehicle_km"] or activity["generated_kwh"])


async def month_carbon(store: InfluxStore, table: FactorTable, region_id: int,
                       now_ms: int) -> MonthCarbon | None:
    """This month's gross emissions against the same days last year; None without data.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    this, last, month, days = month_windows(now_ms)
    (now_body, _), (then_body, _) = await asyncio.gather(*(
        emissions(store, table, EmissionsQuery(window, None, ("domain",)), region_id)
        for window in (this, last)))
    if not _measured(now_body):
        return None
    tonnes = _tonnes(now_body)
    before = _tonnes(then_body) if _measured(then_body) else None
    change = (tonnes - before) / before * 100 if before else None
    return MonthCarbon(month, days, tonnes, _tonnes(now_body, "energy"),
                       _tonnes(now_body, "transport"), before, change)


async def site_air(store: InfluxStore, registry: Registry, site: str, now_ms: int) -> SiteAir:
    """One site's DAQI now, with the advice for its band.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    answer = await daqi_at(store, registry, site, now_ms)
    overall = answer["overall"]
    known = registry.site(site)
    reasons = [one["reason"] for one in answer["pollutants"].values() if one.get("reason")]
    return SiteAir(site, known.name if known else site, overall["index"], overall["band"],
                   [POLLUTANT_NAMES.get(p, p) for p in overall["driven_by"]],
                   advice_for(overall["band"]), reasons[0] if overall["index"] is None
                   and reasons else None)


async def public_page(store: InfluxStore, registry: Registry, table: FactorTable,
                      settings: Settings, flags: SensorFlags, now_ms: int) -> PublicPage:
    """The page's content at ``now_ms``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    sites = public_sites(settings, registry, flags)
    with sensor_scope(flags.scope()):
        air = await asyncio.gather(*(site_air(store, registry, site, now_ms) for site in sites))
        carbon = (await month_carbon(store, table, settings.grid_region_id, now_ms)
                  if settings.public_carbon else None)
    sensors = {}
    for site in sites:
        known = registry.site(site)
        sensors[known.name if known else site] = [
            describe(sensor) for sensor in _in_service(registry, flags, site)]
    return PublicPage(now_ms, list(air), carbon, settings.public_carbon, sensors)
