"""``/api/v1/air-quality/daqi/daily``: DEFRA's daily index across the clock changes, by hand."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.params import parse_time
from sensors.readings import AirQualityReading, Reading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MIN_MS, HOUR_MS = 60_000, 3_600_000
DAILY = "/api/v1/air-quality/daqi/daily"
Row = tuple[Topic, Reading, None]


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


def _minutes(site: str, sensor: str, start: str, hours: float, **values: float) -> list[Row]:
    first = _ms(start)
    return [(Topic(Domain.AIR_QUALITY, site, sensor),
             AirQualityReading.model_validate({"ts": ts, **values}), None)
            for ts in range(first, first + int(hours * HOUR_MS), MIN_MS)]


# London 25 October 2026 is 25 hours: [2026-10-24T23:00Z, 2026-10-26T00:00Z).
OCT25 = "2026-10-24T23:00:00Z"


def _readings() -> list[Row]:
    hg = ("hillgate", "aq-hg")  # not registered: its 60 s interval is its median gap
    return [
        # 25 Oct: PM2.5 10 for the first 12 hours, 40 for the other 13: the fixed-day mean of
        # hourly means is (12 x 10 + 13 x 40) / 25 = 25.6 -> 26 -> index 3.
        *_minutes(*hg, OCT25, 12, pm25_ugm3=10.0),
        *_minutes(*hg, "2026-10-25T11:00:00Z", 13, pm25_ugm3=40.0),
        # NO2 50 all day, 450 in one hour: the daily maximum 450 -> index 7.
        *_minutes(*hg, OCT25, 5, no2_ugm3=50.0),
        *_minutes(*hg, "2026-10-25T04:00:00Z", 1, no2_ugm3=450.0),
        *_minutes(*hg, "2026-10-25T05:00:00Z", 19, no2_ugm3=50.0),
        # 26 Oct (24 hours): PM2.5 60 for 18 hours -> valid (18 of 24), index 8.
        *_minutes(*hg, "2026-10-26T00:00:00Z", 18, pm25_ugm3=60.0),
        # 27 Oct: 17 hours only -> null.
        *_minutes(*hg, "2026-10-27T00:00:00Z", 17, pm25_ugm3=60.0),
        # O3 60 from 16:00 on 24 Oct to the end of 26 Oct, 200 in the 8 hours before midnight
        # of 25 Oct: that 8-hour mean ends at 24:00 and is the 25th's (200 -> index 8); the
        # 26th's highest is the one ending 01:00, (7 x 200 + 60) / 8 = 182.5 -> 183 -> 7.
        *_minutes(*hg, "2026-10-24T16:00:00Z", 32, o3_ugm3=60.0),
        *_minutes(*hg, "2026-10-25T16:00:00Z", 8, o3_ugm3=200.0),
        *_minutes(*hg, "2026-10-26T00:00:00Z", 24, o3_ugm3=60.0),
        # London 29 March 2026 is 23 hours, [00:00Z, 23:00Z): 18 valid hours are enough
        # (75 % of 23 is 17.25 -> 18); PM10 55 -> index 4. 30 March: 17 of 24 -> null.
        *_minutes("market-place", "aq-market-background", "2026-03-29T00:00:00Z", 18,
                  pm10_ugm3=55.0),
        *_minutes("market-place", "aq-market-background", "2026-03-29T23:00:00Z", 17,
                  pm10_ugm3=55.0),
    ]


@pytest.fixture(scope="module")
def db(influx: InfluxServer) -> Settings:
    """One database for the module's tests (they only read)."""
    name = f"test_daily_{time.time_ns()}"
    create_database(influx.url, name)
    write_readings(influx.url, name, _readings())
    return Settings(_env_file=None, influx_url=influx.url,
                    influx_database=name, log_format="text", rollup_interval_s=0)


async def _get(settings: Settings, **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get(DAILY, params=params)


def _days(body: dict[str, Any], site: str) -> dict[str, dict[str, Any]]:
    return {day["date"]: day for day in body["days"] if day["site"] == site}


async def test_october_clock_change_day_is_25_hours(db: Settings) -> None:
    response = await _get(db, site="hillgate", start="2026-10-25T00:00:00+01:00",
                          end="2026-10-28T00:00:00Z")
    assert response.status_code == 200, response.text
    days = _days(response.json(), "hillgate")
    assert list(days) == ["2026-10-25", "2026-10-26", "2026-10-27"]
    oct25 = days["2026-10-25"]
    assert (oct25["start"], oct25["end"], oct25["hours"]) == (
        "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00", 25)
    pm25 = oct25["pollutants"]["pm25"]
    assert pm25["value_ugm3"] == pytest.approx((12 * 10 + 13 * 40) / 25)  # 25.6
    assert (pm25["index"], pm25["units"], pm25["valid_units"], pm25["needed_units"]) == (
        3, 25, 25, 19)
    assert (oct25["pollutants"]["no2"]["value_ugm3"], oct25["pollutants"]["no2"]["index"]) == (
        450.0, 7)
    o3 = oct25["pollutants"]["o3"]
    assert (o3["value_ugm3"], o3["index"], o3["units"]) == (200.0, 8, 25)
    assert oct25["overall"] == {"index": 8, "band": "High", "driven_by": ["o3"]}
    oct26 = days["2026-10-26"]
    assert oct26["hours"] == 24
    assert oct26["pollutants"]["pm25"]["index"] == 8  # 18 of 24 hours at 60
    assert oct26["pollutants"]["o3"]["value_ugm3"] == pytest.approx(182.5)
    assert oct26["pollutants"]["o3"]["index"] == 7
    oct27 = days["2026-10-27"]["pollutants"]["pm25"]
    assert (oct27["index"], oct27["valid_units"], oct27["needed_units"]) == (None, 17, 18)
    assert oct27["reason"] == "insufficient data: 17 of 24 units valid, 18 needed"


async def test_march_clock_change_day_is_23_hours(db: Settings) -> None:
    body = (await _get(db, site="market-place", start="2026-03-29T00:00:00Z",
                       end="2026-03-31T00:00:00+01:00")).json()
    days = _days(body, "market-place")
    assert [(d, day["hours"]) for d, day in days.items()] == [("2026-03-29", 23),
                                                             ("2026-03-30", 24)]
    pm10 = days["2026-03-29"]["pollutants"]["pm10"]
    assert (pm10["index"], pm10["valid_units"], pm10["needed_units"]) == (4, 18, 18)
    assert days["2026-03-30"]["pollutants"]["pm10"]["index"] is None
    assert body["days_by_band"]["market-place"] == {
        "Low": 0, "Moderate": 1, "High": 0, "Very High": 0, "none": 1}


async def test_every_site_min_band_and_period(db: Settings) -> None:
    body = (await _get(db, period="2026-10", min_band="High")).json()
    assert "hillgate" in body["sites"]
    assert "town-hall" in body["sites"]
    assert [(d["site"], d["date"]) for d in body["days"]] == [
        ("hillgate", "2026-10-25"), ("hillgate", "2026-10-26")]
    assert body["days_by_band"]["hillgate"]["High"] == 2
    assert body["days_by_band"]["town-hall"]["none"] == 31


@pytest.mark.parametrize("params", [
    {"site": "nowhere"}, {"period": "fy25"}, {"start": "2024-01-01T00:00:00Z",
                                              "end": "2025-06-01T00:00:00Z"},
    {"period": "2026", "start": "2026-01-01T00:00:00Z"}, {"min_band": "Bad"}])
async def test_bad_requests(db: Settings, params: dict[str, str]) -> None:
    response = await _get(db, **params)
    assert response.status_code == (404 if "site" in params else 422), response.text
