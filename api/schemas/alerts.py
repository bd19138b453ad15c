"""Response and request models of ``/api/v1/alerts`` and the sensor actions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertEventKind = Literal["raised", "cleared", "acknowledged", "silenced", "unsilenced",
                         "notified", "notify_failed"]


class AcknowledgeIn(BaseModel):
    """``POST /api/v1/alerts/{alert_id}/acknowledge``."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=500, description="what is being done about it")


class SilenceIn(BaseModel):
    """``POST /api/v1/alerts/{alert_id}/silence``: until a time, or for some minutes."""

    model_config = ConfigDict(extra="forbid")

    until: str | None = Field(None, max_length=64,
                              description="RFC 3339 with offset, in the next 30 days")
    minutes: int | None = Field(None, ge=1, le=30 * 24 * 60,
                                description="instead of until: this many minutes from now")
    note: str | None = Field(None, max_length=500)


class AlertActionOut(BaseModel):
    """What an acknowledgement or a silence recorded."""

    alert_id: str
    action: Literal["acknowledged", "silenced", "unsilenced"]
    by: str = Field(description="the key that acted (its name)")
    at: str = Field(description="RFC 3339 UTC")
    until: str | None = Field(None, description="silences: when the silence ends")
    note: str | None = None


class AlertEventOut(BaseModel):
    """One event in an alert's life."""

    at: str
    alert_id: str
    event: AlertEventKind
    kind: str
    severity: Literal["warning", "critical"] | None
    site: str | None
    sensor: str | None
    message: str | None
    since: str | None = Field(description="when the condition began (raised, cleared)")
    until: str | None = Field(description="silenced: until when")
    by: str | None = Field(description="the key that acted (acknowledged, silenced)")
    note: str | None
    attempts: int | None = Field(description="notified, notify_failed: posts tried")


class AlertHistoryOut(BaseModel):
    """``GET /api/v1/alerts/history``: newest first, at most 1,000."""

    start: str
    end: str
    events: list[AlertEventOut]


class RetireIn(BaseModel):
    """``POST /api/v1/sensors/{sensor_id}/retire``."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="why, for the record")


class SensorFlagOut(BaseModel):
    """A sensor's retirement after an action."""

    sensor: str
    retired: bool
    by: str = Field(description="the key that acted (its name)")
    at: str
    reason: str | None
