"""``/api/v1/emissions`` buckets on the London calendar, factor years and CSV, against a real
InfluxDB, with hand-computed expectations.

Data: one electricity meter reading 1 kWh at half past every UTC hour, and one traffic
counter seeing 2 cars on a 0.5 km link at a quarter to every hour (1 car-km an hour), from
12:30 UTC the day before each clock change to 12:30 UTC two days after; so a bucket's kWh
and car-km both equal its length in hours.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.main import create_app
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import (
    api_client,
    create_database,
    exact_sum,
    kg_approx,
    write_readings,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

GRID_2026, CAR_2026 = 0.13096 + 0.01299, 0.16591
PER_HOUR = GRID_2026 + CAR_2026  # 2026 activity uses the DESNZ 2026 set
GAS_2024, GAS_2025 = 0.18290, 0.18296

Row = tuple[Topic, Reading, float | None]


def _hourly(first: datetime, hours: int) -> list[Row]:
    rows: list[Row] = []
    for hour in range(hours):
        at = first + timedelta(hours=hour)
        ts = int(at.timestamp() * 1000)
        rows.append((Topic(Domain.ENERGY, "alpha", "meter"),
                     EnergyReading(ts=ts, carrier=Carrier.ELECTRICITY, energy_kwh=1.0,
                                   interval_s=3600), None))
        rows.append((Topic(Domain.TRANSPORT, "alpha", "counter"),
                     TransportReading(ts=ts + 15 * 60_000, interval_s=3600,
                                      counts={VehicleClass.CAR: 2}, link_km=0.5), None))
    return rows


def _gas(at: str, kwh: float) -> Row:
    ts = int(datetime.fromisoformat(at).timestamp() * 1000)
    return (Topic(Domain.ENERGY, "beta", "boiler"),
            EnergyReading(ts=ts, carrier=Carrier.GAS, energy_kwh=kwh, interval_s=60), None)


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    readings = (_hourly(datetime(2026, 10, 23, 12, 30, tzinfo=UTC), 96)
                + _hourly(datetime(2026, 3, 27, 12, 30, tzinfo=UTC), 96)
                + [_gas("2024-12-31T23:30:00+00:00", 10.0),
                   _gas("2025-01-01T00:30:00+00:00", 10.0)])
    write_readings(influx.url, settings.influx_database, readings)
    return settings


async def _get(settings: Settings, headers: dict[str, str] | None = None,
               **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get("/api/v1/emissions", params=params, headers=headers)


def _buckets(body: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [(row["bucket_start"], row["bucket_end"], row["activity"]["energy_kwh"])
            for row in body["rows"]]


@pytest.mark.parametrize("source", ["raw", "rollup"])
async def test_october_days_are_24_25_24_hours(app_settings: Settings, source: str) -> None:
    body = (await _get(app_settings, start="2026-10-24T00:00:00+01:00",
                       end="2026-10-27T00:00:00Z", interval="1d", source=source)).json()
    assert _buckets(body) == [
        ("2026-10-24T00:00:00+01:00", "2026-10-25T00:00:00+01:00", 24),
        ("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00", 25),
        ("2026-10-26T00:00:00+00:00", "2026-10-27T00:00:00+00:00", 24),
    ]
    assert [row["kgco2e"] for row in body["rows"]] == [
        kg_approx(24 * PER_HOUR), kg_approx(25 * PER_HOUR),
        kg_approx(24 * PER_HOUR)]
    assert [row["activity"]["vehicle_km"] for row in body["rows"]] == [24, 25, 24]
    assert body["total_kgco2e"] == exact_sum(row["kgco2e"] for row in body["rows"])


async def test_march_day_is_23_hours(app_settings: Settings) -> None:
    body = (await _get(app_settings, start="2026-03-28T00:00:00Z",
                       end="2026-03-31T00:00:00+01:00", interval="1d")).json()
    assert _buckets(body) == [
        ("2026-03-28T00:00:00+00:00", "2026-03-29T00:00:00+00:00", 24),
        ("2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00", 23),
        ("2026-03-30T00:00:00+01:00", "2026-03-31T00:00:00+01:00", 24),
    ]
    assert body["rows"][1]["kgco2e"] == kg_approx(23 * PER_HOUR)


async def test_clock_buckets_across_the_october_change(app_settings: Settings) -> None:
    body = (await _get(app_settings, start="2026-10-25T00:00:00+01:00",
                       end="2026-10-25T06:00:00Z", interval="2h", group_by="domain")).json()
    energy = [(s, e, kwh) for (s, e, kwh), row in zip(_buckets(body), body["rows"], strict=True)
              if row["domain"] == "energy"]
    assert energy == [
        ("2026-10-25T00:00:00+01:00", "2026-10-25T02:00:00+00:00", 3),  # 01:00 happens twice
        ("2026-10-25T02:00:00+00:00", "2026-10-25T04:00:00+00:00", 2),
        ("2026-10-25T04:00:00+00:00", "2026-10-25T06:00:00+00:00", 2),
    ]


async def test_readings_use_the_factors_of_their_year(app_settings: Settings) -> None:
    body = (await _get(app_settings, start="2024-12-31T23:00:00Z", end="2025-01-01T01:00:00Z",
                       interval="1h")).json()
    assert [row["kgco2e"] for row in body["rows"]] == [
        kg_approx(10 * GAS_2024), kg_approx(10 * GAS_2025)]
    assert [row["factors"] for row in body["rows"]] == [["gas@2024"], ["gas@2025"]]
    assert body["total_kgco2e"] == kg_approx(10 * GAS_2024 + 10 * GAS_2025, rows=2)
    listed = {(f["id"], f["year"]): f for f in body["factors"]}
    assert {key for key, f in listed.items() if f["applied"]} == {("gas", 2024), ("gas", 2025)}
    assert ("electricity.generation", 2024) in listed
    assert all(f["origin"] == "packaged" for f in body["factors"])
    # One bucket over New Year: each reading still takes its own year's factor.
    whole = (await _get(app_settings, start="2024-12-31T23:00:00Z",
                        end="2025-01-01T01:00:00Z")).json()
    assert whole["total_kgco2e"] == kg_approx(10 * GAS_2024 + 10 * GAS_2025)
    assert whole["rows"][0]["factors"] == ["gas@2024", "gas@2025"]


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "csv"}, None), ({}, {"Accept": "text/csv"})],
)
async def test_csv(app_settings: Settings, params: dict[str, str],
                   headers: dict[str, str] | None) -> None:
    query = {"start": "2026-10-24T00:00:00+01:00", "end": "2026-10-27T00:00:00Z",
             "interval": "1d", "group_by": "domain,carrier"}
    response = await _get(app_settings, headers=headers, **query, **params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = _csv(response.text)
    assert lines[0] == ["domain", "carrier", "bucket_start", "bucket_end", "kgco2e",
                        "avoided_kgco2e", "energy_kwh", "generated_kwh", "vehicle_km",
                        "counts", "unattributed_counts", "factors",
                        # added at the end, so existing columns keep their place
                        "kgco2", "memo_kgco2e", "avoided_td_kgco2e"]
    body = (await _get(app_settings, headers=None, **query)).json()
    assert len(lines) == 1 + len(body["rows"]) == 7
    for line, row in zip(lines[1:], body["rows"], strict=True):
        assert line[:4] == [row["domain"], row["carrier"] or "", row["bucket_start"],
                            row["bucket_end"]]
        assert float(line[4]) == row["kgco2e"]  # the answer's precision: reads back exactly
        assert line[11] == " ".join(row["factors"])
        assert line[12] == ("" if row["kgco2"] is None else repr(row["kgco2"]))
    total = exact_sum(float(line[4]) for line in lines[1:])
    assert total == body["total_kgco2e"] == float(response.headers["x-total-kgco2e"])
    assert lines[2][11] == "vehicle.car@2026"  # transport rows name their factor too


@pytest.mark.parametrize(
    "params",
    [{"interval": "5h"}, {"interval": "7d"}, {"source": "rollup", "interval": "15m"},
     {"source": "cache"}, {"format": "xml"}],
)
async def test_bad_parameters_are_422(app_settings: Settings, params: dict[str, str]) -> None:
    response = await _get(app_settings, headers=None, **params)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_store_down_is_503(app_settings: Settings) -> None:
    down = app_settings.model_copy(update={"influx_url": "http://127.0.0.1:9"})
    for source in ("raw", "rollup"):
        response = await _get(down, source=source, format="csv")
        assert response.status_code == 503
