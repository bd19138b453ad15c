"""Real mosquitto and influxd for the test session; a unique database and prefix per test.

When ``CI`` is set, a missing server binary fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.service import IngestService
from sensors.settings import Settings
from smartplace.servers import InfluxServer, MosquittoServer, find_binary, free_port


def _require(binary: str) -> None:
    if find_binary(binary) is None:
        message = f"{binary} is not installed (run `make test`, which installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A real broker on a free loopback port for the whole session."""
    _require("mosquitto")
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A real InfluxDB 1.x on a free loopback port for the whole session."""
    _require("influxd")
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def unique_name(request: pytest.FixtureRequest) -> str:
    """A slug made of the test's name and a random token."""
    base = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    return f"{base}_{secrets.token_hex(4)}"


@pytest.fixture
def settings(request: pytest.FixtureRequest, mosquitto: MosquittoServer,
             influx: InfluxServer, tmp_path: Path) -> Settings:
    """Settings pointing at the session's servers, isolated by database and topic prefix."""
    name = unique_name(request)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=mosquitto.url,
        influx_url=influx.url,
        influx_database=f"test_{name}",
        topic_prefix=f"test/{name.replace('_', '-')}",
        spool_dir=tmp_path / "spool",
        ingest_client_id=f"ingest-{name}"[:60],
        ingest_flush_interval_s=0.05,
        ingest_stats_interval_s=0.5,
        metrics_port=free_port(),
        # The Sensor.Community receiver listens only in the tests that ask for it.
        ingest_http_port=0,
        log_format="text",
    )


@pytest.fixture
def ingest_thread(settings: Settings) -> Iterator[Callable[..., IngestService]]:
    """Start an in-process ingestor (with optional setting overrides); stopped at teardown."""
    started: list[tuple[IngestService, threading.Thread]] = []

    def start(**overrides: object) -> IngestService:
        service = IngestService(settings.model_copy(update=overrides))
        thread = threading.Thread(target=service.run, name="ingest", daemon=True)
        thread.start()
        assert service.consumer.subscribed.wait(15), "ingestor did not subscribe"
        started.append((service, thread))
        return service

    yield start
    for service, thread in started:
        service.stop()
        thread.join(30)
        assert not thread.is_alive(), "ingestor did not stop"
