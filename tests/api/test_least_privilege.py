"""Least privilege on a real influxd with authentication on (docs/storage.md).

The ingestor's account may only write the readings; the API's may read them and read and
write its own database (rollups, its records); a Grafana account may only read. Each
process works with exactly its rights, and none can do what it should not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from typer.testing import CliRunner

from api.main import create_app
from ingest.store import InfluxStore as Writer
from sensors.lineprotocol import reading_line
from sensors.readings import Carrier, EnergyReading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.cli import app as cli
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import api_client

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ADMIN = ("admin", "admin-pass")
RAW, OWN = "readings", "derived"
HOUR_MS = 3_600_000
START = 1_780_272_000_000  # 2026-06-01T00:00:00Z


def _q(url: str, query: str, user: tuple[str, str] = ADMIN, db: str | None = None
       ) -> httpx.Response:
    params = {"u": user[0], "p": user[1], **({"db": db} if db else {})}
    return httpx.post(f"{url}/query", params=params, data={"q": query}, timeout=10)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path_factory.mktemp("locked"), auth_enabled=True)
    server.start()
    try:
        setup = [
            f"CREATE USER {ADMIN[0]} WITH PASSWORD '{ADMIN[1]}' WITH ALL PRIVILEGES",
            f"CREATE DATABASE {RAW}", f"CREATE DATABASE {OWN}",
            "CREATE USER ingest WITH PASSWORD 'ingest-pass'", f"GRANT WRITE ON {RAW} TO ingest",
            "CREATE USER api WITH PASSWORD 'api-pass'", f"GRANT READ ON {RAW} TO api",
            f"GRANT ALL ON {OWN} TO api",
            "CREATE USER grafana WITH PASSWORD 'grafana-pass'",
            f"GRANT READ ON {RAW} TO grafana", f"GRANT READ ON {OWN} TO grafana",
        ]
        for statement in setup:
            answer = _q(server.url, statement)
            assert answer.status_code == 200, (statement, answer.text)
            assert "error" not in answer.text, (statement, answer.text)
        yield server
    finally:
        server.stop()


def _settings(url: str, user: str, password: str) -> Settings:
    return Settings(_env_file=None, influx_url=url, influx_database=RAW,
                    influx_api_database=OWN, influx_username=user,
                    influx_password=SecretStr(password), rollup_interval_s=0,
                    metrics_port=free_port())


def _lines() -> list[str]:
    return [reading_line(Topic(Domain.ENERGY, "site-a", "meter-1"), EnergyReading(
        ts=START + minute * 60_000, carrier=Carrier.ELECTRICITY, energy_kwh=1.0,
        interval_s=60)) for minute in range(3 * 60)]


def test_the_ingestor_writes_readings_and_nothing_else(locked: InfluxServer) -> None:
    writer = Writer(_settings(locked.url, "ingest", "ingest-pass"))
    writer.write(_lines())
    assert writer.create_database() is False  # not its right, and not needed
    assert writer.last_outcome == (True, None)
    writer.close()
    refused = _q(locked.url, "SELECT count(energy_kwh) FROM energy", ("ingest", "ingest-pass"),
                 RAW)
    assert refused.status_code == 403


async def test_the_api_reads_readings_and_writes_only_its_own_database(
        locked: InfluxServer) -> None:
    writer = Writer(_settings(locked.url, "ingest", "ingest-pass"))
    writer.write(_lines())
    writer.close()
    app = create_app(_settings(locked.url, "api", "api-pass"))
    window = {"start": "2026-06-01T00:00:00Z", "end": "2026-06-01T03:00:00Z"}
    async with api_client(app) as client:
        raw = (await client.get("/api/v1/emissions", params={**window, "source": "raw"})).json()
        backfill = await client.post("/api/v1/rollups/backfill", params=window)
        rolled = (await client.get("/api/v1/emissions",
                                   params={**window, "source": "rollup"})).json()
        # The operator's records (sensor flags, alert events) go to its own database too.
        retired = await client.post("/api/v1/sensors/mw-elec-main/retire", json={"reason": "test"})
        seen = (await client.get("/api/v1/sensors/mw-elec-main")).json()
        history = await client.get("/api/v1/alerts/history")
    assert retired.status_code == 200, retired.text
    assert seen["retired"] is True
    assert history.status_code == 200, history.text
    assert backfill.status_code == 200, backfill.text
    assert rolled["source"]["rollup_start"] == "2026-06-01T00:00:00Z"
    assert rolled["total_kgco2e"] == pytest.approx(raw["total_kgco2e"], rel=1e-9)
    assert raw["activity"]["energy_kwh"] == pytest.approx(180.0)
    in_own = _q(locked.url, "SELECT count(energy_kwh) FROM activity_hourly", db=OWN).json()
    assert in_own["results"][0]["series"][0]["values"][0][1] == 3
    into_raw = httpx.post(f"{locked.url}/write", timeout=10, params={
        "db": RAW, "u": "api", "p": "api-pass"}, content=b"energy,site=x v=1 1")
    assert into_raw.status_code == 403


def test_the_api_account_imports_the_la_statistics_into_its_own_database(
        locked: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = Path(__file__).parent / "reconciliation" / "desnz_la_ghg_sample.csv"
    for name, value in {"URL": locked.url, "DATABASE": RAW, "API_DATABASE": OWN,
                        "USERNAME": "api", "PASSWORD": "api-pass"}.items():
        monkeypatch.setenv(f"SMARTPLACE_INFLUX_{name}", value)
    result = CliRunner().invoke(cli, ["reconcile", "import", str(sample)])
    assert result.exit_code == 0, result.output
    answer = asyncio.run(_get(create_app(_settings(locked.url, "api", "api-pass")),
                              "/api/v1/reconciliation", la="E08000007"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["borough"]["total_kt_co2e"] == pytest.approx(1068.4, abs=1e-9)
    in_own = _q(locked.url, "SELECT count(territorial_kt) FROM la_inventory", db=OWN).json()
    assert in_own["results"][0]["series"][0]["values"][0][1] == 37


async def _get(app: FastAPI, path: str, **params: str) -> httpx.Response:
    async with api_client(app) as client:
        return await client.get(path, params=params)


def test_grafana_reads_both_and_writes_neither(locked: InfluxServer) -> None:
    user = ("grafana", "grafana-pass")
    assert _q(locked.url, "SELECT * FROM energy LIMIT 1", user, RAW).status_code == 200
    assert _q(locked.url, "SELECT * FROM activity_hourly LIMIT 1", user, OWN).status_code == 200
    for db in (RAW, OWN):
        wrote = httpx.post(f"{locked.url}/write", timeout=10, params={
            "db": db, "u": user[0], "p": user[1]}, content=b"energy,site=x v=1 1")
        assert wrote.status_code == 403, db
