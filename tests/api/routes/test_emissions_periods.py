"""Financial years across two factor sets, one DESNZ set by DESNZ's rule, by hand; and the
options of ``/emissions`` (scopes, WTT, EV memo) at the route."""

from __future__ import annotations

from typing import Any

import pytest

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

GRID = {2024: 0.20705 + 0.0183, 2025: 0.177 + 0.01853, 2026: 0.13096 + 0.01299}


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


def _elec(kwh: float, when: str, carrier: Carrier = Carrier.ELECTRICITY
          ) -> tuple[Topic, Reading, float | None]:
    return (Topic(Domain.ENERGY, "merseyway", f"m-{carrier.value}"),
            EnergyReading(ts=_ms(when), carrier=carrier, energy_kwh=kwh, interval_s=60), None)


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    return [
        # fy2025 is [2025-04-01 00:00 BST, 2026-04-01 00:00 BST) = [31 Mar 23:00Z, ...).
        _elec(7.0, "2025-03-31T22:59:59Z"),  # 23:59:59 BST on 31 March: fy2024
        _elec(50.0, "2025-03-31T23:30:00Z"),  # 00:30 BST on 1 April: fy2025, calendar 2025
        _elec(100.0, "2025-12-15T12:00:00Z"),
        _elec(100.0, "2026-02-15T12:00:00Z"),  # calendar 2026: the 2026 set, unless fy2025
        _elec(10.0, "2026-03-31T22:30:00Z"),  # 23:30 BST on 31 March 2026: still fy2025
        _elec(1000.0, "2026-03-31T23:00:00Z"),  # 00:00 BST on 1 April 2026: fy2026
        _elec(40.0, "2024-06-01T12:00:00Z"),  # fy2024, for the comparison
        _elec(20.0, "2025-12-15T12:00:00Z", Carrier.EV_CHARGING),
        (Topic(Domain.TRANSPORT, "interchange", "tr-daw-bank"),
         TransportReading(ts=_ms("2025-12-15T12:00:00Z"), interval_s=60,
                          counts={VehicleClass.CAR: 10}, link_km=1.0), None),
    ]


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings.model_copy(update={"rollup_interval_s": 0})


async def _json(settings: Settings, path: str = "/api/v1/emissions", **params: str
                ) -> dict[str, Any]:
    async with api_client(create_app(settings)) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_financial_year_is_priced_with_one_set(db: Settings) -> None:
    fy = await _json(db, period="fy2025", group_by="carrier", source="raw")
    assert (fy["start"], fy["end"]) == ("2025-03-31T23:00:00Z", "2026-03-31T23:00:00Z")
    assert fy["period"] == {"name": "fy2025", "kind": "financial_year", "factor_year": 2025}
    assert fy["factor_set"]["year"] == 2025
    assert "01/04/24" in fy["factor_set"]["rule"]
    # 50 + 100 + 100 + 10 kWh of electricity, all at the 2025 set (before the rule, the
    # February and March 2026 kWh took the 2026 set).
    rows = {row["carrier"]: row for row in fy["rows"]}
    assert rows["electricity"]["activity"]["energy_kwh"] == pytest.approx(260.0)
    assert rows["electricity"]["kgco2e"] == pytest.approx(260 * GRID[2025], rel=1e-12)
    assert rows["electricity"]["factors"] == ["electricity.generation@2025",
                                              "electricity.td@2025"]
    assert {f["year"] for f in fy["factors"]} == {2025}  # only the set in force
    # The same window by start/end: each reading with its own calendar year's set.
    own = await _json(db, start=fy["start"], end=fy["end"], group_by="carrier", source="raw")
    own_rows = {row["carrier"]: row for row in own["rows"]}
    assert own_rows["electricity"]["kgco2e"] == pytest.approx(
        150 * GRID[2025] + 110 * GRID[2026], rel=1e-12)  # 29.3295 + 15.8345 = 45.164
    assert own["period"] is None
    # factor_year overrides the rule.
    forced = await _json(db, period="fy2025", factor_year="2024", group_by="carrier",
                         source="raw")
    forced_rows = {row["carrier"]: row for row in forced["rows"]}
    assert forced_rows["electricity"]["kgco2e"] == pytest.approx(260 * GRID[2024], rel=1e-12)


async def test_indicators_compare_fy_with_the_previous_fy_at_its_own_set(db: Settings) -> None:
    body = await _json(db, "/api/v1/indicators", period="fy2025", source="raw")
    assert body["previous"] == {"start": "2024-03-31T23:00:00Z", "end": "2025-03-31T23:00:00Z"}
    # fy2024: 40 + 7 kWh at the 2024 set.
    assert body["previous_totals_tco2e"]["energy"] == pytest.approx(47 * GRID[2024] / 1000,
                                                                   rel=1e-12)
    assert [p["factor_year"] for p in body["periods"]] == [2025, 2024]
    year = await _json(db, "/api/v1/indicators", period="fy2025", compare="previous_year",
                       factor_year="2025", source="raw")
    assert year["previous_totals_tco2e"]["energy"] == pytest.approx(47 * GRID[2025] / 1000,
                                                                   rel=1e-12)
    week = await _json(db, "/api/v1/indicators", start="2025-12-15T10:00:00Z",
                       end="2025-12-16T10:00:00Z", compare="previous_week", source="raw")
    assert week["previous"] == {"start": "2025-12-08T10:00:00Z", "end": "2025-12-09T10:00:00Z"}
    assert week["previous_totals_tco2e"] is None  # no readings that week: null, not 0
    assert week["change"]["total"] == {"abs_tco2e": None, "pct": None}


async def test_options_at_the_route(db: Settings) -> None:
    window = {"start": "2025-12-15T00:00:00Z", "end": "2025-12-16T00:00:00Z", "source": "raw"}
    plain = await _json(db, group_by="scope", **window)
    total = 120 * GRID[2025] + 10 * 0.16725  # 100 kWh + 20 EV; 10 car-km
    assert plain["total_kgco2e"] == pytest.approx(total, rel=1e-12)
    assert sum(plain["scopes"].values()) == pytest.approx(total, rel=1e-12)
    assert {row["scope"] for row in plain["rows"]} == {"scope_2_location", "scope_3",
                                                        "territorial_transport"}
    assert [d["code"] for d in plain["disclosures"]] == ["ev_double_count"]
    assert plain["wtt"] == {"included": False, "kgco2e": 0.0}
    assert plain["total_kgco2"] == pytest.approx(
        120 * (0.17489 + 0.01834) + 10 * 0.16608, rel=1e-12)
    memo = await _json(db, ev_charging="memo", wtt="true", **window)
    wtt = 120 * (0.0459 + 0.00397) + 10 * 0.04399
    ev = 20 * (GRID[2025] + 0.0459 + 0.00397)
    assert memo["memo_kgco2e"] == pytest.approx(ev, rel=1e-12)
    assert memo["total_kgco2e"] == pytest.approx(total + wtt - ev, rel=1e-12)
    assert memo["ev_charging"]["treatment"] == "memo"
    assert memo["wtt"]["included"] is True
    assert memo["total_kgco2"] is None  # WTT has no CO2 split: never in the CO2 figure
    applied = {(f["id"], f["year"]) for f in memo["factors"] if f["applied"]}
    assert ("wtt.vehicle.car", 2025) in applied
    both = await _get_status(db, period="fy2025", start="2025-04-01T00:00:00Z")
    assert both == 422


async def _get_status(settings: Settings, **params: str) -> int:
    async with api_client(create_app(settings)) as client:
        return (await client.get("/api/v1/emissions", params=params)).status_code


