"""``GET /api/v1/sensors`` and ``/api/v1/sensors/{sensor_id}``: last seen and status."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import RegistryDep, StoreDep
from api.params import format_ms
from api.queries import LAST_SEEN_LOOKBACK, fetch_last_seen
from api.schemas import SensorList, SensorState, SensorStatus
from api.status import sensor_statuses
from sensors.topics import Domain

router = APIRouter(tags=["sensors"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "unknown site or sensor"},
}


async def _statuses(store: StoreDep, registry: RegistryDep) -> tuple[int, list[SensorStatus]]:
    seen = await fetch_last_seen(store)
    now_ms = time.time_ns() // 1_000_000
    return now_ms, sensor_statuses(registry, seen, now_ms)


@router.get("/sensors", response_model=SensorList, responses=_NOT_FOUND,
            summary="Every known sensor with its last reading and status")
async def list_sensors(
    store: StoreDep,
    registry: RegistryDep,
    domain: Annotated[Domain | None, Query(description="only this domain")] = None,
    site: Annotated[str | None, Query(max_length=200, description="only this site")] = None,
) -> SensorList:
    """Registered sensors and any others found in the database (``registered: false``)."""
    now_ms, statuses = await _statuses(store, registry)
    if site is not None:
        known_sites = {known.id for known in registry.sites} | {s.site for s in statuses}
        if site not in known_sites:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
        statuses = [s for s in statuses if s.site == site]
    if domain is not None:
        statuses = [s for s in statuses if s.domain is domain]
    counts: dict[SensorState, int] = {"reporting": 0, "late": 0, "silent": 0}
    for one in statuses:
        counts[one.status] += 1
    return SensorList(
        as_of=format_ms(now_ms), lookback=LAST_SEEN_LOOKBACK,
        counts=counts, sensors=statuses,
    )


@router.get("/sensors/{sensor_id}", response_model=SensorStatus, responses=_NOT_FOUND,
            summary="One sensor with its last reading and status")
async def get_sensor(
    store: StoreDep,
    registry: RegistryDep,
    sensor_id: Annotated[str, Path(max_length=200)],
) -> SensorStatus:
    """A registered sensor, or one found in the database."""
    _, statuses = await _statuses(store, registry)
    for one in statuses:
        if one.id == sensor_id:
            return one
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
