"""Hourly and daily rollups: raw and rolled-up answers agree (emissions and indicators,
completeness included), whole London days come from the daily tier, late readings are
recomputed, coverage stays contiguous, and the scheduler lives and dies with the app (real
InfluxDB)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from api.activity.rollup_job import backfill, run_rollup
from api.activity.rollups import Coverage, read_coverage
from api.clock import HOUR_MS
from api.influx import InfluxStore
from api.main import create_app
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.settings import Settings
from sensors.storage import Measurement
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Row = tuple[Topic, Reading, float | None]
FIRST = datetime(2026, 10, 23, 22, 0, tzinfo=UTC)
HOURS = 72
WINDOW = {"start": "2026-10-24T00:20:00Z", "end": "2026-10-26T22:10:00Z"}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _energy(sensor: str, carrier: Carrier, kwh: float, at: datetime) -> Row:
    return (Topic(Domain.ENERGY, "alpha", sensor),
            EnergyReading(ts=_ms(at), carrier=carrier, energy_kwh=kwh, interval_s=600), None)


def _traffic(sensor: str, counts: dict[VehicleClass, int], at: datetime,
             link_km: float | None) -> Row:
    return (Topic(Domain.TRANSPORT, "beta", sensor),
            TransportReading(ts=_ms(at), interval_s=600, counts=counts, link_km=link_km), None)


def _readings() -> list[Row]:
    """Every 20 minutes for three days across the October clock change, uneven values."""
    vc = VehicleClass
    rows: list[Row] = []
    for step in range(HOURS * 3):
        at = FIRST + timedelta(minutes=20 * step)
        rows += [
            _energy("meter", Carrier.ELECTRICITY, 0.1 + (step % 7) * 0.37, at),
            _energy("boiler", Carrier.GAS, 1.3 + (step % 5) * 0.11, at),
            _energy("pv", Carrier.SOLAR_PV, (step % 11) * 0.07, at),
            _traffic("t-fixed", {vc.CAR: step % 9, vc.BUS: step % 2, vc.HGV: 1}, at, 0.42),
            # The link length changes within hours: the exact (slow) vehicle-km path.
            _traffic("t-uneven", {vc.CAR: 3, vc.VAN: step % 3}, at, 0.2 + (step % 3) * 0.1),
            _traffic("t-nolink", {vc.CAR: 4, vc.PEDESTRIAN: 7}, at, None),
        ]
        if step % 13:  # seq with gaps: completeness counts lost messages
            rows.append((Topic(Domain.ENERGY, "alpha", "seq-meter"),
                         EnergyReading(ts=_ms(at), seq=step, carrier=Carrier.ELECTRICITY,
                                       energy_kwh=0.5, interval_s=1200), None))
        if step % 7:  # an air-quality monitor that skips a field now and then
            no2 = None if step % 5 == 0 else 10.0 + step % 4
            rows.append((Topic(Domain.AIR_QUALITY, "alpha", "aq-1"),
                         AirQualityReading(ts=_ms(at), seq=step, no2_ugm3=no2,
                                           pm25_ugm3=3.0), None))
    return rows


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings


@pytest.fixture
async def store(db: Settings) -> AsyncIterator[tuple[InfluxStore, httpx.AsyncClient]]:
    influx = InfluxStore(db)
    async with httpx.AsyncClient(base_url=db.influx_url, timeout=30) as client:
        yield influx, client
    await influx.aclose()


async def _get(settings: Settings, **params: str) -> dict[str, Any]:
    app = create_app(settings.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app) as client:
        response = await client.get("/api/v1/emissions", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _close(a: float, b: float) -> bool:
    # Answers give kilograms to 3 decimals: raw and rolled-up figures (summed in another
    # order) round alike, or a unit apart at a half; a sum of a few rows, a few units.
    return a == pytest.approx(b, rel=1e-9, abs=0.002)


ROW_FIGURES = ("kgco2e", "avoided_kgco2e", "kgco2", "memo_kgco2e", "avoided_td_kgco2e")


def _close_or_none(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and _close(a, b))


def _assert_agree(raw: dict[str, Any], rolled: dict[str, Any]) -> None:
    for name in ("total_kgco2e", "avoided_kgco2e", "avoided_td_kgco2e", "memo_kgco2e"):
        assert _close(raw[name], rolled[name]), name
    assert _close_or_none(raw["total_kgco2"], rolled["total_kgco2"])
    assert _close(raw["co2"]["known_kgco2"], rolled["co2"]["known_kgco2"])
    assert raw["co2"]["missing"] == rolled["co2"]["missing"]
    assert _close(raw["wtt"]["kgco2e"], rolled["wtt"]["kgco2e"])
    for scope, value in raw["scopes"].items():
        assert _close(value, rolled["scopes"][scope]), scope
    assert raw["disclosures"] == rolled["disclosures"]
    assert len(raw["rows"]) == len(rolled["rows"])
    for one, other in zip(raw["rows"], rolled["rows"], strict=True):
        keys = set(one) - {"activity", *ROW_FIGURES}
        assert {k: one[k] for k in keys} == {k: other[k] for k in keys}
        for name in ROW_FIGURES:
            assert _close_or_none(one[name], other[name]), name
        for name, value in one["activity"].items():
            assert _close(value, other["activity"][name]), name


async def _backfill_all(store: tuple[InfluxStore, httpx.AsyncClient], settings: Settings
                        ) -> Coverage | None:
    influx, _client = store
    return await backfill(influx, _ms(FIRST),
                          _ms(FIRST + timedelta(hours=HOURS)), time.time_ns() // 1_000_000)


@pytest.mark.parametrize(
    ("interval", "group_by", "options"),
    [*((interval, group_by, {}) for interval, group_by in itertools.product(
        ["", "1h", "6h", "1d", "1mo"],
        ["", "sensor", "site", "domain,carrier,vehicle_class"])),
     # Every added figure too: scopes, well-to-tank, CO2 only, the EV memo, one factor set.
     *((interval, "scope,carrier", {"wtt": "true", "ev_charging": "memo"})
       for interval in ("", "1h", "1d")),
     ("1mo", "scope", {"factor_year": "2025", "wtt": "true"})],
)
async def test_raw_and_rollup_agree(db: Settings, store: tuple[InfluxStore, httpx.AsyncClient],
                                    interval: str, group_by: str,
                                    options: dict[str, str]) -> None:
    coverage = await _backfill_all(store, db)
    assert coverage == Coverage(_ms(FIRST), _ms(FIRST) + HOURS * HOUR_MS, _ms(FIRST))
    params = {**WINDOW, "interval": interval, "group_by": group_by, **options}
    raw = await _get(db, source="raw", **params)
    rolled = await _get(db, source="rollup", **params)
    auto = await _get(db, **params)
    assert raw["source"]["rollup_start"] is None
    # Whole hours inside the window come from rollups; the cut edge hours are read raw.
    assert (rolled["source"]["rollup_start"], rolled["source"]["rollup_end"]) == (
        "2026-10-24T01:00:00Z", "2026-10-26T22:00:00Z")
    assert auto["source"] == {**rolled["source"], "requested": "auto"}
    assert raw["total_kgco2e"] > 0
    _assert_agree(raw, rolled)
    _assert_agree(raw, auto)


async def test_auto_reads_covered_hours_of_a_short_window_from_rollups(
        db: Settings, store: tuple[InfluxStore, httpx.AsyncClient]) -> None:
    await _backfill_all(store, db)
    day = {"start": "2026-10-24T00:00:00Z", "end": "2026-10-25T00:30:00Z"}
    auto = await _get(db, **day)
    raw = await _get(db, source="raw", **day)
    # The 24 whole hours from rollups, the last half hour raw; the same figures.
    assert (auto["source"]["rollup_start"], auto["source"]["rollup_end"]) == (
        "2026-10-24T00:00:00Z", "2026-10-25T00:00:00Z")
    _assert_agree(raw, auto)
    # Buckets under an hour cannot come from hourly rollups: auto reads them raw.
    quarter = await _get(db, interval="15m", **day)
    assert quarter["source"]["rollup_start"] is None


async def test_indicators_inside_the_coverage_read_it_once_and_nothing_raw(
        db: Settings, store: tuple[InfluxStore, httpx.AsyncClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    await _backfill_all(store, db)
    sent: list[tuple[bool, str]] = []
    post = InfluxStore._post

    async def recording(self: InfluxStore, statements: Any, params: Any,
                        own: bool = False, *rest: Any) -> httpx.Response:
        sent.extend((own, statement) for statement in statements)
        return await post(self, statements, params, own, *rest)

    # Records what the app sends; the real InfluxDB still answers every query.
    monkeypatch.setattr(InfluxStore, "_post", recording)
    app = create_app(db.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app) as client:  # this period and the one before: both covered
        response = await client.get("/api/v1/indicators", params={
            "start": "2026-10-25T10:00:00Z", "end": "2026-10-26T22:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["source"]["rollup_start"] == "2026-10-25T10:00:00Z"
    state = [one for one in sent if Measurement.ROLLUP_STATE in one[1]]
    assert len(state) == 1
    assert [statement for own, statement in sent if not own] == []


async def test_rewriting_an_hour_overwrites_it(db: Settings,
                                               store: tuple[InfluxStore, httpx.AsyncClient]
                                               ) -> None:
    influx, _ = store
    await _backfill_all(store, db)
    count = f"SELECT count(energy_kwh) FROM {Measurement.ACTIVITY_HOURLY} WHERE time >= 0"
    first = (await influx.query([count]))[0][0].values
    await _backfill_all(store, db)
    assert (await influx.query([count]))[0][0].values == first
    assert first[0][1] == 4 * HOURS  # four meters, one point per hour each


async def test_daily_tier_holds_london_days(db: Settings,
                                            store: tuple[InfluxStore, httpx.AsyncClient]
                                            ) -> None:
    influx, _ = store
    await _backfill_all(store, db)
    # 25 October 2026 is a 25-hour London day (clock change): midnight is 23:00Z the day
    # before; three readings an hour.
    day = "time = '2026-10-24T23:00:00Z'"
    energy, received = await influx.query([
        f"SELECT readings FROM {Measurement.ACTIVITY_DAILY} WHERE sensor = 'meter' AND {day}",
        "SELECT received, seq_min, seq_max, seq_count, n_no2_ugm3 "
        f"FROM {Measurement.RECEIVED_DAILY} WHERE sensor = 'aq-1' AND {day}"])
    assert energy[0].values[0][1] == 75
    _, _, seq_min, seq_max, seq_count, no2 = received[0].values[0]
    steps = [s for s in range(HOURS * 3) if 75 <= s < 150 and s % 7]
    assert (seq_min, seq_max, seq_count) == (steps[0], steps[-1], len(steps))
    assert no2 == len([s for s in steps if s % 5])


async def test_whole_days_are_read_from_the_daily_tier(
        db: Settings, store: tuple[InfluxStore, httpx.AsyncClient]) -> None:
    _, client = store
    await _backfill_all(store, db)
    raw = {i: await _get(db, source="raw", interval=i, **WINDOW) for i in ("1d", "6h")}
    # A doctored daily point: only reads that use the daily tier can see it.
    response = await client.post("/write", params={"db": db.influx_database, "precision": "ms"},
                                 content=f"{Measurement.ACTIVITY_DAILY},carrier=electricity,"
                                 f"domain=energy,sensor=meter,site=alpha energy_kwh=1000.0,"
                                 f"readings=75i {_ms(datetime(2026, 10, 24, 23, tzinfo=UTC))}")
    assert response.status_code == 204
    doctored = await _get(db, source="rollup", interval="1d", **WINDOW)
    assert doctored["total_kgco2e"] > raw["1d"]["total_kgco2e"] + 100
    _assert_agree(raw["6h"], await _get(db, source="rollup", interval="6h", **WINDOW))


async def _indicators(settings: Settings, **params: str) -> dict[str, Any]:
    app = create_app(settings.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app) as client:
        response = await client.get("/api/v1/indicators", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _assert_same(raw: Any, rolled: Any, path: str = "") -> None:
    if isinstance(raw, dict):
        assert set(raw) == set(rolled), path
        for key in raw:
            _assert_same(raw[key], rolled[key], f"{path}.{key}")
    elif isinstance(raw, list):
        assert len(raw) == len(rolled), path
        for index, (one, other) in enumerate(zip(raw, rolled, strict=True)):
            _assert_same(one, other, f"{path}[{index}]")
    elif isinstance(raw, float) and not isinstance(rolled, str):
        assert _close(raw, rolled), path
    else:
        assert raw == rolled, path


@pytest.mark.parametrize("window", [
    WINDOW,  # cut edge hours, a whole 25-hour London day and hours on either side
    {"start": "2026-10-24T00:00:00+01:00", "end": "2026-10-26T00:00:00Z"},  # whole days
])
async def test_indicators_raw_and_rollup_agree(db: Settings,
                                               store: tuple[InfluxStore, httpx.AsyncClient],
                                               window: dict[str, str]) -> None:
    await _backfill_all(store, db)
    raw = await _indicators(db, source="raw", **window)
    rolled = await _indicators(db, source="rollup", **window)
    auto = await _indicators(db, **window)
    assert raw["source"]["rollup_start"] is None
    assert rolled["source"]["rollup_start"] is not None
    assert auto["source"] == {**rolled["source"], "requested": "auto"}
    assert raw["completeness"]["lost_messages"] > 0
    by_sensor = {e["sensor"]: e for e in raw["completeness"]["per_sensor"]}
    assert by_sensor["aq-1"]["received"] > 0
    assert rolled["completeness"] == raw["completeness"]  # counts: exact
    for body in (rolled, auto):
        _assert_same({**raw, "source": None}, {**body, "source": None})


async def test_late_reading_is_picked_up_by_the_next_run(
        db: Settings, store: tuple[InfluxStore, httpx.AsyncClient], influx: InfluxServer) -> None:
    influx_store, _client = store
    now = _ms(FIRST) + HOURS * HOUR_MS + 10 * 60_000  # ten minutes after the last hour
    await backfill(influx_store, _ms(FIRST), now, now)
    params = {**WINDOW, "group_by": "sensor"}
    before = await _get(db, source="rollup", **params)
    # 50 kWh stamped two hours before the last rolled-up hour ends, arriving after the run;
    # and 30 kWh for a day earlier, beyond the six-hour lookback.
    recent = FIRST + timedelta(hours=HOURS - 2, minutes=5)
    old = FIRST + timedelta(hours=HOURS - 30, minutes=5)
    write_readings(influx.url, db.influx_database,
                   [_energy("late", Carrier.ELECTRICITY, 50.0, recent),
                    _energy("late", Carrier.ELECTRICITY, 30.0, old)])
    grid = 0.13096 + 0.01299  # DESNZ 2026
    raw = await _get(db, source="raw", **params)
    assert _close(raw["total_kgco2e"], before["total_kgco2e"] + 80 * grid)
    stale = await _get(db, source="rollup", **params)
    assert _close(stale["total_kgco2e"], before["total_kgco2e"])  # rollups not yet rerun

    await run_rollup(influx_store, db, now + 5 * 60_000)
    after = await _get(db, source="rollup", **params)
    assert _close(after["total_kgco2e"], before["total_kgco2e"] + 50 * grid)
    late = next(row for row in after["rows"] if row["sensor"] == "late")
    assert _close(late["activity"]["energy_kwh"], 50.0)

    # A reading older than the lookback reaches rollups through a backfill.
    await backfill(influx_store, _ms(old), _ms(old) + 1, now)
    _assert_agree(raw, await _get(db, source="rollup", **params))


async def test_coverage_rules(db: Settings, store: tuple[InfluxStore, httpx.AsyncClient]
                              ) -> None:
    influx, _client = store
    assert await read_coverage(influx) is None
    now = _ms(FIRST) + 30 * HOUR_MS + 123
    end = _ms(FIRST) + 30 * HOUR_MS
    since = end - 6 * HOUR_MS
    assert await run_rollup(influx, db, now) == Coverage(since, end, since)
    # The next run an hour later extends coverage; a run after a day-long outage fills the gap.
    assert await run_rollup(influx, db, now + HOUR_MS) == Coverage(since, end + HOUR_MS, since)
    assert await run_rollup(influx, db, now + 25 * HOUR_MS) == Coverage(
        since, end + 25 * HOUR_MS, since)
    # After more than a week away coverage restarts (older hours are then read raw).
    later = now + 25 * HOUR_MS + 8 * 24 * HOUR_MS
    restart = end + (25 + 8 * 24 - 6) * HOUR_MS
    assert await run_rollup(influx, db, later) == Coverage(
        restart, end + (25 + 8 * 24) * HOUR_MS, restart)
    # A backfill joins the gap to the existing coverage, so coverage stays contiguous.
    joined = Coverage(_ms(FIRST), end + (25 + 8 * 24) * HOUR_MS, _ms(FIRST))
    assert await backfill(influx, _ms(FIRST), _ms(FIRST) + HOUR_MS, later) == joined
    assert await read_coverage(influx) == joined


async def test_scheduler_runs_with_the_app_and_stops_with_it(db: Settings) -> None:
    threads = threading.active_count()
    app = create_app(db.model_copy(update={"rollup_interval_s": 0.05}))
    async with api_client(app):
        rollups = app.state.rollups
        assert rollups.running
        with anyio.fail_after(10):
            while await read_coverage(app.state.store) is None:
                await anyio.sleep(0.05)
        assert threading.active_count() == threads  # the job runs on the event loop
    assert not rollups.running
    assert threading.active_count() == threads


async def test_scheduler_off_when_interval_is_zero(db: Settings) -> None:
    app = create_app(db.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app):
        assert not app.state.rollups.running


async def test_a_backfill_past_31_days_gap_included_is_refused(
        db: Settings, store: tuple[InfluxStore, httpx.AsyncClient]) -> None:
    await _backfill_all(store, db)  # coverage: FIRST .. FIRST + 72 h (October 2026)
    # Asked: 1 to 2 January 2025; rolled up would be that day and the 21 months up to
    # October 2026, so that coverage stays contiguous: refused before any work.
    async with api_client(create_app(db.model_copy(update={"rollup_interval_s": 0}))
                          ) as client:
        response = await client.post("/api/v1/rollups/backfill",
                                     params={"start": "2025-01-01", "end": "2025-01-02"})
    assert response.status_code == 422, response.text
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["query", "start"]
    assert "in steps" in issue["msg"]
    assert "2026-10-23T22:00:00Z" in issue["msg"]  # where the coverage starts
    influx, _ = store
    assert await read_coverage(influx, fresh=True) == Coverage(
        _ms(FIRST), _ms(FIRST) + HOURS * HOUR_MS, _ms(FIRST))  # unchanged
