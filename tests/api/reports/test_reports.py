"""``/api/v1/reports/{period}`` and ``smartplace report`` against a real InfluxDB, by hand."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.cli import app as cli
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration]

GEN, TD, GAS, CAR = 0.177, 0.01853, 0.18296, 0.16725  # DESNZ 2025
# November 2025: 100 kWh electricity, 40 kWh gas, 20 kWh solar, 10 cars on 1 km;
# October 2025: 80 kWh electricity.
NOV_KG = 100 * (GEN + TD) + 40 * GAS + 10 * CAR  # 19.553 + 7.3184 + 1.6725 = 28.5439
OCT_KG = 80 * (GEN + TD)  # 15.6424


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


def _energy(sensor: str, carrier: Carrier, kwh: float, when: str
            ) -> tuple[Topic, Reading, float | None]:
    reading = EnergyReading(ts=_ms(when), carrier=carrier, energy_kwh=kwh, interval_s=60)
    return Topic(Domain.ENERGY, "merseyway", sensor), reading, None


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    return [
        _energy("mw-elec-main", Carrier.ELECTRICITY, 100.0, "2025-11-10T12:00:00Z"),
        _energy("mw-gas-boiler", Carrier.GAS, 40.0, "2025-11-10T12:00:00Z"),
        _energy("mw-solar-roof", Carrier.SOLAR_PV, 20.0, "2025-11-10T12:00:00Z"),
        (Topic(Domain.TRANSPORT, "interchange", "tr-daw-bank"),
         TransportReading(ts=_ms("2025-11-12T08:00:00Z"), interval_s=60,
                          counts={VehicleClass.CAR: 10}, link_km=1.0), None),
        _energy("mw-elec-main", Carrier.ELECTRICITY, 80.0, "2025-10-10T12:00:00Z"),
    ]


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings.model_copy(update={"rollup_interval_s": 0})


async def _get(settings: Settings, path: str, **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get(path, params=params)


def _csv(text: str) -> dict[tuple[str, str], list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "item", "value", "unit", "query"]
    return {(row[0], row[1]): row[2:] for row in rows[1:]}


@pytest.mark.anyio
async def test_csv_figures_are_the_api_answers(db: Settings) -> None:
    response = await _get(db, "/api/v1/reports/2025-11", format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="smartplace-report-2025-11.csv"' in response.headers["content-disposition"]
    rows = _csv(response.text)
    total = float(rows[("totals", "total")][0])
    assert total == pytest.approx(NOV_KG / 1000, rel=1e-12)
    assert rows[("period", "factor_year")][0] == "2025"
    assert rows[("period", "comparison")][0] == "2025-10"
    scopes = {item: float(v[0]) for (section, item), v in rows.items() if section == "scope"}
    assert scopes["scope_1"] == pytest.approx(40 * GAS / 1000, rel=1e-12)
    assert scopes["scope_2_location"] == pytest.approx(100 * GEN / 1000, rel=1e-12)
    assert scopes["scope_3"] == pytest.approx(100 * TD / 1000, rel=1e-12)
    assert math.fsum(scopes.values()) == pytest.approx(total, rel=1e-12)
    assert float(rows[("totals", "avoided_solar")][0]) == pytest.approx(20 * GEN / 1000)
    assert float(rows[("comparison", "previous_total")][0]) == pytest.approx(OCT_KG / 1000)
    assert float(rows[("comparison", "change_abs")][0]) == pytest.approx(
        (NOV_KG - OCT_KG) / 1000, rel=1e-9)
    assert rows[("factor", "gas@2025")][:2] == [repr(GAS), "kgCO2e/kWh"]
    # The query named beside a figure gives the same figure.
    query = rows[("totals", "total")][2]
    assert query == "/api/v1/emissions?period=2025-11&group_by=scope"
    path, _, params = query.partition("?")
    emissions = (await _get(db, path, **dict(p.split("=") for p in params.split("&")))).json()
    assert emissions["total_kgco2e"] / 1000 == pytest.approx(total, rel=1e-12)
    digest = rows[("reproducibility", "inputs_sha256")][0]
    assert len(digest) == 64
    assert response.headers["x-inputs-sha256"] == digest
    again = await _get(db, "/api/v1/reports/2025-11", format="csv")
    assert _csv(again.text)[("reproducibility", "inputs_sha256")][0] == digest


@pytest.mark.anyio
async def test_the_input_hash_changes_with_a_reading(db: Settings, influx: InfluxServer) -> None:
    before = (await _get(db, "/api/v1/reports/2025-11", format="csv")).headers["x-inputs-sha256"]
    write_readings(influx.url, db.influx_database,
                   [_energy("mw-elec-main", Carrier.ELECTRICITY, 1.0, "2025-11-20T12:00:00Z")])
    after = (await _get(db, "/api/v1/reports/2025-11", format="csv")).headers["x-inputs-sha256"]
    assert before != after
    # A different option is a different input too.
    wtt = (await _get(db, "/api/v1/reports/2025-11", format="csv", wtt="true"))
    assert wtt.headers["x-inputs-sha256"] not in (before, after)


@pytest.mark.anyio
async def test_html_report(db: Settings, tmp_path: Path) -> None:
    # A hostile factor source (an operator's override file) is text, never markup.
    override = tmp_path / "factors.json"
    override.write_text(json.dumps({"factors": [{
        "id": "gas", "value": GAS, "unit": "kgCO2e/kWh", "scope": "Scope 1",
        "source": "<script>alert('x')</script> supplier", "url": "https://example.org/gas",
        "year": 2025, "notes": "test"}]}))
    settings = db.model_copy(update={"factors_file": override})
    response = await _get(settings, "/api/v1/reports/2025-11")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<script" not in html  # no script at all, and the hostile one escaped
    assert "&lt;script&gt;alert(" in html
    assert "(operator override)" in html
    assert "November 2025" in html
    assert "compared with october 2025" in html.lower()
    assert f"{NOV_KG / 1000:,.2f} tCO2e" in html  # the headline gross total
    assert "not subtracted" in html  # avoided is beside the total, never netted
    assert html.count("<svg") == 2  # the trend and the DAQI chart
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    assert "/api/v1/emissions?period=2025-11&amp;group_by=scope" in html


@pytest.mark.anyio
async def test_missing_chromium_is_a_clear_error(db: Settings, tmp_path: Path) -> None:
    settings = db.model_copy(update={"chromium_path": tmp_path / "no-chromium"})
    response = await _get(settings, "/api/v1/reports/2025-11", format="pdf")
    assert response.status_code == 503
    assert "does not exist" in response.json()["detail"]
    assert "format=html and csv need no browser" in response.json()["detail"]


@pytest.mark.anyio
@pytest.mark.parametrize("period", ["fy25", "2025-13", "1999", "latest"])
async def test_bad_period_is_422(db: Settings, period: str) -> None:
    response = await _get(db, f"/api/v1/reports/{period}")
    assert response.status_code == 422, response.text


@pytest.mark.slow
def test_cli_writes_a_pdf(db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMARTPLACE_INFLUX_URL", db.influx_url)
    monkeypatch.setenv("SMARTPLACE_INFLUX_DATABASE", db.influx_database)
    result = CliRunner().invoke(cli, ["report", "--period", "2025-11", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "smartplace-report-2025-11.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2
    assert "inputs sha256" in result.output


def test_cli_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, influx: InfluxServer,
                    settings: Settings) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMARTPLACE_INFLUX_URL", influx.url)
    monkeypatch.setenv("SMARTPLACE_INFLUX_DATABASE", settings.influx_database)
    bad = CliRunner().invoke(cli, ["report", "--period", "last-year"])
    assert bad.exit_code == 2
    assert "--period" in bad.output
    monkeypatch.setenv("SMARTPLACE_CHROMIUM_PATH", str(tmp_path / "none"))
    pdf = CliRunner().invoke(cli, ["report", "--period", "2025-11", "--format", "pdf"])
    assert pdf.exit_code == 1
    assert "does not exist" in pdf.output
    assert "Traceback" not in bad.output + pdf.output
