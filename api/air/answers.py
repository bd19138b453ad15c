"""The ``/air-quality/daqi`` answers: a site at a moment, hour by hour, and day by day.

Shapes: :class:`api.schemas.DaqiOut`, :class:`api.schemas.DaqiHistoryOut` and
:class:`api.schemas.DaqiDailyOut`. Means are given to 3 decimals (:mod:`api.precision`);
``rounded_ugm3`` and the index come from the unrounded mean, as DEFRA rounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.air.daily import DailyIndex, fetch_daily
from api.air.daqi import BANDS, PollutantIndex, SiteIndex, round_concentration, site_index
from api.air.intervals import ExpectedInterval
from api.air.queries import SiteData, fetch_daqi_history, fetch_site_data
from api.clock import TimeWindow, format_london_ns, format_ms
from api.influx import InfluxStore
from api.precision import kg_or_none
from sensors.registry import Registry
from sensors.timestamps import NS_PER_MS

DAQI_SOURCE = "https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info"
CAPTURE_RULE = ("75 % data capture: an hour (15 minutes for SO2) counts with 75 % of the "
                "readings each monitor is expected to send in it, at its registry interval or, "
                "for a monitor known only from its data, the median gap between its readings; "
                "8- and 24-hour means need 75 % of their hours")


def pollutant_body(one: PollutantIndex) -> dict[str, Any]:
    """The public shape of one pollutant's index (:class:`api.schemas.DaqiPollutant`)."""
    return {
        "index": one.index,
        "band": one.band,
        "mean_ugm3": kg_or_none(one.mean_ugm3),
        "rounded_ugm3": None if one.mean_ugm3 is None else round_concentration(one.mean_ugm3),
        "window": one.window,
        "window_start": format_ms(one.window_start_ms),
        "window_end": format_ms(one.window_end_ms),
        "readings": one.readings,
        "needed_per_unit": one.needed,
        "reason": one.reason,
    }


def hour_body(index: SiteIndex) -> dict[str, Any]:
    """``at``, ``overall`` and ``pollutants`` of one :class:`SiteIndex`."""
    return {
        "at": format_ms(index.at_ms),
        "overall": {"index": index.overall_index, "band": index.overall_band,
                    "driven_by": list(index.driven_by)},
        "pollutants": {p: pollutant_body(one) for p, one in index.pollutants.items()},
    }


def interval_body(one: ExpectedInterval) -> dict[str, Any]:
    """A monitor's expected interval for a pollutant (:class:`api.schemas.DaqiInterval`)."""
    return {"sensor": one.sensor, "pollutant": one.pollutant,
            "interval_s": None if one.interval_ms is None else one.interval_ms / 1000,
            "source": one.source}


def rollup_body(span: tuple[int, int] | None) -> dict[str, str | None]:
    """Which hours came from the air-quality rollups (both null: all raw)."""
    return {"rollup_start": format_ms(span[0]) if span else None,
            "rollup_end": format_ms(span[1]) if span else None}


def band_at_least(band: str | None, min_band: str | None) -> bool:
    """Whether ``band`` is ``min_band`` or worse (always, without a ``min_band``)."""
    if min_band is None:
        return True
    return band is not None and BANDS.index(band) >= BANDS.index(min_band)


async def daqi_at(store: InfluxStore, registry: Registry, site: str,
                  at_ms: int) -> dict[str, Any]:
    """The index of ``site`` at ``at_ms``, with the intervals its capture was judged by.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    data = (await fetch_site_data(store, [site], at_ms, at_ms, registry)).sites.get(
        site, SiteData())
    index = site_index(site, at_ms, data.pollutants)
    return {"site": site, **hour_body(index), "capture": CAPTURE_RULE,
            "intervals": [interval_body(one) for one in data.intervals],
            "source": DAQI_SOURCE}


async def daqi_history(store: InfluxStore, registry: Registry, sites: Sequence[str],
                       window: TimeWindow, min_band: str | None,
                       single: str | None) -> dict[str, Any]:
    """The index of each site at every whole UTC hour of ``window``, by hour then site;
    with ``min_band``, only the hours at that band or worse.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    start_ms, end_ms = window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS
    found, span = (await fetch_daqi_history(store, sites, start_ms, end_ms, registry)
                   if end_ms > start_ms else ({}, None))
    hours = sorted((index for indices in found.values() for index in indices),
                   key=lambda one: (one.at_ms, sites.index(one.site)))
    return {"site": single, "sites": list(sites), "start": format_ms(start_ms),
            "end": format_ms(end_ms), "min_band": min_band,
            "hours": [{"site": one.site, **hour_body(one)} for one in hours
                      if band_at_least(one.overall_band, min_band)],
            "source": DAQI_SOURCE, **rollup_body(span)}


def day_body(day: DailyIndex) -> dict[str, Any]:
    """One site-day (:class:`api.schemas.DaqiDay`)."""
    return {
        "site": day.site, "date": day.date,
        "start": format_london_ns(day.start_ms * NS_PER_MS),
        "end": format_london_ns(day.end_ms * NS_PER_MS),
        "hours": (day.end_ms - day.start_ms) // 3_600_000,
        "overall": {"index": day.overall_index, "band": day.overall_band,
                    "driven_by": list(day.driven_by)},
        "pollutants": {p: {"index": one.index, "band": one.band,
                           "value_ugm3": kg_or_none(one.value_ugm3),
                           "rounded_ugm3": (None if one.value_ugm3 is None
                                            else round_concentration(one.value_ugm3)),
                           "statistic": one.statistic, "units": one.units,
                           "valid_units": one.valid_units, "needed_units": one.needed_units,
                           "reason": one.reason}
                       for p, one in day.pollutants.items()},
    }


def days_by_band(days: Sequence[DailyIndex], sites: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per site: how many days in each band, and how many had no index."""
    out = {site: {**dict.fromkeys(BANDS, 0), "none": 0} for site in sites}
    for day in days:
        out[day.site][day.overall_band or "none"] += 1
    return out


async def daqi_daily(store: InfluxStore, registry: Registry, sites: Sequence[str],
                     window: TimeWindow, min_band: str | None) -> dict[str, Any]:
    """DEFRA's daily index of each site for every London day the window touches.

    Raises:
        ValueError: more than 366 days.
        StoreError: InfluxDB could not answer.
    """
    start_ms, end_ms = window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS
    days, span = await fetch_daily(store, sites, start_ms, end_ms, registry)
    return {"sites": list(sites), "start": format_ms(start_ms), "end": format_ms(end_ms),
            "min_band": min_band, "days_by_band": days_by_band(days, sites),
            "days": [day_body(day) for day in days
                     if band_at_least(day.overall_band, min_band)],
            "capture": CAPTURE_RULE, "source": DAQI_SOURCE, **rollup_body(span)}
