"""The ``/air-quality/daqi`` answers: a site's index at a moment, and hour by hour.

Shapes: :class:`api.schemas.DaqiOut` and :class:`api.schemas.DaqiHistoryOut`.
"""

from __future__ import annotations

from typing import Any

from api.air.daqi import PollutantIndex, SiteIndex, round_concentration
from api.air.queries import fetch_daqi_history, fetch_site_daqi
from api.clock import TimeWindow, format_ms
from api.influx import InfluxStore
from sensors.timestamps import NS_PER_MS

DAQI_SOURCE = "https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info"


def pollutant_body(one: PollutantIndex) -> dict[str, Any]:
    """The public shape of one pollutant's index (:class:`api.schemas.DaqiPollutant`)."""
    return {
        "index": one.index,
        "band": one.band,
        "mean_ugm3": one.mean_ugm3,
        "rounded_ugm3": None if one.mean_ugm3 is None else round_concentration(one.mean_ugm3),
        "window": one.window,
        "window_start": format_ms(one.window_start_ms),
        "window_end": format_ms(one.window_end_ms),
        "readings": one.readings,
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


async def daqi_at(store: InfluxStore, site: str, at_ms: int) -> dict[str, Any]:
    """The index of ``site`` at ``at_ms``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    index = await fetch_site_daqi(store, site, at_ms)
    return {"site": site, **hour_body(index), "source": DAQI_SOURCE}


async def daqi_history(store: InfluxStore, site: str, window: TimeWindow) -> dict[str, Any]:
    """The index of ``site`` at every whole UTC hour of ``window``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    start_ms, end_ms = window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS
    hours = await fetch_daqi_history(store, site, start_ms, end_ms) if end_ms > start_ms else []
    return {"site": site, "start": format_ms(start_ms), "end": format_ms(end_ms),
            "hours": [hour_body(index) for index in hours], "source": DAQI_SOURCE}
