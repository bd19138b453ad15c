"""``GET /api/v1/air-quality/daqi`` and ``.../daqi/history``: the UK DAQI (contract section 6).

The arithmetic is :mod:`api.daqi`, the reads :mod:`api.daqi_queries`; the method is in
``docs/methodology.md``, "Air quality: the Daily Air Quality Index".
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from api.daqi import PollutantIndex, SiteIndex, round_concentration
from api.daqi_queries import MAX_HISTORY_MS, fetch_daqi_history, fetch_site_daqi
from api.deps import RegistryDep, StoreDep
from api.params import NS_PER_MS, ParamError, as_validation_error, format_ms, parse_time
from api.schemas import FastJSONResponse
from sensors.registry import Registry

router = APIRouter(tags=["air quality"])

DAQI_SOURCE = "https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info"
DEFAULT_HISTORY_MS = 24 * 3_600_000

Band = Literal["Low", "Moderate", "High", "Very High"]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "unknown site"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "InfluxDB unavailable"},
}


class DaqiOverall(BaseModel):
    """The site's index: the highest of its pollutants' indices."""

    index: int | None = Field(description="1-10; null when no pollutant has enough data")
    band: Band | None
    driven_by: list[str] = Field(description="pollutants whose index equals the overall one")


class DaqiPollutant(BaseModel):
    """One pollutant over its own averaging window."""

    index: int | None = Field(description="1-10; null without enough readings (see reason)")
    band: Band | None
    mean_ugm3: float | None = Field(description="mean concentration over the window, µg/m³")
    rounded_ugm3: int | None = Field(
        description="the mean rounded half up to a whole µg/m³: the value looked up")
    window: Literal["1h", "15m", "8h", "24h"]
    window_start: str = Field(description="RFC 3339, inclusive")
    window_end: str = Field(description="RFC 3339, exclusive (the moment asked for)")
    readings: int = Field(description="readings in the window, all of the site's monitors")
    reason: str | None = Field(description="why index is null")


class DaqiOut(BaseModel):
    """``GET /air-quality/daqi``."""

    site: str
    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]
    source: str = Field(description="where the banding table comes from")


class DaqiHour(BaseModel):
    """The index at one whole hour (windows end at ``at``)."""

    at: str
    overall: DaqiOverall
    pollutants: dict[str, DaqiPollutant]


class DaqiHistoryOut(BaseModel):
    """``GET /air-quality/daqi/history``."""

    site: str
    start: str
    end: str
    hours: list[DaqiHour]
    source: str


def pollutant_body(one: PollutantIndex) -> dict[str, Any]:
    """The public shape of one pollutant's index (:class:`DaqiPollutant`)."""
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


def _known_site(registry: Registry, site: str) -> str:
    if registry.site(site) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
    return site


def _time_ms(name: str, text: str | None, default_ms: int) -> int:
    if not text:
        return default_ms
    try:
        return parse_time(name, text) // NS_PER_MS
    except ParamError as exc:
        raise as_validation_error(exc) from exc


def _now_ms() -> int:
    return time.time_ns() // NS_PER_MS


SiteQuery = Annotated[str, Query(min_length=1, max_length=200, description="a site id")]


@router.get(
    "/air-quality/daqi", response_model=DaqiOut, response_class=FastJSONResponse,
    responses=_RESPONSES, summary="UK Daily Air Quality Index at a site, per pollutant",
)
async def daqi(
    store: StoreDep,
    registry: RegistryDep,
    site: SiteQuery,
    at: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: now)")] = None,
) -> FastJSONResponse:
    """DAQI index and band per pollutant over its window ending at ``at``, and overall."""
    at_ms = _time_ms("at", at, _now_ms())
    index = await fetch_site_daqi(store, _known_site(registry, site), at_ms)
    return FastJSONResponse({"site": site, **hour_body(index), "source": DAQI_SOURCE})


@router.get(
    "/air-quality/daqi/history", response_model=DaqiHistoryOut,
    response_class=FastJSONResponse, responses=_RESPONSES,
    summary="Hourly UK Daily Air Quality Index at a site (at most 31 days)",
)
async def daqi_history(
    store: StoreDep,
    registry: RegistryDep,
    site: SiteQuery,
    start: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: 24 hours before end)")] = None,
    end: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset, exclusive (default: now)")] = None,
) -> FastJSONResponse:
    """The index at every whole UTC hour in [start, end), each as ``/air-quality/daqi``."""
    end_ms = _time_ms("end", end, _now_ms())
    start_ms = _time_ms("start", start, max(0, end_ms - DEFAULT_HISTORY_MS))
    if end_ms <= start_ms:
        raise as_validation_error(ParamError("end", "must be after start", end or ""))
    if end_ms - start_ms > MAX_HISTORY_MS:
        raise as_validation_error(
            ParamError("start", "the window [start, end) may span at most 31 days", start))
    hours = await fetch_daqi_history(store, _known_site(registry, site), start_ms, end_ms)
    return FastJSONResponse({
        "site": site, "start": format_ms(start_ms), "end": format_ms(end_ms),
        "hours": [hour_body(index) for index in hours], "source": DAQI_SOURCE,
    })
