"""``/api/v1/sensors``: last seen and status, one sensor's readings, and retirement.

Retiring (operator) takes a sensor out of service: it raises no alerts and counts in no
completeness; its past readings still count where it measured (README, "Simulated and
retired sensors").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import Response

from api.auth import ROLE_RESPONSES, audited, require_role
from api.deps import (
    DevicesDep,
    FlagCacheDep,
    LastSeenDep,
    LiveHubDep,
    RegistryDep,
    StoreDep,
)
from api.errors import ParamError
from api.live.sse import rfc3339_ms
from api.network.answers import one_sensor, sensor_list, sensor_table
from api.network.flags import set_retired
from api.network.readings import readings_table, sensor_readings
from api.params import (
    FormatQuery,
    as_validation_error,
    body_docs,
    json_body,
    parse_window,
    time_query,
)
from api.render import FastJSONResponse, csv_response, table_responses, wants_csv
from api.routes.formats import no_csv
from api.schemas import RetireIn, SensorFlagOut, SensorList, SensorReadingsOut, SensorStatus
from api.schemas.errors import error_responses
from sensors.apikeys import ApiKey
from sensors.timestamps import NS_PER_MS, now_ms
from sensors.topics import SLUG, Domain

router = APIRouter(tags=["sensors"])

_RESPONSES = {**table_responses("one line per sensor"),
              **error_responses(404, 503, e404="unknown site or sensor")}
_READINGS = {**table_responses("one line per reading, a column per field"),
             **error_responses(404, 503, e404="unknown sensor")}
_ACTION = {**ROLE_RESPONSES, **error_responses(404, 406, 503, e404="unknown sensor")}
SensorId = Annotated[str, Path(max_length=200, description="the sensor's id")]
Operator = Annotated[ApiKey, Depends(require_role("operator"))]
# Read after the key check (api/params.py, json_body), hence declared after Operator.
RetireBody = Annotated[RetireIn | None, Depends(json_body(RetireIn))]
READINGS_DEFAULT_S = 3600
READINGS_MAX_S = 7 * 86_400


@router.get("/sensors", response_model=SensorList, responses=_RESPONSES,
            summary="Every known sensor with its last reading and status")
async def list_sensors(
    request: Request,
    store: StoreDep,
    index: LastSeenDep,
    registry: RegistryDep,
    devices: DevicesDep,
    flags: FlagCacheDep,
    domain: Annotated[Domain | None, Query(description="only this domain")] = None,
    site: Annotated[str | None, Query(max_length=200, description="only this site")] = None,
    output: FormatQuery = None,
) -> Response:
    """Registered sensors, then the devices file's others and any others found in the
    database (``registered: false``), each with what it sends (``source_format``) and
    whether it is simulated or retired."""
    answer = await sensor_list(store, index, registry, devices, site, domain,
                               await flags.get(store))
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
    index: LastSeenDep,
    registry: RegistryDep,
    devices: DevicesDep,
    flags: FlagCacheDep,
    sensor_id: SensorId,
    output: FormatQuery = None,
) -> Response:
    """A registered sensor, or one found in the database."""
    found = await one_sensor(store, index, registry, devices, sensor_id,
                             await flags.get(store))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
    if wants_csv(request, output):
        return csv_response(*sensor_table([found]), f"sensor_{sensor_id}.csv")
    return FastJSONResponse(found.model_dump(mode="json"))


@router.get("/sensors/{sensor_id}/readings", response_model=SensorReadingsOut,
            responses=_READINGS, summary="One sensor's latest readings and seq gaps")
async def get_readings(
    request: Request,
    store: StoreDep,
    sensor_id: SensorId,
    start: Annotated[str | None, time_query("inclusive (default: 1 hour before end)")] = None,
    end: Annotated[str | None, time_query("exclusive (default: now)")] = None,
    output: FormatQuery = None,
) -> Response:
    """The stored readings in [start, end) (at most 500, the newest), oldest first, and the
    jumps of ``seq`` among them. At most 7 days."""
    if not SLUG.fullmatch(sensor_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
    try:
        window = parse_window(start, end, now_ms() * NS_PER_MS,
                              default_s=READINGS_DEFAULT_S, max_s=READINGS_MAX_S)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    body = await sensor_readings(store, sensor_id, window.start_ns // NS_PER_MS,
                                 window.end_ns // NS_PER_MS)
    if wants_csv(request, output):
        return csv_response(*readings_table(body),
                            f"readings_{sensor_id}_{body['start']}_{body['end']}.csv")
    return FastJSONResponse(SensorReadingsOut.model_validate(body).model_dump(mode="json"))


@router.post("/sensors/{sensor_id}/retire", response_model=SensorFlagOut, responses=_ACTION,
             dependencies=[Depends(no_csv)],
             summary="Retire a sensor: no alerts, no completeness (operator)",
             openapi_extra=body_docs(RetireIn, required=False))
async def retire(store: StoreDep, index: LastSeenDep, registry: RegistryDep,
                 devices: DevicesDep, cache: FlagCacheDep, hub: LiveHubDep, actor: Operator,
                 sensor_id: SensorId, body: RetireBody) -> SensorFlagOut:
    """Take the sensor out of service (undo with ``reinstate``)."""
    return await _set(store, index, registry, devices, cache, hub, actor, sensor_id, True,
                      body.reason if body else None)


@router.post("/sensors/{sensor_id}/reinstate", response_model=SensorFlagOut,
             responses=_ACTION, dependencies=[Depends(no_csv)],
             summary="Put a retired sensor back in service (operator)")
async def reinstate(store: StoreDep, index: LastSeenDep, registry: RegistryDep,
                    devices: DevicesDep, cache: FlagCacheDep, hub: LiveHubDep, actor: Operator,
                    sensor_id: SensorId) -> SensorFlagOut:
    """Alerts and completeness count the sensor again."""
    return await _set(store, index, registry, devices, cache, hub, actor, sensor_id, False,
                      None)


async def _set(store: StoreDep, index: LastSeenDep, registry: RegistryDep, devices: DevicesDep,
               cache: FlagCacheDep, hub: LiveHubDep, actor: ApiKey, sensor_id: str,
               retired: bool, reason: str | None) -> SensorFlagOut:
    if await one_sensor(store, index, registry, devices, sensor_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown sensor {sensor_id!r}")
    at = now_ms()
    await set_retired(store, sensor_id, retired, actor.name, reason, at)
    cache.forget()
    hub.flags.forget()
    audited(actor, "sensor retired" if retired else "sensor reinstated", sensor=sensor_id,
            reason=reason)
    return SensorFlagOut(sensor=sensor_id, retired=retired, by=actor.name, at=rfc3339_ms(at),
                         reason=reason)
