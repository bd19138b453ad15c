"""``/api/v1/alerts``: acknowledge and silence alerts (operator), and their history.

The lifecycle is :mod:`api.live.lifecycle` (docs/live.md, "Alert lifecycle"). Acting needs
a key with the ``operator`` role; the answer and the audit log name the key, never show
it. After an action every open dashboard gets the alerts again at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.exceptions import RequestValidationError

from api.auth import ROLE_RESPONSES, audited, require_role
from api.deps import LiveHubDep
from api.errors import ParamError
from api.live.alerts import ALERT_ID
from api.live.sse import rfc3339_ms
from api.params import (
    as_validation_error,
    body_docs,
    json_body,
    parse_time,
    parse_window,
    time_query,
)
from api.schemas import AcknowledgeIn, AlertActionOut, AlertHistoryOut, SilenceIn
from api.schemas.errors import error_responses
from sensors.apikeys import ApiKey
from sensors.timestamps import NS_PER_MS, now_ms

router = APIRouter(tags=["alerts"])

MAX_SILENCE_MS = 30 * 86_400_000
_ERRORS = {**ROLE_RESPONSES, **error_responses(404, e404="no such alert is active")}
AlertId = Annotated[str, Path(max_length=80, pattern=ALERT_ID.pattern,
                              description="e.g. sensor_silent:aq-a6-roadside")]
Operator = Annotated[ApiKey, Depends(require_role("operator"))]
# Read after the key check (api/params.py, json_body), hence declared after Operator.
AcknowledgeBody = Annotated[AcknowledgeIn | None, Depends(json_body(AcknowledgeIn))]
SilenceBody = Annotated[SilenceIn | None, Depends(json_body(SilenceIn))]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertActionOut,
             responses=_ERRORS, summary="Acknowledge an active alert (operator)",
             openapi_extra=body_docs(AcknowledgeIn, required=False))
async def acknowledge(hub: LiveHubDep, actor: Operator, alert_id: AlertId,
                      body: AcknowledgeBody) -> AlertActionOut:
    """Record who has seen the alert; it holds until the alert clears."""
    alert = hub.alert(alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"no active alert {alert_id!r} (open the dashboard or "
                            "wait for the next refresh)")
    note = body.note if body else None
    ack = await hub.ledger.acknowledge(alert, actor.name, note, now_ms())
    audited(actor, "alert acknowledged", alert_id=alert_id)
    hub.publish_alerts()
    return AlertActionOut(alert_id=alert_id, action="acknowledged", by=ack.by,
                          at=rfc3339_ms(ack.at_ms), note=ack.note)


@router.post("/alerts/{alert_id}/silence", response_model=AlertActionOut, responses=_ERRORS,
             summary="Silence an alert until a time (operator)",
             openapi_extra=body_docs(SilenceIn, required=True))
async def silence(hub: LiveHubDep, actor: Operator, alert_id: AlertId,
                  body: SilenceBody) -> AlertActionOut:
    """No notifications and no attention for the alert until ``until`` (or ``minutes``
    from now), whether it clears and comes back meanwhile or not."""
    if body is None:
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "Field required", "input": None}])
    now = now_ms()
    try:
        until_ms = _until(body, now)
    except ParamError as exc:
        raise as_validation_error(exc, "body") from exc
    quiet = await hub.ledger.silence_until(alert_id, hub.alert(alert_id), until_ms,
                                           actor.name, body.note, now)
    audited(actor, "alert silenced", alert_id=alert_id, until=rfc3339_ms(until_ms))
    hub.publish_alerts()
    return AlertActionOut(alert_id=alert_id, action="silenced", by=quiet.by,
                          at=rfc3339_ms(quiet.at_ms), until=rfc3339_ms(quiet.until_ms),
                          note=quiet.note)


# A path of its own rather than DELETE on .../silence: Starlette's 405 on a path served by
# two routes lists only one route's methods in Allow.
@router.post("/alerts/{alert_id}/unsilence", response_model=AlertActionOut, responses=_ERRORS,
             summary="End an alert's silence now (operator)")
async def unsilence(hub: LiveHubDep, actor: Operator, alert_id: AlertId) -> AlertActionOut:
    """Notifications and attention again from now on."""
    now = now_ms()
    if hub.ledger.silence(alert_id, now) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{alert_id!r} is not silenced")
    await hub.ledger.unsilence(alert_id, actor.name, now)
    audited(actor, "alert unsilenced", alert_id=alert_id)
    hub.publish_alerts()
    return AlertActionOut(alert_id=alert_id, action="unsilenced", by=actor.name,
                          at=rfc3339_ms(now))


@router.get("/alerts/history", response_model=AlertHistoryOut,
            summary="Alerts raised, cleared, acknowledged, silenced and notified")
async def history(
    hub: LiveHubDep,
    start: Annotated[str | None, time_query("inclusive (default: 7 days before end)")] = None,
    end: Annotated[str | None, time_query("exclusive (default: now)")] = None,
    alert_id: Annotated[str | None, Query(max_length=80, pattern=ALERT_ID.pattern,
                                          description="only this alert's events")] = None,
) -> AlertHistoryOut:
    """The events of every alert (or one) in [start, end), newest first."""
    try:
        window = parse_window(start, end, now_ms() * NS_PER_MS, default_s=7 * 86_400,
                              max_s=31 * 86_400)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    start_ms, end_ms = window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS
    events = await hub.ledger.history(start_ms, end_ms, alert_id)
    return AlertHistoryOut.model_validate({"start": rfc3339_ms(start_ms),
                                           "end": rfc3339_ms(end_ms), "events": events})


def _until(body: SilenceIn, now: int) -> int:
    if (body.until is None) == (body.minutes is None):
        raise ParamError("until", "give until or minutes, not both and not neither", body.until)
    if body.minutes is not None:
        return now + body.minutes * 60_000
    until_ms = parse_time("until", str(body.until)) // NS_PER_MS
    if not now < until_ms <= now + MAX_SILENCE_MS:
        raise ParamError("until", "must be in the future and at most 30 days away", body.until)
    return until_ms
