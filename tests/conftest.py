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
from smartplace.broker_auth import ingest_account, publisher_account
from smartplace.servers import InfluxServer, MosquittoServer, find_binary, free_port
from tests.helpers import FORMAT_TOPICS, PUBLISHER, TEST_ROOT, register_publisher


def _require(binary: str) -> None:
    if find_binary(binary) is None:
        message = f"{binary} is not installed (run `make test`, which installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A real broker on a free loopback port for the whole session, locked down as shipped:
    accounts and an ACL. Tests publish as the publisher account (``publisher_url``); each
    test's ingestor gets an account of its own (``settings``)."""
    _require("mosquitto")
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto"),
                             accounts=[publisher_account(PUBLISHER, TEST_ROOT, FORMAT_TOPICS)],
                             prefixes=[f"{TEST_ROOT}/+"])
    server.start()
    register_publisher(server.port, server.url_for(PUBLISHER))
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
    prefix = f"{TEST_ROOT}/{name.replace('_', '-')}"
    client_id = f"ingest-{name}"[:60]
    # The broker uses the user name as the client id: the ingestor's account is its id.
    mosquitto.add_account(ingest_account(client_id, prefix, FORMAT_TOPICS))
    return Settings(
        _env_file=None,
        mqtt_url=mosquitto.url_for(client_id),
        influx_url=influx.url,
        influx_database=f"test_{name}",
        topic_prefix=prefix,
        spool_dir=tmp_path / "spool",
        ingest_client_id=client_id,
        ingest_flush_interval_s=0.05,
        ingest_stats_interval_s=0.5,
        metrics_port=free_port(),
        # The Sensor.Community receiver listens only in the tests that ask for it.
        ingest_http_port=0,
        # Tests write a reading and ask at once: the last-seen index reads new readings on
        # every request (its refresh interval is tested in tests/api/network/).
        last_seen_refresh_s=0,
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
