"""TLS with a private CA (made by openssl), mutual TLS, and failures that say what to set.

The broker and influxd run with certificates of the test CA; the ingestor trusts it through
SMARTPLACE_MQTT_CA_FILE / SMARTPLACE_INFLUX_CA_FILE, presents a client certificate where
the broker requires one, and names the setting when verification fails.
"""

from __future__ import annotations

import signal
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from api.main import create_app
from sensors.settings import Settings
from smartplace.broker_auth import ingest_account, publisher_account
from smartplace.server_config import ServerTls
from smartplace.servers import InfluxServer, MosquittoServer
from tests.api.helpers import api_client
from tests.helpers import eventually, influx_count, ingest_ready_answer, publish_all
from tests.ingest.helpers import IngestProcess, metrics
from tests.tls import Pki, make_pki

pytestmark = pytest.mark.integration

BODY = orjson.dumps({"ts": 1795687200000, "carrier": "gas", "energy_kwh": 2.5,
                     "interval_s": 60})


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _broker(folder: Path, settings: Settings, pki: Pki,
            require_client_cert: bool) -> MosquittoServer:
    prefix = settings.topic_prefix
    return MosquittoServer(
        folder, accounts=[ingest_account(settings.ingest_client_id, prefix),
                          publisher_account("pub", prefix)], prefixes=[prefix],
        tls=ServerTls(pki.ca, pki.server_cert, pki.server_key, require_client_cert))


@pytest.fixture
def tls_broker(settings: Settings, pki: Pki, tmp_path: Path) -> Iterator[MosquittoServer]:
    broker = _broker(tmp_path / "broker", settings, pki, require_client_cert=False)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _broker_error(proc: IngestProcess) -> str:
    try:
        return str(httpx.get(f"http://127.0.0.1:{proc.settings.metrics_port}/ready",
                             timeout=5).json().get("broker_error", ""))
    except httpx.HTTPError:
        return ""


def test_the_broker_is_trusted_through_the_ca_file(
        settings: Settings, tls_broker: MosquittoServer, pki: Pki,
        ingest_process: Callable[..., IngestProcess]) -> None:
    proc = ingest_process(mqtt_url=tls_broker.url_for(settings.ingest_client_id),
                          mqtt_ca_file=pki.ca)
    proc.start()
    publish_all(tls_broker.url_for("pub"), [(f"{settings.topic_prefix}/energy/s/m", BODY)],
                ca_file=pki.ca)
    eventually(lambda: influx_count(settings.influx_url, settings.influx_database, "energy",
                                    "energy_kwh") == 1, message="stored over TLS")
    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0


def test_a_certificate_from_another_ca_is_reported_naming_the_setting(
        settings: Settings, tls_broker: MosquittoServer, pki: Pki,
        ingest_process: Callable[..., IngestProcess]) -> None:
    proc = ingest_process(mqtt_url=tls_broker.url_for(settings.ingest_client_id),
                          mqtt_ca_file=pki.other_ca)
    proc.start_unchecked()
    error = eventually(lambda: _broker_error(proc), 20, message="the TLS failure reported")
    assert "TLS verification of the broker" in error
    assert "SMARTPLACE_MQTT_CA_FILE" in error
    assert "SMARTPLACE_MQTT_CA_FILE" in proc.log()
    assert metrics(proc.settings)["smartplace_ingest_mqtt_subscribed"] == 0
    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0


def test_mutual_tls_needs_the_client_certificate(
        settings: Settings, pki: Pki, tmp_path: Path,
        ingest_process: Callable[..., IngestProcess]) -> None:
    broker = _broker(tmp_path / "mtls", settings, pki, require_client_cert=True)
    broker.start()
    try:
        url = broker.url_for(settings.ingest_client_id)
        without = ingest_process(mqtt_url=url, mqtt_ca_file=pki.ca)
        without.start_unchecked()
        error = eventually(lambda: _broker_error(without), 20,
                           message="refused without a client certificate")
        assert "SMARTPLACE_MQTT_CLIENT_CERT" in error
        without.signal(signal.SIGTERM)
        assert without.wait() == 0
        with_cert = ingest_process(mqtt_url=url, mqtt_ca_file=pki.ca,
                                   mqtt_client_cert=pki.client_cert,
                                   mqtt_client_key=pki.client_key, metrics_port=0)
        with_cert.start_unchecked()
        eventually(lambda: "connected to broker" in with_cert.log(), 20,
                   message="connected with the client certificate")
        with_cert.signal(signal.SIGTERM)
        assert with_cert.wait() == 0
    finally:
        broker.stop()


@pytest.fixture
def https_influx(pki: Pki, tmp_path: Path) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path / "influx",
                          tls=ServerTls(pki.ca, pki.server_cert, pki.server_key))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_influxdb_over_https_with_the_private_ca(
        settings: Settings, https_influx: InfluxServer, pki: Pki,
        ingest_process: Callable[..., IngestProcess]) -> None:
    wrong = ingest_process(influx_url=https_influx.url, influx_ca_file=pki.other_ca)
    wrong.start()
    answer = eventually(
        lambda: ingest_ready_answer(settings.metrics_port, 503, "SMARTPLACE_INFLUX_CA_FILE"),
        20, message="the TLS failure reported")
    assert "TLS verification of InfluxDB failed" in answer.json()["store_error"]
    wrong.signal(signal.SIGTERM)
    assert wrong.wait(40) == 0
    right = ingest_process(influx_url=https_influx.url, influx_ca_file=pki.ca)
    right.start()
    publish_all(_publisher(settings), [(f"{settings.topic_prefix}/energy/s/m", BODY)])
    trust = ssl.create_default_context(cafile=str(pki.ca))
    eventually(lambda: httpx.get(f"{https_influx.url}/query", verify=trust, params={
        "db": settings.influx_database, "q": "SELECT count(energy_kwh) FROM energy"},
        timeout=5).json()["results"][0].get("series"), 20, message="stored over HTTPS")
    right.signal(signal.SIGTERM)
    assert right.wait() == 0


def _publisher(settings: Settings) -> str:
    from tests.helpers import publisher_url

    return publisher_url(settings.mqtt_url)


@pytest.mark.anyio
async def test_the_api_names_the_ca_setting_when_influxdb_is_not_trusted(
        settings: Settings, https_influx: InfluxServer, pki: Pki) -> None:
    for ca, status in ((pki.other_ca, "degraded"), (pki.ca, "ok")):
        app = create_app(settings.model_copy(update={
            "influx_url": https_influx.url, "influx_ca_file": ca, "rollup_interval_s": 0}))
        async with api_client(app) as client:
            body = (await client.get("/health")).json()
        assert body["status"] == status, body
        if status == "degraded":
            assert "SMARTPLACE_INFLUX_CA_FILE" in body["influxdb"]["error"]
