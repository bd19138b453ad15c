"""CSV on every tabular endpoint (or a clear refusal) and the output precision, against a
real InfluxDB with readings whose figures are worked out by hand.

Two unregistered electricity meters in January 2026, priced with the DESNZ 2026 set
(generation 0.13096 + T&D 0.01299 = 0.14395 kgCO2e/kWh):

- precision-a: 2.5 kWh -> 0.359875 kgCO2e, given as 0.360;
- precision-b: 0.1 + 0.2 kWh (0.30000000000000004 as binary floats) -> 0.3 kWh and
  0.043185 kgCO2e, given as 0.043.

So grouped by sensor the rows are 0.36 and 0.043, the total is their sum 0.403 (the
unrounded 0.40306 also rounds to it), 0.000403 t.
"""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import httpx
import pytest

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WINDOW = {"start": "2026-01-05", "end": "2026-01-06"}  # plain dates: London midnights
NOISE = repr(0.1 + 0.2)  # '0.30000000000000004'


def _reading(sensor: str, kwh: float, at: str) -> tuple[Topic, Reading, float | None]:
    ts = parse_time("ts", at) // 1_000_000
    return (Topic(Domain.ENERGY, "merseyway", sensor),
            EnergyReading(ts=ts, carrier=Carrier.ELECTRICITY, energy_kwh=kwh, interval_s=60),
            None)


@pytest.fixture(scope="module")
def db(influx: InfluxServer) -> Settings:
    name = f"test_csv_precision_{time.time_ns()}"
    create_database(influx.url, name)
    write_readings(influx.url, name, [
        _reading("precision-a", 2.5, "2026-01-05T10:00:00Z"),
        _reading("precision-b", 0.1, "2026-01-05T10:00:00Z"),
        _reading("precision-b", 0.2, "2026-01-05T10:01:00Z"),
    ])
    return Settings(_env_file=None, influx_url=influx.url, influx_database=name,
                    rollup_interval_s=0, api_cache_s=0)


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_emissions_rounded_rows_and_a_total_that_is_their_sum(db: Settings) -> None:
    async with api_client(create_app(db)) as client:
        body = (await client.get("/api/v1/emissions",
                                 params={**WINDOW, "group_by": "sensor"})).json()
        table = await client.get("/api/v1/emissions",
                                 params={**WINDOW, "group_by": "sensor", "format": "csv"})
        whole = (await client.get("/api/v1/emissions", params=WINDOW)).json()
    rows = {row["sensor"]: row for row in body["rows"]}
    assert rows["precision-a"]["kgco2e"] == 0.36
    assert rows["precision-b"]["kgco2e"] == 0.043
    assert rows["precision-b"]["activity"]["energy_kwh"] == 0.3
    assert body["total_kgco2e"] == 0.403
    assert sum(Decimal(repr(row["kgco2e"])) for row in body["rows"]) == Decimal("0.403")
    assert body["total_tco2e"] == 0.000403
    assert body["net_tco2e"] == 0.000403
    assert body["avoided_tco2e"] == 0.0
    # Generation 2.8 x 0.13096 = 0.366688, T&D 2.8 x 0.01299 = 0.036372, each rounded.
    assert body["scopes"] == {"scope_1": 0.0, "scope_2_location": 0.367, "scope_3": 0.036,
                              "territorial_transport": 0.0}
    assert whole["total_kgco2e"] == 0.403  # one row: round(0.40306)
    # CSV: the same rounded figures, no binary noise anywhere.
    assert NOISE not in table.text
    lines = {line["sensor"]: line for line in _csv(table)}
    assert lines["precision-a"]["kgco2e"] == "0.36"
    assert lines["precision-b"]["energy_kwh"] == "0.3"
    assert table.headers["x-total-kgco2e"] == "0.403"
    assert table.headers["x-total-tco2e"] == "0.000403"


async def test_indicators_in_tonnes_and_kilograms(db: Settings) -> None:
    async with api_client(create_app(db)) as client:
        body = (await client.get("/api/v1/indicators", params=WINDOW)).json()
        table = _csv(await client.get("/api/v1/indicators", params=WINDOW,
                                      headers={"Accept": "text/csv"}))
    assert body["totals_kgco2e"] == {"energy": 0.403, "transport": 0.0, "total": 0.403}
    assert body["totals_tco2e"] == {"energy": 0.000403, "transport": 0.0, "total": 0.000403}
    assert body["activity"]["energy_kwh"]["electricity"] == 2.8
    assert body["activity"]["energy_kgco2e"]["electricity"] == 0.403
    assert body["energy_intensity_gco2e_per_kwh"] == 143.929  # 403 g / 2.8 kWh = 143.92857
    assert body["net_kgco2e"] == 0.403
    assert body["net_tco2e"] == 0.000403
    by_name = {line["indicator"]: line for line in table}
    assert by_name["total_tco2e"]["current"] == "0.000403"
    assert by_name["total_kgco2e"]["current"] == "0.403"
    assert by_name["total_kgco2e"]["unit"] == "kgCO2e"
    assert by_name["energy_kwh.electricity"]["current"] == "2.8"


# (path, params) of every tabular endpoint this data can answer (reports, reconciliation
# and budget have their own tests; their CSV is declared the same way).
TABULAR = [
    ("/api/v1/factors", {}, "id"),
    ("/api/v1/sensors", {}, "id"),
    ("/api/v1/sensors/precision-a", {}, "id"),
    ("/api/v1/air-quality/daqi", {"site": "town-hall", "at": "2026-01-05T12:00:00Z"},
     "pollutant"),
    ("/api/v1/air-quality/daqi/history", {**WINDOW, "site": "town-hall"}, "pollutant"),
    ("/api/v1/air-quality/daqi/daily", {**WINDOW, "site": "town-hall"}, "pollutant"),
    ("/api/v1/reports/2026-01", {}, "section"),
]


@pytest.mark.parametrize(("path", "params", "column"), TABULAR)
async def test_every_tabular_endpoint_answers_csv(db: Settings, path: str,
                                                  params: dict[str, str], column: str) -> None:
    async with api_client(create_app(db)) as client:
        by_format = await client.get(path, params={**params, "format": "csv"})
        by_accept = await client.get(path, params=params, headers={"Accept": "text/csv"})
        json_anyway = await client.get(path, params={**params, "format": "json"},
                                       headers={"Accept": "text/csv"})
    # The same table either way (a sensor's age_s moves on between the two requests).
    lines, accepted = by_format.text.splitlines(), by_accept.text.splitlines()
    assert (lines[0], len(lines)) == (accepted[0], len(accepted))
    header = lines[0].split(",")
    assert column in header
    assert NOISE not in by_format.text
    if path.endswith("sensors/precision-a"):
        assert [line["id"] for line in _csv(by_format)] == ["precision-a"]
    if "reports" not in path:
        assert json_anyway.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/health", "/api/v1/auth/me", "/api/v1/live"])
async def test_no_csv_form_is_refused_never_ignored(db: Settings, path: str) -> None:
    async with api_client(create_app(db)) as client:
        by_format = await client.get(path, params={"format": "csv"})
        by_accept = await client.get(path, headers={"Accept": "text/csv"})
        fine = await client.get("/api/v1/auth/me", params={"format": "json"})
    assert by_format.status_code == 422
    (issue,) = by_format.json()["detail"]
    assert issue["loc"] == ["query", "format"]
    assert "answers JSON only" in issue["msg"]
    assert "/api/v1/emissions" in issue["msg"]
    assert by_accept.status_code == 406
    assert "has no CSV form" in by_accept.json()["detail"]
    assert fine.status_code == 200
