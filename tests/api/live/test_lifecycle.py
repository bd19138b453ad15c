"""The alert lifecycle against a real influxd and a real webhook receiver: acknowledge
(operator), silence, history, notifications with retries, and all of it across a restart
of the API."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.live.alerts import Alert
from api.live.lifecycle import Acknowledgement, AlertLedger
from api.live.notifications import notification
from api.main import create_app
from sensors.readings import Carrier, EnergyReading
from sensors.registry import Registry
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, meters_registry, write_readings
from tests.api.live.webhook_receiver import Receiver, webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KEYS = "wall:viewer:viewer-secret-1,duty:operator:operator-secret-1"
VIEWER = {"X-API-Key": "viewer-secret-1"}
OPERATOR = {"X-API-Key": "operator-secret-1"}
ALERT = "sensor_silent:meter-a"
LONDON = ZoneInfo("Europe/London")


def _registry() -> Registry:
    return meters_registry("meter-a")


def _reading(ts_ms: int) -> tuple[Topic, EnergyReading, None]:
    return (Topic(Domain.ENERGY, "alpha", "meter-a"),
            EnergyReading(ts=ts_ms, carrier=Carrier.ELECTRICITY, energy_kwh=1.0,
                          interval_s=60), None)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    with anyio.fail_after(timeout_s):
        while not check():
            await anyio.sleep(0.05)


def _active(event_data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {alert["id"]: alert for alert in event_data["active"]}


async def _alerts(app: FastAPI) -> dict[str, Any]:
    events = await app.state.live_hub.tick()
    (alerts,) = [event.data for event in events if event.name == "alerts"]
    return dict(alerts)


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    last = _now_ms() - 10 * 60_000  # silent: no reading for 10 minutes (3 intervals: 3 min)
    write_readings(influx.url, settings.influx_database, [_reading(last)])
    return settings.model_copy(update={"api_keys": SecretStr(KEYS), "rollup_interval_s": 0,
                                       "alert_webhook_attempts": 3})


async def test_acknowledge_silence_history_and_notifications_survive_a_restart(
        db: Settings, influx: InfluxServer) -> None:
    with webhook_receiver(Receiver()) as receiver:
        config = db.model_copy(update={"alert_webhook_url": SecretStr(receiver.url)})
        app = create_app(config, registry=_registry())
        async with api_client(app) as client:
            alerts = await _alerts(app)
            alert = _active(alerts)[ALERT]
            assert alert["acknowledged"] is None
            assert alert["silenced"] is None
            assert alerts["attention"] == 1
            # The message gives the last reading (since - 3 intervals) on the London clock.
            since = datetime.fromisoformat(str(alert["since"]))
            last = (since - timedelta(minutes=3)).astimezone(LONDON)
            assert f"{last:%H:%M:%S}" in str(alert["message"])
            zone = last.tzname()
            assert zone is not None
            assert zone in str(alert["message"])
            assert not re.search(r"\d{4}-\d{2}-\d{2}T", str(alert["message"]))
            await _eventually(lambda: receiver.events() == ["raised"])
            raised = receiver.bodies[0]
            assert raised["source"] == "smartplace"
            assert raised["alert"]["id"] == ALERT
            assert raised["text"].startswith("Warning: Sensor silent: meter-a: no reading since")

            refused = await client.post(f"/api/v1/alerts/{ALERT}/acknowledge", headers=VIEWER)
            assert refused.status_code == 403
            absent = await client.post("/api/v1/alerts/seq_gap:meter-a/acknowledge",
                                       headers=OPERATOR)
            assert absent.status_code == 404
            done = await client.post(f"/api/v1/alerts/{ALERT}/acknowledge", headers=OPERATOR,
                                     json={"note": "engineer on the way"})
            assert done.status_code == 200
            assert done.json()["by"] == "duty"
            await _eventually(lambda: receiver.events() == ["raised", "acknowledged"])
            assert receiver.bodies[1]["by"] == "duty"
            assert receiver.bodies[1]["note"] == "engineer on the way"
            silenced = await client.post(f"/api/v1/alerts/{ALERT}/silence", headers=OPERATOR,
                                         json={"minutes": 90})
            assert silenced.status_code == 200
            until = silenced.json()["until"]
            bad = await client.post(f"/api/v1/alerts/{ALERT}/silence", headers=OPERATOR,
                                    json={"until": "2020-01-01T00:00:00Z"})
            assert bad.status_code == 422
            alerts = await _alerts(app)
            alert = _active(alerts)[ALERT]
            assert alert["acknowledged"]["by"] == "duty"
            assert alert["silenced"]["until"] == until
            assert alerts["attention"] == 0
            await _eventually(lambda: len(receiver.bodies) == 2)
            history = (await client.get("/api/v1/alerts/history", headers=VIEWER,
                                        params={"alert_id": ALERT})).json()
            kinds = [event["event"] for event in history["events"]]
            assert kinds[:3] == ["silenced", "acknowledged", "raised"] or (
                set(kinds) >= {"silenced", "acknowledged", "raised", "notified"})
            ack = next(e for e in history["events"] if e["event"] == "acknowledged")
            assert (ack["by"], ack["note"]) == ("duty", "engineer on the way")
        sent_before_restart = len(receiver.bodies)

        # A new API process (same database): the lifecycle is read back from InfluxDB.
        restarted = create_app(config, registry=_registry())
        async with api_client(restarted) as client:
            alerts = await _alerts(restarted)
            alert = _active(alerts)[ALERT]
            assert alert["acknowledged"]["by"] == "duty"
            assert alert["acknowledged"]["note"] == "engineer on the way"
            assert alert["silenced"]["until"] == until
            await anyio.sleep(0.5)
            assert len(receiver.bodies) == sent_before_restart  # the same occurrence: no re-send
            ended = await client.post(f"/api/v1/alerts/{ALERT}/unsilence", headers=OPERATOR)
            assert ended.status_code == 200
            assert (await client.post(f"/api/v1/alerts/{ALERT}/unsilence",
                                      headers=OPERATOR)).status_code == 404
            # The sensor reports again: the alert clears, and the receiver hears of it.
            write_readings(db.influx_url, db.influx_database, [_reading(_now_ms() - 1000)])
            restarted.state.flags.forget()
            alerts = await _alerts(restarted)
            assert ALERT not in _active(alerts)
            (cleared,) = alerts["cleared"]
            assert cleared["id"] == ALERT
            await _eventually(lambda: receiver.events()[-1] == "cleared")


async def test_a_failing_webhook_is_retried_with_backoff(
        db: Settings) -> None:
    with webhook_receiver(Receiver(fail_first=2)) as receiver:
        config = db.model_copy(update={"alert_webhook_url": SecretStr(receiver.url)})
        app = create_app(config, registry=_registry())
        async with api_client(app) as client:
            await _alerts(app)
            # 500, 500, then 200: delivered on the third attempt, after 1 s and 2 s.
            await _eventually(lambda: receiver.events() == ["raised"], timeout_s=20)
            assert receiver.attempts == 3

            async def delivered() -> bool:
                history = (await client.get("/api/v1/alerts/history", headers=VIEWER)).json()
                return any(e["event"] == "notified" and e["attempts"] == 3
                           for e in history["events"])

            with anyio.fail_after(10):
                while not await delivered():
                    await anyio.sleep(0.1)
            metrics = (await client.get("/metrics", headers=VIEWER)).text
            assert 'smartplace_api_alert_notifications_total{outcome="sent"} 1.0' in metrics


async def test_a_receiver_that_never_answers_does_not_hold_up_the_poller(db: Settings) -> None:
    with webhook_receiver(Receiver(hold=True)) as hanging:
        config = db.model_copy(update={"alert_webhook_url": SecretStr(hanging.url)})
        app = create_app(config, registry=_registry())
        async with api_client(app):
            await _alerts(app)
            await _eventually(hanging.arrived.is_set)
            # The receiver holds the request: the poller goes on regardless.
            for _ in range(3):
                alerts = await _alerts(app)
                assert ALERT in _active(alerts)
            assert not hanging.bodies


async def test_the_webhook_url_is_never_logged(db: Settings,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with webhook_receiver(Receiver(fail_first=5)) as receiver:
        config = db.model_copy(update={"alert_webhook_url": SecretStr(receiver.url),
                                       "alert_webhook_attempts": 2})
        app = create_app(config, registry=_registry())
        with caplog.at_level(logging.DEBUG):
            async with api_client(app):
                await _alerts(app)
                await _eventually(lambda: receiver.attempts == 2, timeout_s=10)
                await anyio.sleep(0.3)
    assert "gave up" in caplog.text
    assert "s3cret" not in caplog.text
    assert "/hooks/" not in caplog.text


async def test_the_key_is_checked_before_the_body(db: Settings) -> None:
    app = create_app(db, registry=_registry())
    garbage = b"\xff{not json"
    json_type = {"Content-Type": "application/json"}
    async with api_client(app) as client:
        await _alerts(app)
        for path in (f"/api/v1/alerts/{ALERT}/acknowledge", f"/api/v1/alerts/{ALERT}/silence",
                     "/api/v1/sensors/meter-a/retire"):
            answers = [await client.post(path, content=garbage, headers={**json_type, **key})
                       for key in ({}, VIEWER, OPERATOR)]
            assert [one.status_code for one in answers] == [401, 403, 422], path
            assert answers[2].json()["detail"][0]["loc"][0] == "body"
        unknown = await client.post(f"/api/v1/alerts/{ALERT}/acknowledge", headers=OPERATOR,
                                    json={"note": "x", "by": "someone else"})
        assert unknown.status_code == 422
        empty = await client.post(f"/api/v1/alerts/{ALERT}/silence", headers=OPERATOR)
        assert empty.status_code == 422
        both = await client.post(f"/api/v1/alerts/{ALERT}/silence", headers=OPERATOR,
                                 json={"minutes": 5, "until": "2030-01-01T00:00:00Z"})
        assert both.json()["detail"][0]["loc"] == ["body", "until"]


def test_an_acknowledgement_holds_for_its_occurrence_only() -> None:
    ledger = AlertLedger(store=None)  # type: ignore[arg-type]  # no I/O in these methods
    alert = Alert(ALERT, "sensor_silent", "warning", "alpha", "meter-a", "m", since_ms=1_000)
    ledger._acks[ALERT] = Acknowledgement("duty", 5_000, None)
    assert ledger.acknowledgement(alert) is not None
    # The condition began again after the acknowledgement: a new occurrence.
    again = Alert(ALERT, "sensor_silent", "warning", "alpha", "meter-a", "m", since_ms=6_000)
    assert ledger.acknowledgement(again) is None
    # It cleared after the acknowledgement: the acknowledgement is spent.
    ledger._cleared_at[ALERT] = 7_000
    assert ledger.acknowledgement(alert) is None


def test_notification_body_for_slack_teams_and_pagers() -> None:
    alert = Alert("daqi_high:town-hall", "daqi_high", "critical", "town-hall", None,
                  "town-hall: DAQI 10 (Very High), from no2", since_ms=1_795_000_000_000)
    body = notification("raised", alert, 1_795_000_060_000)
    assert body["text"] == ("Critical: Air quality high: town-hall: DAQI 10 (Very High), "
                            "from no2 (since Wed 18 Nov 11:06:40 GMT)")
    assert body["alert"]["since"] == "2026-11-18T11:06:40.000Z"
    assert body["alert"]["since_london"] == "Wed 18 Nov 11:06:40 GMT"
    assert body["event"] == "raised"
