"""``GET /api/v1/sensors`` and ``/api/v1/sensors/{sensor_id}``: last seen and status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import Response

from api.deps import DevicesDep, RegistryDep, StoreDep
from api.network.answers import one_sensor, sensor_list, sensor_table
from api.params import FormatQuery
from api.render import FastJSONResponse, csv_response, table_responses, wants_csv
from api.schemas import SensorList, SensorStatus
from api.schemas.errors import error_responses
from sensors.topics import Domain

router = APIRouter(tags=["sensors"])

_RESPONSES = {**table_responses("one line per sensor"),
              **error_responses(404, 503, e404="unknown site or sensor")}


@router.get("/sensors", response_model=SensorList, responses=_RESPONSES,
            summary="Every known sensor with its last reading and status")
async def list_sensors(
    request: Request,
    store: StoreDep,
    registry: RegistryDep,
    devices: DevicesDep,
    domain: Annotated[Domain | None, Query(description="only this domain")] = None,
    site: Annotated[str | None, Query(max_length=200, description="only this site")] = None,
    output: FormatQuery = None,
) -> Response:
    """Registered sensors, then the devices file's others and any others found in the
    database (``registered: false``), each with what it sends (``source_format``)."""
    answer = await sensor_list(store, registry, devices, site, domain)
    if answer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
    if wants_csv(request, output):
        return csv_response(*sensor_table(answer.sensors), f"sensors_{answer.as_of}.csv")
    return FastJSONResponse(answer.model_dump(mode="json"))


@router.get("/sensors/{sensor_id}", response_model=SensorStatus, responses=_RESPONSES,
            summary="One sensor with its last reading and status")
async def get_sensor(
    request: Request,
    store: StoreDep,
    registry: RegistryDep,
    devices: DevicesDep,
    sensor_id: Annotated[str, Path(max_length=200, description="the sensor's id")],
    output: FormatQuery = None,
) -> Response:
    """A registered sensor, or one found in the database."""
    found = await one_sensor(store, registry, devices, sensor_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
    if wants_csv(request, output):
        return csv_response(*sensor_table([found]), f"sensor_{sensor_id}.csv")
    return FastJSONResponse(found.model_dump(mode="json"))
