"""What the dashboard's sensor view and range picker read, against a real InfluxDB:
``GET /api/v1/sensors/{id}/readings`` (the latest readings and their ``seq`` gaps) and
``GET /api/v1/live/series`` (the trend charts over 7 days or a custom range)."""

from __future__ import annotations

import pytest

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading
from sensors.settings import Settings
from sensors.timestamps import now_ms
from sensors.topics import Domain, Topic
from simulators.registration import register_simulated
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, meter, meters_registry, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WEEK_START, WEEK_END = "2025-06-01T00:00:00Z", "2025-06-08T00:00:00Z"
SIMULATED = meter("sim-energy-0001")


def _energy(sensor: str, ts_ms: int, kwh: float, seq: int | None = None
            ) -> tuple[Topic, Reading, float | None]:
    return (Topic(Domain.ENERGY, "alpha", sensor),
            EnergyReading(ts=ts_ms, carrier=Carrier.ELECTRICITY, energy_kwh=kwh, interval_s=60,
                          seq=seq), None)


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    return settings.model_copy(update={"rollup_interval_s": 0})


async def test_the_latest_readings_and_their_seq_gaps(db: Settings) -> None:
    # One a minute over the last 12 minutes: seq 0-3, then 6-8 (4 and 5 never arrived),
    # then a restart at 0 (nothing lost), then 1 and 2.
    first = now_ms() - 12 * 60_000
    seqs = [0, 1, 2, 3, 6, 7, 8, 0, 1, 2]
    write_readings(db.influx_url, db.influx_database, [
        _energy("meter-a", first + k * 60_000, 0.5 + k, seq) for k, seq in enumerate(seqs)])
    app = create_app(db, registry=meters_registry("meter-a"))
    async with api_client(app) as client:
        answer = (await client.get("/api/v1/sensors/meter-a/readings")).json()
        empty = (await client.get("/api/v1/sensors/meter-a/readings", params={
            "start": "2025-06-01T00:00:00Z", "end": "2025-06-01T01:00:00Z"})).json()
        too_long = await client.get("/api/v1/sensors/meter-a/readings", params={
            "start": "2025-06-01T00:00:00Z", "end": "2025-06-09T00:00:00Z"})
        hostile = await client.get("/api/v1/sensors/x' OR 1=1/readings")
    assert answer["domain"] == "energy"
    assert [one["seq"] for one in answer["readings"]] == seqs  # oldest first
    assert [one["values"]["energy_kwh"] for one in answer["readings"]] == [
        0.5 + k for k in range(10)]
    assert answer["readings"][0]["carrier"] == "electricity"
    assert answer["readings"][0]["values"]["interval_s"] == 60
    (gap,) = answer["seq_gaps"]
    assert (gap["from_seq"], gap["to_seq"], gap["lost"]) == (3, 6, 2)
    assert parse_time("at", gap["at"]) // 1_000_000 == first + 4 * 60_000
    assert answer["lost"] == 2
    assert (empty["domain"], empty["readings"], empty["lost"]) == (None, [], 0)
    assert too_long.status_code == 422
    assert hostile.status_code == 404


async def test_a_week_of_charts_in_hourly_steps_without_simulated_sensors(
        db: Settings) -> None:
    monday = parse_time("t", "2025-06-02T09:00:00Z") // 1_000_000
    # meter-a: 1, 2 and 3 kWh in the minutes after 09:00 on Monday, one hourly bucket:
    # 6 kWh in 1 h = 6 kW. The simulator's sensor adds 100 kWh there, left out.
    write_readings(db.influx_url, db.influx_database, [
        _energy("meter-a", monday + (k + 1) * 60_000, float(k + 1)) for k in range(3)]
        + [_energy(SIMULATED.id, monday + 60_000, 100.0)])
    register_simulated(db, [SIMULATED])
    app = create_app(db, registry=meters_registry("meter-a"))
    async with api_client(app) as client:
        week = (await client.get("/api/v1/live/series", params={
            "start": WEEK_START, "end": WEEK_END})).json()
        too_long = await client.get("/api/v1/live/series", params={
            "start": "2025-01-01T00:00:00Z", "end": WEEK_END})
    # 7 days: over two, so hourly steps at least, which the rollups can serve (30 minutes
    # would fit in 400 buckets).
    assert week["step_s"] == 3600
    assert len(week["energy_kw"]) == 7 * 24
    assert (week["start"], week["end"]) == ("2025-06-01T00:00:00.000Z", "2025-06-08T00:00:00.000Z")
    by_time = {row[0]: row[1:] for row in week["energy_kw"]}
    # Stamped 09:01 to 09:03: all three in the bucket that starts at 09:00, 6 kWh in 1 h.
    assert by_time[monday] == [pytest.approx(6.0), None, None]
    assert sum(1 for row in week["energy_kw"] if row[1] is not None) == 1
    assert all(row[1] is None for row in week["no2_ugm3"])
    assert too_long.status_code == 422
