"""``GET /api/v1/sensors`` and ``/api/v1/sensors/{sensor_id}``: last seen and status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import DevicesDep, RegistryDep, StoreDep
from api.network.answers import one_sensor, sensor_list
from api.schemas import SensorList, SensorStatus
from sensors.topics import Domain

router = APIRouter(tags=["sensors"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "unknown site or sensor"},
}


@router.get("/sensors", response_model=SensorList, responses=_NOT_FOUND,
            summary="Every known sensor with its last reading and status")
async def list_sensors(
    store: StoreDep,
    registry: RegistryDep,
    devices: DevicesDep,
    domain: Annotated[Domain | None, Query(description="only this domain")] = None,
    site: Annotated[str | None, Query(max_length=200, description="only this site")] = None,
) -> SensorList:
    """Registered sensors, then the devices file's others and any others found in the
    database (``registered: false``), each with what it sends (``source_format``)."""
    answer = await sensor_list(store, registry, devices, site, domain)
    if answer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
    return answer


@router.get("/sensors/{sensor_id}", response_model=SensorStatus, responses=_NOT_FOUND,
            summary="One sensor with its last reading and status")
async def get_sensor(
    store: StoreDep,
    registry: RegistryDep,
    devices: DevicesDep,
    sensor_id: Annotated[str, Path(max_length=200)],
) -> SensorStatus:
    """A registered sensor, or one found in the database."""
    found = await one_sensor(store, registry, devices, sensor_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
    return found
