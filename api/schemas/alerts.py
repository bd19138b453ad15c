"""Response and request models of ``/api/v1/alerts`` and the sensor actions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of

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
    note: str | None = Field(None, max_length=500, description="why, for the record")


class AlertActionOut(BaseModel):
    """What an acknowledgement or a silence recorded."""

    model_config = ConfigDict(json_schema_extra=examples_of("alert_action"))

    alert_id: str = Field(description="the alert's id: its kind and sensor or site "
                          "(docs/live.md)")
    action: Literal["acknowledged", "silenced", "unsilenced"] = Field(
        description="what was recorded")
    by: str = Field(description="the key that acted (its name)")
    at: str = Field(description="RFC 3339 UTC")
    until: str | None = Field(None, description="silences: when the silence ends")
    note: str | None = Field(None, description="the note given with the action")


class AlertEventOut(BaseModel):
    """One event in an alert's life."""

    at: str = Field(description="RFC 3339 UTC time of the event")
    alert_id: str = Field(description="the alert's id: its kind and sensor or site")
    event: AlertEventKind = Field(description="what happened to the alert")
    kind: str = Field(description="the alert's kind: sensor_silent, seq_gap, "
                      "dead_letter_spike, daqi_high, ingest_dropping")
    severity: Literal["warning", "critical"] | None = Field(
        description="the alert's severity when raised (null for actions)")
    site: str | None = Field(description="the site it concerns, if any")
    sensor: str | None = Field(description="the sensor it concerns, if any")
    message: str | None = Field(description="the alert's text (raised, cleared) or the "
                                "webhook's error (notify_failed)")
    since: str | None = Field(description="when the condition began (raised, cleared)")
    until: str | None = Field(description="silenced: until when")
    by: str | None = Field(description="the key that acted (acknowledged, silenced)")
    note: str | None = Field(description="acknowledged, silenced: the note given")
    attempts: int | None = Field(description="notified, notify_failed: posts tried")


class AlertHistoryOut(BaseModel):
    """``GET /api/v1/alerts/history``: newest first, at most 1,000."""

    model_config = ConfigDict(json_schema_extra=examples_of("alert_history"))

    start: str = Field(description="RFC 3339: the window's start (inclusive)")
    end: str = Field(description="RFC 3339: the window's end (exclusive)")
    events: list[AlertEventOut] = Field(description="newest first, at most 1,000")


class RetireIn(BaseModel):
    """``POST /api/v1/sensors/{sensor_id}/retire``."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="why, for the record")


class SensorFlagOut(BaseModel):
    """A sensor's retirement after an action."""

    model_config = ConfigDict(json_schema_extra=examples_of("sensor_flag"))

    sensor: str = Field(description="the sensor's id")
    retired: bool = Field(description="true: out of service (no alerts, no completeness)")
    by: str = Field(description="the key that acted (its name)")
    at: str = Field(description="RFC 3339 UTC time of the action")
    reason: str | None = Field(description="the reason given when retiring")
