"""``/public`` when nothing is published and when InfluxDB does not answer (the page with
figures is tested in Chromium: tests/dashboard/test_public_and_docs.py)."""

from __future__ import annotations

import pytest

from api.main import create_app
from sensors.settings import Settings
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import api_client, create_database

pytestmark = pytest.mark.anyio


@pytest.mark.integration
async def test_nothing_published_says_so(settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    app = create_app(settings.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app) as client:
        answer = await client.get("/public")
    assert answer.status_code == 200
    assert "Nothing published yet" in answer.text
    assert 'id="air"' not in answer.text
    assert 'id="carbon"' not in answer.text


async def test_without_influxdb_residents_get_a_page_not_an_error_body() -> None:
    app = create_app(Settings(
        _env_file=None, influx_url=f"http://127.0.0.1:{free_port()}", rollup_interval_s=0,
        public_sites="all", public_carbon=True))
    async with api_client(app) as client:
        answer = await client.get("/public")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["retry-after"] == "60"
    assert "Figures unavailable right now" in answer.text
    assert "Nothing published yet" not in answer.text
