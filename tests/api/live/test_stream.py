"""``GET /api/v1/live`` against a real InfluxDB: events, values, alerts, errors, shutdown.

``httpx.ASGITransport`` collects a whole response before returning it, so it can never
read an endless stream: :class:`StreamingTransport` below hands the body over chunk by
chunk and, when the client closes the response, tells the app the client disconnected
and waits (bounded) for the app to finish: a stream that ignored the disconnect fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, MutableMapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import orjson
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.live.hub import LiveHub
from api.live.sse import rfc3339_ms
from api.main import API_PREFIX, close_streams, create_app
from sensors.factors import load_factors
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import create_database, write_readings
from tests.api.live.helpers import parse_frames

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Written = tuple[Topic, Reading, float | None]


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue[bytes | None], disconnect: asyncio.Event,
                 task: asyncio.Task[None]) -> None:
        self._chunks, self._disconnect, self._task = chunks, disconnect, task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._disconnect.set()
        with anyio.fail_after(3):  # the app must stop streaming promptly
            await self._task


class StreamingTransport(httpx.AsyncBaseTransport):
    """An in-process ASGI transport that streams response bodies."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        started, disconnect = asyncio.Event(), asyncio.Event()
        head: dict[str, Any] = {}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head.update(status=message["status"], headers=message.get("headers", []))
                started.set()
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    chunks.put_nowait(message["body"])
                if not message.get("more_body", False):
                    chunks.put_nowait(None)

        async def run() -> None:
            try:
                await self.app({
                    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                    "method": request.method, "scheme": "http", "root_path": "",
                    "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
                    "query_string": request.url.query, "server": ("testserver", 80),
                    "client": ("127.0.0.1", 1234),
                    "headers": [(k.lower(), v) for k, v in request.headers.raw],
                }, receive, send)
            finally:
                started.set()
                chunks.put_nowait(None)

        task = asyncio.get_running_loop().create_task(run())
        await started.wait()
        if "status" not in head:
            await task  # raises what the app raised
        return httpx.Response(head["status"], headers=head["headers"],
                              stream=_Body(chunks, disconnect, task))


def live_app(settings: Settings) -> FastAPI:
    """The app as the factory builds it (the live route is part of it)."""
    app = create_app(settings)
    assert app.url_path_for("live") == f"{API_PREFIX}/live"
    return app


@asynccontextmanager
async def streaming_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the app inside its lifespan; asserts the poller is gone afterwards."""
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=StreamingTransport(app),
                                     base_url="http://testserver") as client:
            yield client
        hub = getattr(app.state, "live_hub", None)
        assert hub is None or hub._task is None, "the poller outlived its last client"
    assert getattr(app.state, "live_hub", None) is None


class Events:
    """Parsed events of one open stream; every wait is bounded."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_text()
        self._buffer = ""
        self._ready: list[tuple[str, dict[str, str]]] = []
        self.ids: list[int] = []

    async def next(self, timeout_s: float = 5.0) -> tuple[str, dict[str, Any]]:
        with anyio.fail_after(timeout_s):
            while not self._ready:
                self._buffer += await self._chunks.__anext__()
                complete, _, self._buffer = self._buffer.rpartition("\n\n")
                self._ready += parse_frames(complete + "\n\n") if complete else []
        name, fields = self._ready.pop(0)
        self.ids.append(int(fields["id"]))
        return name, orjson.loads(fields["data"])

    async def rest(self, timeout_s: float = 3.0) -> list[tuple[str, dict[str, str]]]:
        """The events until the stream ends (which must happen within the timeout)."""
        with anyio.fail_after(timeout_s):
            async for chunk in self._chunks:
                self._buffer += chunk
        return [*self._ready, *parse_frames(self._buffer)]

    async def until(self, name: str, check: Callable[[dict[str, Any]], bool] = lambda _: True,
                    timeout_s: float = 8.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            got, data = await self.next(max(0.01, deadline - time.monotonic()))
            if got == name and check(data):
                return data


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _energy(sensor: str, site: str, carrier: Carrier, ts: int, kwh: float,
            interval_s: int = 60, seq: int | None = None) -> Written:
    return (Topic(Domain.ENERGY, site, sensor),
            EnergyReading(ts=ts, carrier=carrier, energy_kwh=kwh, interval_s=interval_s,
                          seq=seq), None)


def _write_lines(influx: InfluxServer, settings: Settings, lines: Iterable[str]) -> None:
    response = httpx.post(f"{influx.url}/write",
                          params={"db": settings.influx_database, "precision": "ms"},
                          content="\n".join(lines).encode(), timeout=10)
    assert response.status_code == 204, response.text


def _gross_today(readings: list[Written], now: int) -> float:
    """kgCO2e of the readings since London midnight, from the factor table by hand."""
    local = datetime.fromtimestamp(now / 1000, ZoneInfo("Europe/London"))
    midnight = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    factors = load_factors()
    per_kwh = {Carrier.ELECTRICITY: factors.value("electricity.generation")
               + factors.value("electricity.td"), Carrier.GAS: factors.value("gas")}
    per_kwh[Carrier.EV_CHARGING] = per_kwh[Carrier.ELECTRICITY]
    total = 0.0
    for _, reading, link_km in readings:
        if reading.ts < midnight:
            continue
        if isinstance(reading, EnergyReading):
            total += reading.energy_kwh * per_kwh[reading.carrier]
        elif isinstance(reading, TransportReading) and link_km:
            total += sum(count * link_km * factors.value(f"vehicle.{vc.value}")
                         for vc, count in reading.counts.items()
                         if vc not in (VehicleClass.BICYCLE, VehicleClass.PEDESTRIAN))
    return total


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    return settings


async def test_hello_now_series_sensors(db: Settings, influx: InfluxServer) -> None:
    now = _now_ms()
    electric = [_energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - age, 3.0)
                for age in (10_000, 70_000, 130_000, 190_000)]
    readings = [
        *electric,
        _energy("mw-ev-car-park", "merseyway", Carrier.EV_CHARGING, now - 100_000, 1.0),
        _energy("mw-gas-boiler", "merseyway", Carrier.GAS, now - 50_000, 0.5),
        # Outside the 5-minute window: in the series, not in `now`.
        _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - 400_000, 100.0),
        (Topic(Domain.TRANSPORT, "interchange", "tr-daw-bank"), TransportReading(
            ts=now - 30_000, interval_s=60, counts={
                VehicleClass.CAR: 10, VehicleClass.BUS: 2, VehicleClass.BICYCLE: 3,
                VehicleClass.PEDESTRIAN: 20}), 0.35),
        # 50 one-minute readings in the last hour: at least the 45 (75 % of the 60 a 60 s
        # monitor sends) that make an hour's NO2 mean count for the DAQI.
        *((Topic(Domain.AIR_QUALITY, "station", "aq-station"),
           AirQualityReading(ts=now - 20_000 - k * 60_000, no2_ugm3=40.0), None)
          for k in range(50)),
    ]
    write_readings(influx.url, db.influx_database, readings)
    async with streaming_client(live_app(db)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = Events(response)
        name, hello = await events.next()
        assert name == "hello"
        assert [s["id"] for s in hello["sensors"]] == [s.id for s in load_registry().sensors]
        assert hello["refresh_s"] == db.live_refresh_s
        assert {"id", "name", "lat", "lon"} <= set(hello["sites"][0])

        current = await events.until("now")
        assert current["electricity_kw"] == pytest.approx(12.0 * 12)  # 12 kWh in 1/12 h
        assert current["ev_charging_kw"] == pytest.approx(12.0)
        assert current["gas_kw"] == pytest.approx(6.0)
        assert current["solar_kw"] is None  # no data is not zero
        assert current["traffic_vehicles_per_hour"] == pytest.approx(12 * 12)
        assert current["bicycles_per_hour"] == pytest.approx(36)
        assert current["pedestrians_per_hour"] == pytest.approx(240)
        assert current["worst_daqi"] == {"site": "station", "index": 1, "band": "Low",
                                         "pollutant": "no2"}

        hour = await events.until("series", lambda d: d["window"] == "1h")
        assert hour["step_s"] == 60
        assert len(hour["energy_kw"]) == len(hour["traffic_vph"]) == len(hour["no2_ugm3"]) == 60
        step = 60_000
        expected: dict[int, float] = {}
        for _, reading, _ in readings:
            if isinstance(reading, EnergyReading) and reading.carrier in (
                    Carrier.ELECTRICITY, Carrier.EV_CHARGING):
                bucket = reading.ts // step * step
                expected[bucket] = expected.get(bucket, 0.0) + reading.energy_kwh * 60
        for t, electric, _gas, solar in hour["energy_kw"]:
            assert electric == pytest.approx(expected.get(t)), t
            assert solar is None
        day = await events.until("series", lambda d: d["window"] == "24h")
        assert (day["step_s"], len(day["energy_kw"])) == (900, 96)

        sensors = await events.until("sensors")
        status = {s["id"]: s for s in sensors["sensors"]}
        assert status["mw-elec-main"]["status"] == "reporting"
        assert status["mw-elec-main"]["last_seen"] == rfc3339_ms(now - 10_000)
        assert status["th-elec-main"]["status"] == "silent"
        assert status["th-elec-main"]["last_seen"] is None
        assert sum(sensors["counts"].values()) == len(sensors["sensors"])

        alerts = await events.until("alerts")
        assert alerts["active"] == []  # never-seen sensors raise nothing
        carbon = await events.until("carbon")
        assert carbon["today_kgco2e"] == pytest.approx(_gross_today(readings, now))
        assert carbon["yesterday_same_time_kgco2e"] == 0
        assert carbon["change_pct"] is None  # no yesterday to compare with
        assert events.ids == list(range(1, len(events.ids) + 1))


async def test_sensor_silent_raised_then_cleared(db: Settings, influx: InfluxServer) -> None:
    settings = db.model_copy(update={"live_refresh_s": 0.2})
    first = _now_ms()
    write_readings(influx.url, db.influx_database,
                   [_energy("rogue-1", "nowhere", Carrier.ELECTRICITY, first, 0.01, interval_s=1)])
    async with streaming_client(live_app(settings)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        sensors = await events.until("sensors")
        assert any(s["id"] == "rogue-1" and s["registered"] is False for s in sensors["sensors"])
        raised = await events.until("alerts", lambda d: any(
            a["id"] == "sensor_silent:rogue-1" for a in d["active"]))
        (alert,) = [a for a in raised["active"] if a["id"] == "sensor_silent:rogue-1"]
        assert alert["since"] == rfc3339_ms(first + 3000)
        assert (alert["kind"], alert["site"], alert["sensor"]) == (
            "sensor_silent", "nowhere", "rogue-1")
        write_readings(influx.url, db.influx_database, [
            _energy("rogue-1", "nowhere", Carrier.ELECTRICITY, _now_ms(), 0.01, interval_s=1)])
        cleared = await events.until("alerts", lambda d: not d["active"])
        assert [a["id"] for a in cleared["cleared"]] == ["sensor_silent:rogue-1"]
        assert cleared["cleared"][0]["cleared_at"] is not None


async def test_seq_gap_dead_letter_spike_and_pipeline(db: Settings, influx: InfluxServer) -> None:
    now = _now_ms()
    def minutes_ago(m: int) -> int:
        return now - 5_000 - m * 60_000

    lossy = [_energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, minutes_ago(4 - i),
                     1.0, seq=seq) for i, seq in enumerate([1, 2, 3, 6, 7])]
    # seq going down is a restart: nothing was lost.
    restarted = [_energy("mw-gas-boiler", "merseyway", Carrier.GAS, minutes_ago(4 - i),
                         1.0, seq=seq) for i, seq in enumerate([50, 51, 0, 1, 2])]
    write_readings(influx.url, db.influx_database, lossy + restarted)
    burst = [now - 70_000 + i for i in range(12)]
    lines = [f'dead_letter,reason={"payload_not_json" if i % 3 else "field_missing"} '
             f'topic="t",payload="p",detail="d" {ts}' for i, ts in enumerate(burst)]
    lines += [f'dead_letter,reason=topic_invalid topic="t",payload="p",detail="d" '
              f'{now - 40 * 60_000 + i}' for i in range(6)]
    lines += [
        "ingest_stats,instance=ing-a received=1000i,stored=990i,dead_letters=2i,batches=10i,"
        f"write_seconds_total=0.5,queue_depth=5i,lag_seconds=0.25 {now - 8000}",
        "ingest_stats,instance=ing-a received=1050i,stored=1040i,dead_letters=7i,batches=15i,"
        f"write_seconds_total=1.0,queue_depth=7i,lag_seconds=0.2 {now - 3000}",
        "ingest_stats,instance=ing-b received=10i,stored=10i,dead_letters=0i,batches=1i,"
        f"write_seconds_total=0.01,queue_depth=3i,lag_seconds=0.5 {now - 2000}",
    ]
    _write_lines(influx, db, lines)
    async with streaming_client(live_app(db)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        pipeline = await events.until("pipeline")
        assert pipeline["messages_in_per_s"] == pytest.approx(10.0)  # 50 in 5 s
        assert pipeline["stored_per_s"] == pytest.approx(10.0)
        assert pipeline["dead_letters_per_s"] == pytest.approx(1.0)
        assert pipeline["write_ms"] == pytest.approx(100.0)  # 0.5 s over 5 batches
        assert pipeline["lag_s"] == pytest.approx(0.5)
        assert pipeline["queue_depth"] == 10
        assert pipeline["ingestors"] == 2
        assert pipeline["dead_letters_by_reason"] == {"field_missing": 4, "payload_not_json": 8}

        alerts = {a["id"]: a for a in (await events.until("alerts"))["active"]}
        assert set(alerts) == {"seq_gap:mw-elec-main", "dead_letter_spike"}
        gap = alerts["seq_gap:mw-elec-main"]
        assert gap["since"] == rfc3339_ms(lossy[3][1].ts)  # the reading after the gap
        assert "2 messages lost" in gap["message"]
        spike = alerts["dead_letter_spike"]
        assert spike["since"] == rfc3339_ms(burst[0] // 60_000 * 60_000)
        assert spike["message"].startswith("12 dead letters in the last 5 min")


async def test_daqi_high_alert_and_worst_site(db: Settings, influx: InfluxServer) -> None:
    now = _now_ms()
    times = [now - m * 60_000 for m in range(1, 51)]  # 50 one-minute readings
    write_readings(influx.url, db.influx_database, [
        (Topic(Domain.AIR_QUALITY, "station", "aq-station"),
         AirQualityReading(ts=ts, no2_ugm3=700.0), None) for ts in times])
    hour = now // 3_600_000 * 3_600_000
    # At the last whole hour the NO2 hour had enough readings (45 of 60) only if 45 fell
    # before it.
    since = hour - 3_600_000 if sum(ts < hour for ts in times) >= 45 else hour
    async with streaming_client(live_app(db)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        current = await events.until("now")
        assert current["worst_daqi"] == {"site": "station", "index": 10, "band": "Very High",
                                         "pollutant": "no2"}
        alerts = (await events.until("alerts"))["active"]
        assert [(a["id"], a["severity"], a["since"]) for a in alerts] == [
            ("daqi_high:station", "critical", rfc3339_ms(since))]


async def test_heartbeat_and_disconnect(db: Settings) -> None:
    app = live_app(db.model_copy(update={"live_heartbeat_s": 0.2, "live_refresh_s": 60}))
    async with streaming_client(app) as client:
        async with client.stream("GET", "/api/v1/live") as response:
            events = Events(response)
            beat = await events.until("heartbeat", timeout_s=3)
            assert beat["at"].endswith("Z")
            hub = app.state.live_hub
            assert isinstance(hub, LiveHub)
            assert hub._task is not None
        # Leaving the block closed the stream: the generator and the poller stopped.
        assert hub._task is None


async def test_shutdown_ends_open_streams(db: Settings) -> None:
    app = live_app(db)
    async with streaming_client(app) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        assert (await events.next())[0] == "hello"
        await close_streams(app)  # what the server does when shutdown begins
        assert await events.rest() == []  # the stream ended, without an error


async def test_api_key_required_when_configured(db: Settings) -> None:
    app = live_app(db.model_copy(update={"api_keys": SecretStr("alpha")}))
    async with streaming_client(app) as client:
        assert (await client.get("/api/v1/live")).status_code == 401
        # A reconnecting client's Last-Event-ID changes nothing: hello and snapshots anew.
        headers = {"X-API-Key": "alpha", "Last-Event-ID": "42"}
        async with client.stream("GET", "/api/v1/live", headers=headers) as ok:
            assert ok.status_code == 200
            events = Events(ok)
            assert (await events.next())[0] == "hello"
            assert events.ids == [1]


async def test_store_down_sends_error_and_goes_on() -> None:
    settings = Settings(_env_file=None,
                        influx_url=f"http://127.0.0.1:{free_port()}", live_refresh_s=0.2)
    async with streaming_client(live_app(settings)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        first = await events.until("error")
        assert "unreachable" in first["message"]
        assert "now" in first["failed"]
        second = await events.until("error")
        assert second["at"] > first["at"]
