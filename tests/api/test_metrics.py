"""The API's Prometheus metrics and the naming conventions of both processes' metrics."""

from __future__ import annotations

import platform
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.main import create_app
from ingest.metrics import IngestMetrics, IngestStats
from sensors.settings import Settings
from sensors.version import smartplace_version
from smartplace.servers import free_port
from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio

# Prometheus naming (https://prometheus.io/docs/practices/naming/): base units in the
# plural as the last word, _total on counters, _info for build information.
UNIT_SUFFIXES = ("_total", "_seconds", "_bytes", "_lines", "_messages", "_streams", "_info",
                 "_subscribed", "_created", "_bucket", "_count", "_sum")


def _settings(api_keys: SecretStr | None = None) -> Settings:
    return Settings(_env_file=None, influx_url=f"http://127.0.0.1:{free_port()}",
                    rollup_interval_s=0, api_keys=api_keys)


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_request_latency_by_route_template_streams_rollups_and_build() -> None:
    app = create_app(_settings())
    async with api_client(app) as client:
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        for sensor in ("aq-a6-roadside", "mw-elec-main", "nobody"):
            assert (await client.get(f"/api/v1/sensors/{sensor}")).status_code == 503
        assert (await client.get("/no/such/page")).status_code == 404
        hub = app.state.live_hub
        subscription = hub.subscribe()
        await app.state.rollups.run_once()  # InfluxDB is not there: a failed run
        response = await client.get("/metrics")
        hub.unsubscribe(subscription)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    counts = {(labels["route"], labels["status"]): value for labels, value
              in samples["smartplace_api_request_duration_seconds_count"]}
    # One series per route template, never per sensor id a client sent.
    assert counts[("/api/v1/sensors/{sensor_id}", "5xx")] == 3
    assert counts[("/api/v1/auth/me", "2xx")] == 1
    assert counts[("unmatched", "4xx")] == 1
    assert not any("nobody" in route for route, _ in counts)
    assert samples["smartplace_api_live_streams"] == [({}, 1.0)]
    assert samples["smartplace_api_rollup_runs_total"] == [({"outcome": "failed"}, 1.0)]
    assert samples["smartplace_api_rollup_duration_seconds_count"] == [({}, 1.0)]
    (labels, value), = samples["smartplace_build_info"]
    assert value == 1.0
    assert labels["version"] == smartplace_version()
    assert labels["component"] == "api"


async def test_metrics_need_a_key_when_keys_are_set() -> None:
    app = create_app(_settings(api_keys=SecretStr("prom:viewer:scrape-secret-1")))
    async with api_client(app) as client:
        assert (await client.get("/metrics")).status_code == 401
        answer = await client.get("/metrics",
                                  headers={"Authorization": "Bearer scrape-secret-1"})
        assert answer.status_code == 200
        assert "smartplace_build_info" in answer.text


async def test_every_metric_name_carries_its_unit() -> None:
    app = create_app(_settings())
    ingest = IngestMetrics(IngestStats(), queue_depth=lambda: 0, subscribed=lambda: True)
    names = set()
    for registry in (app.state.metrics.registry, ingest.registry):
        for family in registry.collect():
            for sample in family.samples:
                names.add(sample.name)
    assert "smartplace_ingest_batch_lines_bucket" in names
    (build,) = [sample for family in ingest.registry.collect() for sample in family.samples
                if sample.name == "smartplace_build_info"]
    assert build.labels == {"component": "ingest", "version": smartplace_version(),
                            "python_version": platform.python_version()}
    assert "smartplace_ingest_queue_messages" in names
    for name in sorted(names):
        assert name.startswith("smartplace_"), name
        assert name.endswith(UNIT_SUFFIXES), f"{name} has no unit suffix"
        assert re.fullmatch(r"[a-z_]+", name), name
